package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failover-ha/failover/daemon/config"
)

// fakeMachine is a host with eth0 and eth1 on the lab's two LANs (host
// number n), an eth2 without carrier, and the given serial ports.
func fakeMachine(name string, n byte, serial ...string) func() (machine, error) {
	return func() (machine, error) {
		return machine{
			hostname: name,
			nics: []machineNIC{
				{name: "eth0", carrier: true, addrs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 1, n}), 24)}},
				{name: "eth1", carrier: true, addrs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 2, n}), 24)}},
				{name: "eth2"},
			},
			serial: serial,
		}, nil
	}
}

func runSetupFlags(t *testing.T, m func() (machine, error), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), append([]string{"setup"}, args...), Env{Stdout: &out, Stderr: &errb, machine: m})
	return code, out.String(), errb.String()
}

// loadWritten loads what setup wrote into dir exactly as failoverd does.
func loadWritten(t *testing.T, dir string) *config.Config {
	t.Helper()
	file := filepath.Join(dir, "failover.toml")
	cfg, err := config.Load(file)
	if err == nil {
		err = config.CheckKeyFile(file, cfg)
	}
	if err != nil {
		t.Fatalf("what setup wrote does not pass check-config: %v", err)
	}
	for _, f := range []string{"failover.toml", "failover.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", f, st.Mode().Perm())
		}
	}
	return cfg
}

func TestSetupFlags(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runSetupFlags(t, fakeMachine("n1", 1), "--yes", "--out", dir, "--json",
		"--vip", "198.18.1.100/24", "--label", "eth0:1", "--node", "n1", "--priority", "100",
		"--peer", "n2=50", "--peer", "n3=20", "--service", "web", "--cluster", "prod",
		"--path", "eth0=multicast,198.18.1.2,198.18.1.3", "--path", "eth1=198.18.2.2,198.18.2.3:7410", "--preset", "fast")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	cfg := loadWritten(t, dir)
	if cfg.Cluster != "prod" || cfg.Node != "n1" || len(cfg.Peers) != 2 || len(cfg.Paths) != 2 || cfg.Preset != "fast" || cfg.From["timers.interval"] != "" {
		t.Fatalf("config: %+v", cfg)
	}
	s := cfg.Services[0]
	if s.Name != "web" || s.VIP.String() != "198.18.1.100/24" || s.Interface != "eth0" || s.Label != "eth0:1" ||
		s.Priority["n1"] != 100 || s.Priority["n2"] != 50 || s.Priority["n3"] != 20 {
		t.Errorf("service: %+v", s)
	}
	if p := cfg.Paths[0]; p.Multicast != defaultGroup || strings.Join(p.Unicast, " ") != "198.18.1.2:7405 198.18.1.3:7405" {
		t.Errorf("eth0 path: %+v", p)
	}
	if p := cfg.Paths[1]; p.Multicast != "" || strings.Join(p.Unicast, " ") != "198.18.2.2:7405 198.18.2.3:7410" {
		t.Errorf("eth1 path: %+v", p)
	}
	var res SetupResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if !res.NewKey || res.Config != filepath.Join(dir, "failover.toml") || len(res.Peers) != 2 {
		t.Errorf("--json: %+v", res)
	}
	// n3's line names n1 and n2 as its peers, with their addresses on each NIC.
	n3 := strings.Join(res.Peers["n3"], "\n")
	for _, want := range []string{"--node n3 --priority 20 --peer n1=100 --peer n2=50",
		"--path eth0=multicast,198.18.1.1,198.18.1.2", "--path eth1=198.18.2.1,198.18.2.2",
		"root@198.18.1.3:", "--preset fast --key "} {
		if !strings.Contains(n3, want) {
			t.Errorf("n3's lines lack %q:\n%s", want, n3)
		}
	}
}

