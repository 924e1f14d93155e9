package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExampleConfigParses(t *testing.T) {
	c, err := Load("../../failover.toml.example")
	if err != nil {
		t.Fatalf("failover.toml.example: %v", err)
	}
	if c.Node != "n1" || len(c.Peers) != 1 || len(c.Paths) != 3 || len(c.Services) != 1 {
		t.Fatalf("unexpected shape: %+v", c)
	}
	want := Timers{Interval: 20 * time.Millisecond, Deadtime: 80 * time.Millisecond, Startup: 240 * time.Millisecond,
		Damping: 10 * time.Second, FlapLimit: 3, CarrierSettle: time.Second}
	if diff := cmp.Diff(want, c.Timers); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
	s := c.Services[0]
	if s.VIP != netip.MustParsePrefix("198.18.1.100/32") || !s.Failback || s.Lifetime != 2*time.Second ||
		s.AnnounceCount != 3 || s.AnnounceRefresh != 10*time.Second || s.ProbeWindow != 20*time.Millisecond {
		t.Errorf("service defaults: %+v", s)
	}
	if p := c.Paths[2]; p.Kind != "serial" || p.Baud != 115200 || p.Device != "/dev/ttyS0" {
		t.Errorf("serial path: %+v", p)
	}
	if p := c.Paths[0]; p.Port != DefaultPort || p.Name != "eth0" {
		t.Errorf("udp path: %+v", p)
	}
	if c.ControlSocket != "/run/failover.sock" || c.LogFormat != "text" {
		t.Errorf("globals: %+v", c)
	}
}

// base is a minimal valid config; tests append to it or replace lines.
const base = `cluster = "lab"
node = "n1"
insecure_no_auth = true

[[peer]]
name = "n2"

[[path]]
kind = "udp"
interface = "eth0"
unicast = ["198.18.1.2:7405"]

[[service]]
name = "web"
vip = "198.18.1.100/24"
interface = "eth0"
priority = {n1 = 100, n2 = 50}
`

func TestConfigBase(t *testing.T) {
	c, err := Parse("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Paths[0].Name != "eth0" || c.Services[0].VIP.Bits() != 24 {
		t.Errorf("%+v", c)
	}
}

