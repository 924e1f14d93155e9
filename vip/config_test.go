package vip

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := DefaultConfig(netip.MustParsePrefix("198.18.1.100/32"), "eth0")
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings, one per expected problem; nil = valid
	}{
		{"default", func(*Config) {}, nil},
		{"label", func(c *Config) { c.Label = "eth0:1" }, nil},
		{"label alnum", func(c *Config) { c.Label = "eth0:vip1" }, nil},
		{"subnet prefix", func(c *Config) { c.Addr = netip.MustParsePrefix("198.18.1.100/24") }, nil},
		{"ipv6", func(c *Config) { c.Addr = netip.MustParsePrefix("fd00:198:18::100/128") }, nil},
		{"forever", func(c *Config) { c.Lifetime = 0 }, nil},
		{"missing vip", func(c *Config) { c.Addr = netip.Prefix{} }, []string{"vip: vip: missing"}},
		{"missing interface", func(c *Config) { c.Interface = "" }, []string{"interface: missing"}},
		{"long interface", func(c *Config) { c.Interface = "eth0123456789012" }, []string{"interface:"}},
		{"label other if", func(c *Config) { c.Label = "eth1:1" }, []string{"label:"}},
		{"label no suffix", func(c *Config) { c.Label = "eth0:" }, []string{"label:"}},
		{"label dash", func(c *Config) { c.Label = "eth0:a-b" }, []string{"label:"}},
		{"label too long", func(c *Config) { c.Label = "eth0:0123456789a" }, []string{"label:"}},
		{"label v6", func(c *Config) {
			c.Addr = netip.MustParsePrefix("fd00:198:18::100/128")
			c.Label = "eth0:1"
		}, []string{"label:"}},
		{"multicast", func(c *Config) { c.Addr = netip.MustParsePrefix("239.1.1.1/32") }, []string{"vip:"}},
		{"network address", func(c *Config) { c.Addr = netip.MustParsePrefix("198.18.1.0/24") }, []string{"prefix:"}},
		{"broadcast address", func(c *Config) { c.Addr = netip.MustParsePrefix("198.18.1.255/24") }, []string{"prefix:"}},
		{"slash zero", func(c *Config) { c.Addr = netip.MustParsePrefix("198.18.1.100/0") }, []string{"prefix:"}},
		{"sub-second lifetime", func(c *Config) { c.Lifetime = 500 * time.Millisecond }, []string{"lifetime:"}},
		{"fractional lifetime", func(c *Config) { c.Lifetime = 1500 * time.Millisecond }, []string{"lifetime:"}},
		{"everything", func(c *Config) {
			c.Interface = ""
			c.Label = "x"
			c.AnnounceCount = -1
			c.AnnounceInterval = -1
			c.ProbeWindow = -1
			c.AnnounceRefresh = -1
			c.Lifetime = -1
		}, []string{"interface:", "label:", "announce_count:", "announce_interval:", "probe_window:", "announce_refresh:", "lifetime:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"198.18.1.100":         "198.18.1.100/32",
		"198.18.1.100/24":      "198.18.1.100/24",
		"fd00:198:18::100":     "fd00:198:18::100/128",
		"fd00:198:18::100/64":  "fd00:198:18::100/64",
		"not-an-address":       "",
		"198.18.1.100/33":      "",
		"198.18.1.300":         "",
		"fd00:198:18::100/129": "",
	} {
		got, err := ParseAddr(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseAddr(%q) = %v, want error", in, got)
			}
			continue
		}
		if err != nil || got.String() != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"198.18.1.0/24":    "198.18.1.255",
		"198.18.0.0/15":    "198.19.255.255",
		"198.18.1.96/27":   "198.18.1.127",
		"fd00:198:18::/48": "fd00:198:18:ffff:ffff:ffff:ffff:ffff",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestEnsureEvery(t *testing.T) {
	c := Config{Lifetime: 2 * time.Second}
	if got := c.EnsureEvery(); got != 500*time.Millisecond {
		t.Errorf("EnsureEvery() = %v, want 500ms", got)
	}
	if got := (Config{}).EnsureEvery(); got != 0 {
		t.Errorf("EnsureEvery() with Lifetime 0 = %v, want 0", got)
	}
}

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig(netip.MustParsePrefix("198.18.1.100/32"), "eth0").Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckHostAddrs(t *testing.T) {
	host := []netip.Prefix{netip.MustParsePrefix("198.18.1.1/24"), netip.MustParsePrefix("fe80::1/64")}
	tests := []struct {
		name string
		vip  string
		own  []netip.Prefix
		want []string // substrings, one per expected problem; nil = fine
	}{
		{"host route", "198.18.1.100/32", host, nil},
		{"same subnet", "198.18.1.100/24", host, nil},
		{"stale copy of ours", "198.18.1.100/32", append(host, netip.MustParsePrefix("198.18.1.100/32")), nil},
		{"own address", "198.18.1.1/32", host, []string{"vip: 198.18.1.1 is the interface's own address 198.18.1.1/24 on eth0"}},
		{"swallows the host", "198.18.1.100/16", host, []string{"vip: prefix: 198.18.1.100/16 covers the interface's address 198.18.1.1/24"}},
		{"no ipv4", "198.18.1.100/32", host[1:], []string{"vip: interface: eth0 has no IPv4 address"}},
		{"other subnet", "198.18.3.100/24", host, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig(netip.MustParsePrefix(tt.vip), "eth0")
			err := c.CheckHostAddrs(tt.own)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckHostAddrs = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckHostAddrs = nil, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("CheckHostAddrs = %q, want %d problems %q", lines, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}