func TestSetupDefaultsFromTheMachine(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runSetupFlags(t, fakeMachine("n1.example.net", 1), "--yes", "--out", dir, "--vip", "198.18.1.100", "--peer", "n2")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	cfg := loadWritten(t, dir)
	// The short host name; every NIC with carrier and an address, multicast; no serial cable unasked.
	var paths []string
	for _, p := range cfg.Paths {
		paths = append(paths, p.Kind+":"+p.Interface+":"+p.Multicast)
	}
	if cfg.Node != "n1" || strings.Join(paths, " ") != "udp:eth0:"+defaultGroup+" udp:eth1:"+defaultGroup || cfg.Preset != "lan" ||
		cfg.Services[0].Interface != "eth0" || cfg.Services[0].VIP.String() != "198.18.1.100/32" || cfg.Services[0].Priority["n2"] != 50 {
		t.Errorf("config from defaults: node %s, paths %s, service %+v", cfg.Node, paths, cfg.Services[0])
	}
	if !strings.Contains(out, "On n2:") || !strings.Contains(out, "--node n2 --priority 50 --peer n1=100 --path eth0 --path eth1") {
		t.Errorf("peer lines:\n%s", out)
	}
}

func TestSetupFlagsRefused(t *testing.T) {
	existing := t.TempDir()
	if code, out, errs := runSetupFlags(t, fakeMachine("n1", 1), "--yes", "--out", existing, "--vip", "198.18.1.100", "--peer", "n2"); code != 0 {
		t.Fatalf("setup: exit %d\n%s%s", code, out, errs)
	}
	before, _ := os.ReadFile(filepath.Join(existing, "failover.key"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no vip", []string{"--peer", "n2"}, "--vip: missing"},
		{"vip is own address", []string{"--vip", "198.18.2.1", "--peer", "n2"}, "--vip: 198.18.2.1 is this host's own address on eth1"},
		{"vip not unicast", []string{"--vip", "239.1.1.1", "--peer", "n2"}, "--vip: 239.1.1.1 is not a unicast address"},
		{"prefix swallows the host", []string{"--vip", "198.18.1.100/16", "--peer", "n2"}, "--prefix: prefix: 198.18.1.100/16 covers the interface's address 198.18.1.1/24 on eth0"},
		{"network address", []string{"--vip", "198.18.1.0", "--prefix", "24", "--peer", "n2"}, "network address"},
		{"no such interface", []string{"--vip", "198.18.1.100", "--interface", "eth9", "--peer", "n2"}, `--interface: this host has no interface "eth9" (it has: eth0 eth1 eth2)`},
		{"interface without ipv4", []string{"--vip", "198.18.1.100", "--interface", "eth2", "--peer", "n2"}, "--interface: interface: eth2 has no IPv4 address"},
		{"bad label", []string{"--vip", "198.18.1.100", "--label", "eth1:1", "--peer", "n2"}, "--label: label:"},
		{"no peer", []string{"--vip", "198.18.1.100"}, "--peer: missing"},
		{"peer is this node", []string{"--vip", "198.18.1.100", "--node", "n1", "--peer", "n1"}, `--peer: "n1" is this node`},
		{"priority", []string{"--vip", "198.18.1.100", "--peer", "n2", "--priority", "256"}, `--priority: "256" is not a priority 0..255`},
		{"peer address is the vip", []string{"--vip", "198.18.1.100", "--peer", "n2", "--path", "eth0=198.18.1.100"}, "198.18.1.100 is the VIP: give n2's own address"},
		{"peer address is ours", []string{"--vip", "198.18.1.100", "--peer", "n2", "--path", "eth0=198.18.2.1"}, "198.18.2.1 is this host's address (on eth1), not n2's"},
		{"one address for two peers", []string{"--vip", "198.18.1.100", "--peer", "n2", "--peer", "n3", "--path", "eth0=198.18.1.2"}, "1 unicast address(es) for 2 peer(s)"},
		{"vip nic without heartbeats", []string{"--vip", "198.18.1.100", "--peer", "n2", "--path", "eth1"}, "the VIP's interface eth0 must carry heartbeats too"},
		{"serial port missing", []string{"--vip", "198.18.1.100", "--peer", "n2", "--path", "eth0", "--path", "/dev/ttyNOPE9"}, "/dev/ttyNOPE9 does not exist (serial ports here: none)"},
		{"serial port not a device", []string{"--vip", "198.18.1.100", "--peer", "n2", "--path", "eth0", "--path", existing}, "is not a serial device"},
		{"bad key file", []string{"--vip", "198.18.1.100", "--peer", "n2", "--key", filepath.Join(existing, "failover.toml")}, "--key: key file"},
		{"json without yes", []string{"--json"}, "--json needs --yes"},
		{"unknown preset", []string{"--vip", "198.18.1.100", "--peer", "n2", "--preset", "slow"}, `--preset: "slow" is not a preset: want fast, lan or wan`},
		{"preset over the cpu budget", []string{"--vip", "198.18.1.100", "--peer", "n2", "--peer", "n3", "--peer", "n4", "--peer", "n5",
			"--peer", "n6", "--peer", "n7", "--peer", "n8", "--peer", "n9", "--peer", "n10", "--peer", "n11", "--peer", "n12", "--peer", "n13",
			"--path", "eth0", "--path", "eth1", "--path", "eth2", "--preset", "fast"},
			`--preset: timers.interval: 15ms would cost about 52ms of CPU a second`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--out", dir, "--node", "n1"}
			if tt.name != "json without yes" {
				args = append(args, "--yes")
			}
			code, out, errs := runSetupFlags(t, fakeMachine("n1", 1), append(args, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q (stdout %q)", code, errs, tt.want, out)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("refused, yet wrote %d file(s)", len(ents))
			}
		})
	}
	t.Run("existing files", func(t *testing.T) {
		code, _, errs := runSetupFlags(t, fakeMachine("n1", 1), "--yes", "--out", existing, "--vip", "198.18.1.100", "--peer", "n2")
		if code != ExitUsage || !strings.Contains(errs, "exist(s); give --force to replace") {
			t.Errorf("exit %d, stderr %q; want 2 and a refusal to replace", code, errs)
		}
		if after, _ := os.ReadFile(filepath.Join(existing, "failover.key")); !bytes.Equal(before, after) {
			t.Error("the key file was replaced without --force")
		}
		code, _, errs = runSetupFlags(t, fakeMachine("n1", 1), "--yes", "--force", "--out", existing, "--vip", "198.18.1.100", "--peer", "n2")
		if after, _ := os.ReadFile(filepath.Join(existing, "failover.key")); code != 0 || bytes.Equal(before, after) {
			t.Errorf("--force: exit %d (%s), key replaced %t", code, errs, !bytes.Equal(before, after))
		}
	})
}

func TestSetupInputEnds(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"setup", "--out", dir}, Env{
		Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("prod\nweb\n"), machine: fakeMachine("n1", 1)})
	if code != ExitUsage || !strings.Contains(errb.String(), "input ended before the questions did; nothing written") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("wrote %d file(s) after the input ended", len(ents))
	}
}

func TestParsePathSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    pathSpec
		wantErr string
	}{
		{in: "eth0", want: pathSpec{nic: "eth0", multicast: true}},
		{in: "eth0=multicast", want: pathSpec{nic: "eth0", multicast: true}},
		{in: "eth1=198.18.2.2,198.18.2.3:7410", want: pathSpec{nic: "eth1", unicast: []netip.AddrPort{
			netip.MustParseAddrPort("198.18.2.2:7405"), netip.MustParseAddrPort("198.18.2.3:7410")}}},
		{in: "/dev/ttyS0", want: pathSpec{device: "/dev/ttyS0"}},
		{in: "/dev/ttyS1=9600@n3", want: pathSpec{device: "/dev/ttyS1", baud: 9600, peer: "n3"}},
		{in: "/dev/ttyS1=fast", wantErr: `baud "fast"`},
		{in: "eth0=n2", wantErr: `"n2" is not an IP address`},
		{in: "=1.2.3.4", wantErr: "want NIC"},
	}
	for _, tt := range tests {
		got, err := parsePathSpec(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parsePathSpec(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.nic != tt.want.nic || got.multicast != tt.want.multicast || got.device != tt.want.device ||
			got.baud != tt.want.baud || got.peer != tt.want.peer || len(got.unicast) != len(tt.want.unicast) {
			t.Errorf("parsePathSpec(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got.unicast {
			if got.unicast[i] != tt.want.unicast[i] {
				t.Errorf("parsePathSpec(%q) unicast %v, want %v", tt.in, got.unicast, tt.want.unicast)
			}
		}
	}
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:     `"plain"`,
		`a"b\c`:     `"a\"b\\c"`,
		"tab\there": `"tab\u0009here"`,
	} {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
	if got := tomlKey("n1.a"); got != `"n1.a"` {
		t.Errorf("tomlKey(n1.a) = %s", got)
	}
}
