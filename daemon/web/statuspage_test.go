package web_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/web"
)

var now = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

func sample() *client.Status {
	return &client.Status{
		Node: "n1", Cluster: "lab", Epoch: 7, Uptime: client.Duration(90 * time.Second),
		Interval: client.Duration(20 * time.Millisecond), Deadtime: client.Duration(100 * time.Millisecond), Now: now,
		Peers: []client.Peer{{
			Name: "n2", State: "degraded", Reason: "eth1 down",
			Paths: []client.PeerPath{
				{Path: "eth0", State: "up", LastHeard: now.Add(-15 * time.Millisecond), Age: client.Duration(15 * time.Millisecond), RTT: client.Duration(312 * time.Microsecond), Loss: 0.5},
				{Path: "eth1", State: "down", LastHeard: time.Time{}},
			},
		}},
		Services: []client.Service{{
			Name: "web", State: "up", Owner: "n1", VIP: "198.18.1.100/32", Interface: "eth0", Present: true,
			Since: now.Add(-time.Minute), Remote: []client.RemoteState{{Node: "n2", State: "recover"}},
		}},
		Paths:    []client.Path{{Name: "eth0", Kind: "udp", Interface: "eth0", Open: true, Carrier: true, Sent: 4500, Received: 4490}},
		Mismatch: []string{"n2: interval: ours 20ms, theirs 50ms"},
		Alarms:   []client.Alarm{{At: now, Service: "web", Peer: "n2", Text: "both up"}},
	}
}

func withChecks() *client.Status {
	st := sample()
	st.Services[0].Checks = []client.Check{
		{Name: "http", Kind: "http", Target: "http://127.0.0.1:8080/health", Effect: "fail", OK: false, Since: now, LastOK: false, LastRun: now,
			Output: "HTTP 503 Service Unavailable, want 200", Duration: client.Duration(1200 * time.Microsecond), Runs: 12, Failures: 3},
		{Name: "gw", Kind: "ping", Target: "198.18.1.254", Effect: "weight", Weight: 20, OK: true, LastOK: true, LastRun: now, Output: "echo reply", Runs: 12},
	}
	st.Hooks = &client.Hooks{
		Queued: 1, FIFO: "/run/failover.fifo", FIFOLines: 7, FIFODropped: 2, FIFOError: "no reader",
		Recent: []client.HookRun{{Service: "web", Hook: "service", From: "up", To: "fail", Command: []string{"/usr/local/bin/hook", "web"},
			At: now, Duration: client.Duration(2 * time.Second), Exit: -1, TimedOut: true, Error: "timed out after 2s; process group killed"}},
	}
	return st
}

