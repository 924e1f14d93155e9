package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// globals go before the first table of base.
func withGlobals(globals, tail string) string {
	return globals + base + tail
}

func TestChecksAndHooks(t *testing.T) {
	text := withGlobals(`notify = ["/usr/local/bin/tell-ops", "--all"]
notify_fifo = "/run/failover.fifo"
notify_timeout = "3s"
metrics_listen = "127.0.0.1:9406"
`, `notify = ["/usr/local/bin/web-hook"]

[[service.check]]
kind = "http"
target = "http://127.0.0.1:8080/health"
body = "ok"

[[service.check]]
kind = "http"
target = "http://127.0.0.1:8081/"
status = 204
weight = 30

[[service.check]]
name = "gateway"
kind = "ping"
method = "arp"
target = "198.18.1.254"
interval = "500ms"
timeout = "200ms"
rise = 1
fall = 2

[[service.check]]
kind = "exec"
command = ["/usr/local/bin/check-web", "-q"]
effect = "weight"
weight = 20
`)
	c, err := Parse("f.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/usr/local/bin/tell-ops", "--all"}, c.Notify); diff != "" {
		t.Errorf("notify (-want +got):\n%s", diff)
	}
	if c.NotifyFIFO != "/run/failover.fifo" || c.NotifyTimeout != 3*time.Second || c.MetricsListen != "127.0.0.1:9406" {
		t.Errorf("globals: fifo %q timeout %v metrics %q", c.NotifyFIFO, c.NotifyTimeout, c.MetricsListen)
	}
	s := c.Services[0]
	if diff := cmp.Diff([]string{"/usr/local/bin/web-hook"}, s.Notify); diff != "" {
		t.Errorf("service notify (-want +got):\n%s", diff)
	}
	d := DefaultCheck()
	want := []CheckConfig{
		{Name: "http", Kind: "http", Target: "http://127.0.0.1:8080/health", Body: "ok", Method: d.Method, Status: 200,
			Interval: d.Interval, Timeout: d.Timeout, Rise: d.Rise, Fall: d.Fall, Effect: "fail"},
		{Name: "http-2", Kind: "http", Target: "http://127.0.0.1:8081/", Method: d.Method, Status: 204,
			Interval: d.Interval, Timeout: d.Timeout, Rise: d.Rise, Fall: d.Fall, Effect: "weight", Weight: 30},
		{Name: "gateway", Kind: "ping", Method: "arp", Interface: "eth0", Target: "198.18.1.254", Status: 200,
			Interval: 500 * time.Millisecond, Timeout: 200 * time.Millisecond, Rise: 1, Fall: 2, Effect: "fail"},
		{Name: "exec", Kind: "exec", Command: []string{"/usr/local/bin/check-web", "-q"}, Method: d.Method, Status: 200,
			Interval: d.Interval, Timeout: d.Timeout, Rise: d.Rise, Fall: d.Fall, Effect: "weight", Weight: 20},
	}
	if diff := cmp.Diff(want, s.Checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	// Checks are this node's own: they do not enter the fingerprint peers compare.
	plain, err := Parse("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fingerprint() != plain.Fingerprint() {
		t.Error("checks and hooks changed the fingerprint")
	}
}

func TestCheckDefaultsOff(t *testing.T) {
	c, err := Parse("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsListen != "" || c.Notify != nil || c.NotifyFIFO != "" || c.NotifyTimeout != 10*time.Second || c.Services[0].Checks != nil {
		t.Errorf("defaults: metrics %q notify %v fifo %q timeout %v checks %v", c.MetricsListen, c.Notify, c.NotifyFIFO, c.NotifyTimeout, c.Services[0].Checks)
	}
}