func TestDampingOff(t *testing.T) {
	c, err := Parse("f.toml", []byte(base+"\n[timers]\ndamping = \"0s\"\nflap_limit = 0\ncarrier_settle = \"0s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Core().Damping; d.Period != 0 || d.Settle != 0 {
		t.Errorf("core damping %+v, want off", d)
	}
}

// Unless given, damping is at least 2 x deadtime: a slow cluster's hold
// must outlast its deadtime.
func TestDampingFollowsDeadtime(t *testing.T) {
	c, err := Parse("f.toml", []byte(base+"\n[timers]\ninterval = \"100ms\"\ndeadtime = \"20s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Timers.Damping != 40*time.Second {
		t.Errorf("damping %v with deadtime 20s, want 40s", c.Timers.Damping)
	}
}

func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  string // replaced in base ("" = append new)
		new  string
		want []string
	}{
		{"unknown key", "", "\n[timers]\nintervall = \"10ms\"\n",
			[]string{`f.toml:20: timers.intervall: unknown key (did you mean "interval"?)`}},
		{"unknown key in array table", `kind = "udp"`, "kind = \"udp\"\nprot = 7405",
			[]string{`f.toml:10: path.prot: unknown key (did you mean "port"?)`}},
		{"bad duration", "", "\n[timers]\ndeadtime = \"100\"\n",
			[]string{`f.toml:20: timers.deadtime: "100" is not a duration`}},
		{"deadtime too short", "", "\n[timers]\ninterval = \"50ms\"\n",
			[]string{`f.toml:19: timers.deadtime: 80ms must be more than 2 x interval (100ms)`}},
		{"damping", "", "\n[timers]\ndamping = \"150ms\"\nflap_limit = 1\ncarrier_settle = \"2m\"\n",
			[]string{
				`f.toml:20: timers.damping: 150ms must be 0 (off) or at least 2 x deadtime (160ms)`,
				`f.toml:21: timers.flap_limit: 1 is out of range 2..100`,
				`f.toml:22: timers.carrier_settle: 2m0s is over a minute`,
			}},
		{"vip is a host address", `vip = "198.18.1.100/24"`, `vip = "198.18.1.2"`,
			[]string{`f.toml:15: service[0].vip: 198.18.1.2 is a peer's host address (in path[0].unicast)`}},
		{"unknown priority node", `{n1 = 100, n2 = 50}`, `{n1 = 100, n3 = 50}`,
			[]string{`f.toml:17: service[0].priority.n3: "n3" is neither this node nor a [[peer]]`}},
		{"service interface without path", `interface = "eth0"
priority`, `interface = "eth1"
priority`, []string{`f.toml:16: service[0].interface: "eth1" is not the interface of any UDP [[path]]`}},
		{"peer on no path", `unicast = ["198.18.1.2:7405"]`, "unicast = [\"198.18.1.2:7405\"]\npeers = []",
			[]string{`f.toml:6: peer[0].name: peer "n2" is on no path`}},
		{"duplicate peer", "", "\n[[peer]]\nname = \"n2\"\n",
			[]string{`f.toml:20: peer[1].name: peer "n2" listed twice`}},
		{"bad kind", `kind = "udp"`, `kind = "tcp"`,
			[]string{
				`f.toml:9: path[0].kind: "tcp": want "udp" or "serial"`,
				`f.toml:16: service[0].interface: "eth0" is not the interface of any UDP [[path]]`,
			}},
		{"serial without device", "", "\n[[path]]\nname = \"s0\"\nkind = \"serial\"\n",
			[]string{`f.toml:19: path[1].device: missing`}},
		{"no auth", "insecure_no_auth = true\n", "",
			[]string{`f.toml: key_file: missing`}},
		{"type error", `node = "n1"`, `node = 1`,
			[]string{`f.toml:2: node: want a string, got a number (durations and addresses are quoted`}},
		{"type error: bool", "insecure_no_auth = true\n", "insecure_no_auth = \"yes\"\n",
			[]string{`f.toml:3: insecure_no_auth: want true or false, got a string`}},
		{"type error: table", `node = "n1"`, "node = \"n1\"\ntimers = 5",
			[]string{`f.toml:3: timers: want a table, got a number`}},
		{"realtime_priority too high", "insecure_no_auth = true\n", "insecure_no_auth = true\nrealtime_priority = 100\n",
			[]string{`f.toml:4: realtime_priority: 100 is out of range 0..99`}},
		{"realtime_priority negative", "insecure_no_auth = true\n", "insecure_no_auth = true\nrealtime_priority = -1\n",
			[]string{`f.toml:4: realtime_priority: -1 is out of range 0..99`}},
		{"realtime_priority typo", "insecure_no_auth = true\n", "insecure_no_auth = true\nrealtime_prority = 5\n",
			[]string{`f.toml:4: realtime_prority: unknown key (did you mean "realtime_priority"?)`}},
		{"syntax error", `node = "n1"`, `node = "n1`,
			[]string{`f.toml:2: `}},
		{"several at once", `vip = "198.18.1.100/24"`, "vip = \"nope\"\nlable = \"x\"\nfailback_delay = \"soon\"",
			[]string{
				`f.toml:16: service.lable: unknown key (did you mean "label"?)`,
				`f.toml:15: service[0].vip: "nope" is not an IP address`,
				`f.toml:17: service[0].failback_delay: "soon" is not a duration`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := base + tc.new
			if tc.old != "" || tc.new == "" {
				if !strings.Contains(base, tc.old) {
					t.Fatalf("base lacks %q", tc.old)
				}
				text = strings.Replace(base, tc.old, tc.new, 1)
			}
			_, err := Parse("f.toml", []byte(text))
			if err == nil {
				t.Fatalf("accepted:\n%s", text)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i, lines[i], w)
				}
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Errorf("error is not a *Problem: %T", err)
			}
		})
	}
}