func TestRender(t *testing.T) {
	hostile := sample()
	hostile.Node = `<script>alert("n1")</script>`
	hostile.Services[0].Name = `web" onmouseover="x`
	hostile.Services[0].State = `up" onclick="x`
	hostile.Services[0].Reason = `a & b <b>`
	hostile.Mismatch = []string{`n2: key: ours <x>, theirs 'y'`}

	for _, tc := range []struct {
		name    string
		st      *client.Status
		opts    web.Options
		want    []string
		notWant []string
	}{
		{
			name: "content",
			st:   sample(),
			opts: web.Options{Refresh: time.Minute, Generated: now, Source: "/run/failover.sock"},
			want: []string{
				`<meta http-equiv="refresh" content="60">`,
				`<title>failover n1</title>`,
				`failover node n1, cluster lab`,
				`<td rowspan="2">n2</td><td rowspan="2" class="degraded">degraded<br><small>eth1 down</small></td>`,
				`<td>eth0</td><td class="up">up</td><td>2026-11-25 16:59:59.985 UTC</td><td>15ms</td><td>312µs</td><td>0.5%</td>`,
				`<td>eth1</td><td class="down">down</td><td>never</td><td>-</td><td>-</td><td>0.0%</td>`,
				`<td>web</td><td class="up state" data-service="web">up</td><td class="owner" data-service="web">n1</td><td>198.18.1.100/32</td><td>eth0</td><td>yes</td><td>n2=recover</td>`,
				`<li>n2: interval: ours 20ms, theirs 50ms</li>`,
				`<td class="error">both up</td>`,
				`generated 2026-11-25 17:00:00.000 UTC from /run/failover.sock; reloads every 60s`,
			},
		},
		{
			name: "escaping",
			st:   hostile,
			opts: web.Options{Refresh: time.Minute, Generated: now},
			want: []string{
				`failover node &lt;script&gt;alert(&#34;n1&#34;)&lt;/script&gt;`,
				`<td>web&#34; onmouseover=&#34;x</td>`,
				`class="up&#34; onclick=&#34;x state"`,
				`<td>a &amp; b &lt;b&gt;</td>`,
				`<li>n2: key: ours &lt;x&gt;, theirs &#39;y&#39;</li>`,
			},
			notWant: []string{`<script>`, `onmouseover="x`, `onclick="x`, `<b>`},
		},
		{
			name: "checks and hooks",
			st:   withChecks(),
			opts: web.Options{Generated: now},
			want: []string{
				`<h2>Checks</h2>`,
				`<td>web</td><td>http</td><td>http</td><td>http://127.0.0.1:8080/health</td><td>fail</td><td class="error">failing</td>`,
				`<td>HTTP 503 Service Unavailable, want 200</td><td>12</td><td>3</td>`,
				`<td>gw</td><td>ping</td><td>198.18.1.254</td><td>weight 20</td><td class="yes">ok</td>`,
				`<h2>Notify hooks</h2>`,
				`<p>1 queued, 0 dropped; FIFO /run/failover.fifo: 7 lines, 2 dropped (no reader)</p>`,
				`<td>web</td><td>service</td><td>up &rarr; fail</td><td>/usr/local/bin/hook web</td><td class="error">-1</td><td>2s</td><td>timed out after 2s; process group killed</td>`,
			},
		},
		{
			name:    "no checks, no hooks",
			st:      sample(),
			opts:    web.Options{Generated: now},
			notWant: []string{`<h2>Checks</h2>`, `<h2>Notify hooks</h2>`},
		},
		{
			name:    "no refresh",
			st:      sample(),
			opts:    web.Options{Generated: now},
			notWant: []string{`http-equiv`, `reloads every`},
		},
		{
			name: "sub-second refresh rounds up",
			st:   sample(),
			opts: web.Options{Refresh: 200 * time.Millisecond},
			want: []string{`<meta http-equiv="refresh" content="1">`},
		},
		{
			name:    "unreachable",
			st:      nil,
			opts:    web.Options{Refresh: time.Minute, Generated: now, Error: `failoverd is not running (no socket at /run/failover.sock) <&>`},
			want:    []string{`<title>failover unreachable</title>`, `failoverd is not running (no socket at /run/failover.sock) &lt;&amp;&gt;`, `content="60"`},
			notWant: []string{`<h2>Peers</h2>`},
		},
		{
			name: "empty status",
			st:   &client.Status{Node: "n1"},
			want: []string{`no peers`, `no services`, `no paths`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := web.Render(&b, tc.st, tc.opts); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("page lacks %s\n--- page ---\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("page has %s", w)
				}
			}
			// Self-contained: nothing is fetched from anywhere.
			for _, w := range []string{"http://", "https://", "src=", "<link", "<script", "url("} {
				if strings.Contains(strings.ReplaceAll(out, "<td>http://127.0.0.1:8080/health</td>", ""), w) { // a check's target is text
					t.Errorf("page refers to an external asset or script (%s)", w)
				}
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "status.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := web.WriteFile(path, sample(), web.Options{Refresh: time.Minute, Generated: now}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), "failover node n1") {
		t.Errorf("file is not the page:\n%s", b)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "status.html")
	err := web.WriteFile(path, sample(), web.Options{})
	if err == nil || !strings.Contains(err.Error(), "statuspage:") {
		t.Errorf("got %v, want a statuspage error", err)
	}
}