func TestCheckProblems(t *testing.T) {
	// base ends at line 17; the appended text starts at line 18.
	for _, tc := range []struct {
		name    string
		globals string
		tail    string
		want    []string
	}{
		{"weight makes the priority negative", "", `
[[service.check]]
kind = "tcp"
target = "127.0.0.1:80"
weight = 60

[[service.check]]
kind = "tcp"
target = "127.0.0.1:81"
weight = 50
`, []string{`f.toml:27: service[0].check[1].weight: the weights of service "web"'s checks add up to 110, more than this node's priority 100: the priority would go negative`}},
		{"unknown kind", "", `
[[service.check]]
kind = "smtp"
target = "127.0.0.1:25"
`, []string{`f.toml:20: service[0].check[0].kind: "smtp" is not a check kind: want "exec", "tcp", "http", "ping"`}},
		{"missing kind", "", `
[[service.check]]
target = "127.0.0.1:25"
`, []string{`f.toml:19: service[0].check[0].kind: missing: "exec", "tcp", "http", "ping"`}},
		{"missing targets and command", "", `
[[service.check]]
kind = "tcp"

[[service.check]]
kind = "http"

[[service.check]]
kind = "ping"

[[service.check]]
kind = "exec"
`, []string{
			`f.toml:19: service[0].check[0].target: missing: the "host:port" to connect to`,
			`f.toml:22: service[0].check[1].target: missing: the URL to GET`,
			`f.toml:25: service[0].check[2].target: missing: the address to ping`,
			`f.toml:28: service[0].check[3].command: missing: the command to run`,
		}},
		{"bad values", "", `
[[service.check]]
kind = "http"
target = "ftp://127.0.0.1/"
status = 42
interval = "1s"
timeout = "2s"
rise = 0
fall = 101
effect = "panic"
`, []string{
			`f.toml:21: service[0].check[0].target: "ftp://127.0.0.1/" is not an http:// or https:// URL`,
			`f.toml:22: service[0].check[0].status: 42 is not an HTTP status (100..599)`,
			`f.toml:24: service[0].check[0].timeout: 2s is longer than the interval 1s`,
			`f.toml:25: service[0].check[0].rise: 0 is out of range 1..100`,
			`f.toml:26: service[0].check[0].fall: 101 is out of range 1..100`,
			`f.toml:27: service[0].check[0].effect: "panic": want "fail" or "weight"`,
		}},
		{"keys of another kind", "", `
[[service.check]]
kind = "tcp"
target = "127.0.0.1:80"
command = ["/bin/true"]
body = "ok"
`, []string{
			`f.toml:22: service[0].check[0].command: only for kind = "exec", not "tcp"`,
			`f.toml:23: service[0].check[0].body: only for kind = "http", not "tcp"`,
		}},
		{"ping problems", "", `
[[service.check]]
kind = "ping"
target = "gateway.example"

[[service.check]]
kind = "ping"
method = "arp"
target = "2001:db8::1"

[[service.check]]
kind = "ping"
method = "udp"
target = "198.18.1.254"
`, []string{
			`f.toml:21: service[0].check[0].target: "gateway.example" is not an IP address`,
			`f.toml:26: service[0].check[1].target: 2001:db8::1: method "arp" needs an IPv4 address`,
			`f.toml:30: service[0].check[2].method: "udp": want "icmp" or "arp"`,
		}},
		{"duplicate names and weight with fail", "", `
[[service.check]]
name = "up"
kind = "tcp"
target = "127.0.0.1:80"
effect = "fail"
weight = 10

[[service.check]]
name = "up"
kind = "tcp"
target = "127.0.0.1:81"
`, []string{
			`f.toml:24: service[0].check[0].weight: only with effect = "weight"`,
			`f.toml:27: service[0].check[1].name: check "up" defined twice in service "web"`,
		}},
		{"typo in a check key", "", `
[[service.check]]
kind = "tcp"
targt = "127.0.0.1:80"
`, []string{
			`f.toml:21: service.check.targt: unknown key (did you mean "target"?)`,
			`f.toml:19: service[0].check[0].target: missing`,
		}},
		{"globals", `notify = []
notify_fifo = "failover.fifo"
notify_timeout = "0s"
metrics_listen = "localhost"
`, "", []string{
			`f.toml:1: notify: empty: give the program and its arguments`,
			`f.toml:2: notify_fifo: "failover.fifo" is not an absolute path`,
			`f.toml:3: notify_timeout: must be more than 0`,
			`f.toml:4: metrics_listen: "localhost" is not addr:port like "127.0.0.1:9406"`,
		}},
		{"service notify empty program", "", `notify = ["", "x"]
`, []string{`f.toml:18: service[0].notify: the program (the first element) is empty`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := withGlobals(tc.globals, tc.tail)
			_, err := Parse("f.toml", []byte(text))
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing problem\n  %s\nin\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n  %s", len(got), len(tc.want), strings.Join(got, "\n  "))
			}
		})
	}
}

// A second service's checks are numbered from 0 and found on their lines.
func TestCheckLinesSecondService(t *testing.T) {
	text := base + `
[[service.check]]
kind = "tcp"
target = "127.0.0.1:80"

[[service]]
name = "db"
vip = "198.18.1.101/32"
interface = "eth0"
priority = {n1 = 10}

[[service.check]]
kind = "tcp"
target = "127.0.0.1:5432"
weight = 11
`
	_, err := Parse("f.toml", []byte(text))
	want := `f.toml:32: service[1].check[0].weight: the weights of service "db"'s checks add up to 11, more than this node's priority 10`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