// TestSerialSendInterval: a serial path sends as often as one of our
// largest frames fits on its line, in whole ticks, and keeps at least 2.5
// of those intervals as its deadtime. The largest frame of this config
// (n1; n2 on eth0, eth1, serial0; service web) is 217 bytes sealed, 224 on
// the wire: 2240 bit times.
func TestSerialSendInterval(t *testing.T) {
	for _, tt := range []struct {
		baud     int
		confDead string        // timers.deadtime; "" = the default 80ms
		want     time.Duration // the serial path's send interval
		deadtime time.Duration // the serial path's deadtime in the core
	}{
		{115200, "", 20 * time.Millisecond, 80 * time.Millisecond},     // 19.4ms: one tick; the default deadtime
		{115200, "80ms", 20 * time.Millisecond, 80 * time.Millisecond}, // timers.deadtime holds
		{115200, "45ms", 20 * time.Millisecond, 50 * time.Millisecond}, // the 2.5-interval floor
		{57600, "", 40 * time.Millisecond, 100 * time.Millisecond},     // 38.9ms: two ticks
		{38400, "", 60 * time.Millisecond, 150 * time.Millisecond},     // 58.3ms: three ticks
		{9600, "", 240 * time.Millisecond, 600 * time.Millisecond},     // 233.3ms: twelve ticks
		{9600, "1s", 240 * time.Millisecond, 1000 * time.Millisecond},  // timers.deadtime holds
	} {
		timers := ""
		if tt.confDead != "" {
			timers = fmt.Sprintf("\n[timers]\ndeadtime = %q\n", tt.confDead)
		}
		text := base + timers + fmt.Sprintf(`
[[path]]
kind = "udp"
interface = "eth1"
unicast = ["198.18.2.2:7405"]

[[path]]
name = "serial0"
kind = "serial"
device = "/dev/ttyS0"
baud = %d
`, tt.baud)
		c, err := Parse("f.toml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.SendInterval(c.Paths[2]); got != tt.want {
			t.Errorf("%d baud, deadtime %q: send interval %v, want %v", tt.baud, tt.confDead, got, tt.want)
		}
		if got := c.SendInterval(c.Paths[0]); got != c.Timers.Interval {
			t.Errorf("udp: send interval %v, want the tick %v", got, c.Timers.Interval)
		}
		qc := c.Core()
		if got := qc.Paths[2].Deadtime; got != tt.deadtime {
			t.Errorf("%d baud, deadtime %q: serial deadtime %v, want %v", tt.baud, tt.confDead, got, tt.deadtime)
		}
		// UDP sends every tick (20ms) and has the same 2.5-interval floor.
		if got, want := qc.Paths[0].Deadtime, max(c.Timers.Deadtime, 50*time.Millisecond); got != want {
			t.Errorf("udp: deadtime %v, want %v (timers.deadtime %v)", got, want, c.Timers.Deadtime)
		}
		if err := qc.Validate(); err != nil {
			t.Errorf("%d baud: core config: %v", tt.baud, err)
		}
	}
}

// Everything peers must agree on moves the fingerprint, and what moves it
// is either in CoreTimers (named in a mismatch) or in its Rest hash.
func TestFingerprintCoversTimers(t *testing.T) {
	parse := func(t *testing.T, extra string) *Config {
		t.Helper()
		c, err := Parse("f.toml", []byte(base+extra))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ref := parse(t, "")
	refT := ref.CoreTimers()
	for _, tc := range []struct {
		name, extra string
		named       bool // CoreTimers differ beyond Rest (address and priority move Rest)
	}{
		{"interval", "\n[timers]\ninterval = \"30ms\"\n", false}, // in every frame, not in CoreTimers
		{"deadtime", "\n[timers]\ndeadtime = \"200ms\"\n", true},
		{"adaptive floor", "\n[timers]\nadaptive_floor = \"60ms\"\n", true},
		{"startup", "\n[timers]\nstartup = \"1s\"\n", true},
		{"indoubt hold", "\n[timers]\nindoubt_hold = \"50ms\"\n", true},
		{"damping", "\n[timers]\ndamping = \"20s\"\n", true},
		{"flap limit", "\n[timers]\nflap_limit = 5\n", true},
		{"carrier settle", "\n[timers]\ncarrier_settle = \"2s\"\n", true},
		{"failback", "failback = false\n", true},
		{"failback delay", "failback_delay = \"5s\"\n", true},
		{"address", "", false},
		{"priority", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.extra)
			switch tc.name {
			case "address":
				c.Services[0].VIP = netip.MustParsePrefix("198.18.1.101/24")
			case "priority":
				c.Services[0].Priority = map[string]int{"n1": 100, "n2": 60}
			}
			if c.Fingerprint() == ref.Fingerprint() {
				t.Fatal("fingerprint unchanged")
			}
			ct := c.CoreTimers()
			restMoved := ct.Rest != refT.Rest
			ct.Rest = refT.Rest
			named := cmp.Diff(refT, ct) != ""
			wantRest := tc.name == "address" || tc.name == "priority"
			if named != tc.named || restMoved != wantRest {
				t.Errorf("named %v (want %v), rest moved %v:\n%s", named, tc.named, restMoved, cmp.Diff(refT, c.CoreTimers()))
			}
			if diff := cmp.Diff(c.CoreTimers(), c.Core().Timers); diff != "" {
				t.Errorf("core timers (-CoreTimers +Core):\n%s", diff)
			}
		})
	}
	// Off, damping has no flap limit to differ in; a node's own settings
	// (log level) are no one else's business.
	off := parse(t, "\n[timers]\ndamping = \"0s\"\nflap_limit = 3\n")
	if off2 := parse(t, "\n[timers]\ndamping = \"0s\"\nflap_limit = 7\n"); off.Fingerprint() != off2.Fingerprint() {
		t.Error("the flap limit moved the fingerprint with damping off")
	}
	if parse(t, "").Fingerprint() != withLevel(t, "debug").Fingerprint() {
		t.Error("log_level moved the fingerprint")
	}
}

func withLevel(t *testing.T, level string) *Config {
	t.Helper()
	c, err := Parse("f.toml", []byte("log_level = \""+level+"\"\n"+base))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRealtimePriority: realtime_priority defaults to Default's, takes 0
// (off) and 1..99, and is this host's own: it does not change the
// fingerprint peers compare.
func TestRealtimePriority(t *testing.T) {
	def, err := Parse("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := def.RealtimePriority, Default().RealtimePriority; got != want || want != 10 {
		t.Errorf("realtime_priority not given: %d, want Default's %d (10)", got, want)
	}
	for _, v := range []int{0, 1, 10, 99} {
		text := strings.Replace(base, "insecure_no_auth = true\n", fmt.Sprintf("insecure_no_auth = true\nrealtime_priority = %d\n", v), 1)
		c, err := Parse("f.toml", []byte(text))
		if err != nil {
			t.Fatalf("realtime_priority = %d: %v", v, err)
		}
		if c.RealtimePriority != v {
			t.Errorf("realtime_priority = %d parsed as %d", v, c.RealtimePriority)
		}
		if c.Fingerprint() != def.Fingerprint() {
			t.Errorf("realtime_priority = %d changed the fingerprint", v)
		}
	}
}

// TestExampleDocumentsRealtimePriority: the example's commented
// realtime_priority line shows Default's value, and uncommented it parses
// to that value.
func TestExampleDocumentsRealtimePriority(t *testing.T) {
	b, err := os.ReadFile("../../failover.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	d := Default().RealtimePriority
	want := fmt.Sprintf("# realtime_priority = %d ", d)
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, want) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("failover.toml.example lacks a line starting %q", want)
	}
	if !strings.Contains(line, fmt.Sprintf("# default %d.", d)) {
		t.Errorf("example line does not say the default %d:\n%s", d, line)
	}
	c, err := Parse("example", bytes.Replace(b, []byte(line), []byte(strings.TrimPrefix(line, "# ")), 1))
	if err != nil {
		t.Fatalf("uncommented: %v", err)
	}
	if c.RealtimePriority != d {
		t.Errorf("uncommented realtime_priority parsed as %d, want %d", c.RealtimePriority, d)
	}
}
