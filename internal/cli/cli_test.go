package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestNotRunningIsOnePlainLine(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "failover.sock")
	want := "failoverd is not running: cannot reach " + sock + "\n"
	for _, args := range [][]string{
		{"status"}, {"status", "--json"}, {"watch"}, {"fail", "web"}, {"recover", "web"},
		{"log-level", "debug"}, {"stress", "-n", "10"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errs := run(t, append([]string{"--socket", sock}, args...)...)
			if code != ExitFailure || errs != want || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, out, errs, want)
			}
		})
	}
}

func TestNotRunningStaleSocketFile(t *testing.T) {
	// A socket file nobody listens on (a daemon that was killed).
	sock := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	code, _, errs := run(t, "status", "--socket", sock)
	if want := "failoverd is not running: cannot reach " + sock + "\n"; code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", code, errs, want)
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			for _, h := range []string{"--help", "-h"} {
				code, out, _ := run(t, c.name, h)
				if code != 0 || !strings.Contains(out, "Usage: failover "+c.name) || !strings.Contains(out, "Examples:") {
					t.Errorf("%s %s: exit %d, output:\n%s", c.name, h, code, out)
				}
			}
		})
	}
	for _, s := range labSubs() {
		if s.hidden {
			continue
		}
		code, out, _ := run(t, "lab", s.name, "--help")
		if code != 0 || !strings.Contains(out, "Usage: failover lab "+s.name) || !strings.Contains(out, "Examples:") {
			t.Errorf("lab %s --help: exit %d, output:\n%s", s.name, code, out)
		}
	}
	code, out, _ := run(t, "--help")
	if code != 0 || !strings.Contains(out, "Commands:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	code, _, errs := run(t)
	if code != ExitUsage || !strings.Contains(errs, "Usage:") {
		t.Errorf("no args: exit %d\n%s", code, errs)
	}
	code, _, errs = run(t, "frobnicate")
	if code != ExitUsage || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown: exit %d\n%s", code, errs)
	}
	code, _, errs = run(t, "fail")
	if code != ExitUsage || !strings.Contains(errs, "missing argument") {
		t.Errorf("fail without service: exit %d\n%s", code, errs)
	}
	for _, args := range [][]string{{"fail"}, {"fail", "a", "b"}, {"status", "--bogus"}, {"lab", "frob"}, {"lab", "cut", "h1"}} {
		code, _, errs = run(t, args...)
		if code != ExitUsage || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%q: exit %d, want %d and one line:\n%s", args, code, ExitUsage, errs)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("1 00112233445566778899aabbccddeeff\n"), 0o600)
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(`cluster = "lab"
node = "n1"
key_file = "`+key+`"

[[peer]]
name = "n2"

[[path]]
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"

[[service]]
name = "web"
vip = "198.18.1.100"
interface = "eth0"
priority = {n1 = 2, n2 = 1}
`), 0o600)
	code, out, errs := run(t, "check-config", good)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good config: exit %d\n%s%s", code, out, errs)
	}

	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(`cluster = "lab"
node = "n1"
key_file = "`+key+`"
intervall = "20ms"

[timers]
interval = "100ms"
deadtime = "150ms"

[[peer]]
name = "n2"

[[path]]
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"

[[service]]
name = "web"
vip = "198.18.1.100"
interface = "eth0"
priority = {n1 = 2, n2 = 1}
`), 0o600)
	code, out, errs = run(t, "check-config", bad)
	if code != ExitUsage {
		t.Fatalf("bad config: exit %d, want 2\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("want every problem (unknown key and deadtime), got:\n%s", out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, bad+":") {
			t.Errorf("problem line %q does not start with %s:line:", l, bad)
		}
	}
	if !strings.Contains(out, "intervall") || !strings.Contains(out, "deadtime") {
		t.Errorf("want the unknown key and the deadtime named:\n%s", out)
	}
	code, out, _ = run(t, "check-config", "--json", bad)
	var res CheckResult
	if code != ExitUsage || json.Unmarshal([]byte(out), &res) != nil || res.OK || len(res.Problems) != len(lines) {
		t.Errorf("--json: exit %d, %+v\n%s", code, res, out)
	}
}

// fakeDaemon serves a canned control API on a unix socket.
func fakeDaemon(t *testing.T) (sock string, pings *atomic.Int64) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "fo.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	pings = &atomic.Int64{}
	now := time.Now()
	st := client.Status{
		Node: "h1", Cluster: "lab", Uptime: client.Duration(time.Minute), Now: now,
		Interval: client.Duration(20 * time.Millisecond), Deadtime: client.Duration(100 * time.Millisecond), LogLevel: "info",
		Peers: []client.Peer{{Name: "h2", State: "degraded", Reason: "eth0 silent", Paths: []client.PeerPath{
			{Path: "eth0", State: "down", LastHeard: now.Add(-time.Second), Age: client.Duration(time.Second), Loss: 100, Flapping: true},
			{Path: "eth1", State: "up", LastHeard: now, Age: client.Duration(5 * time.Millisecond), RTT: client.Duration(300 * time.Microsecond), OneWay: true},
			{Path: "serial0", State: "up", LastHeard: now, Age: client.Duration(3 * time.Millisecond)},
		}}},
		Services: []client.Service{{Name: "web", State: "up", Owner: "h1", VIP: "198.18.1.100/32", Interface: "eth0", Present: true, Since: now.Add(-time.Minute),
			Remote:           []client.RemoteState{{Node: "h2", State: "recover", Priority: 1}},
			AnnounceFailures: 2, AnnounceError: "sendto: network is down", AnnounceErrorAt: now.Add(-time.Second)}},
		Paths: []client.Path{{Name: "eth0", Kind: "udp", Interface: "eth0", Open: true, Carrier: true, Flapping: true,
			Sent: 10, Received: 9, BadAuth: 4, AuthFail: 3, Damaged: 1, Replayed: 5, Stale: 7}},
		Mismatch: []string{"h2: interval: ours 20ms, theirs 30ms"},
		Stalls:   1, LastStall: client.Duration(3200 * time.Millisecond), LastStallAt: now.Add(-time.Minute),
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) { json.NewEncoder(w).Encode(v) }
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) { reply(w, st) })
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		pings.Add(1)
		reply(w, client.Pong{Node: "h1", Now: time.Now()})
	})
	mux.HandleFunc("POST /v1/services/{name}/{op}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != "web" {
			w.WriteHeader(http.StatusNotFound)
			reply(w, client.ErrorBody{Error: "no service " + r.PathValue("name")})
			return
		}
		state := map[string]string{"fail": "fail", "recover": "recover"}[r.PathValue("op")]
		reply(w, client.Service{Name: "web", State: state, Owner: "h2"})
	})
	mux.HandleFunc("PUT /v1/log-level", func(w http.ResponseWriter, r *http.Request) {
		var l client.LogLevel
		json.NewDecoder(r.Body).Decode(&l)
		reply(w, l)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock, pings
}

func TestCommandsAgainstFakeDaemon(t *testing.T) {
	sock, pings := fakeDaemon(t)
	code, out, errs := run(t, "--socket", sock, "status")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	for _, want := range []string{"node h1", "h2", "degraded", "eth0", "down", "serial0", "web", "198.18.1.100/32", "h2=recover", "theirs 30ms",
		"eth0     flapping", "eth1     up one-way", "STALLED 1 time(s): the last for 3.2s",
		"web: 2 gratuitous ARP send(s) failed and were sent again; the last 1s ago: sendto: network is down",
		"BAD TAG  DAMAGED  REPLAYED  FOREIGN  STALE", "flapping  10    9         0         3        1        5         0        7"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "status", "--socket", sock, "--json")
	var st client.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Node != "h1" {
		t.Errorf("status --json: exit %d\n%s", code, out)
	}
	if code, out, _ = run(t, "fail", "web", "--socket", sock); code != 0 || !strings.Contains(out, "web: fail here") {
		t.Errorf("fail: exit %d: %s", code, out)
	}
	if code, out, _ = run(t, "--socket", sock, "recover", "web"); code != 0 || !strings.Contains(out, "web: recover here") {
		t.Errorf("recover: exit %d: %s", code, out)
	}
	if code, _, errs = run(t, "--socket", sock, "fail", "db"); code != 1 || !strings.Contains(errs, `db: "failover status" lists the services`) {
		t.Errorf("fail db: exit %d: %s", code, errs)
	}
	if code, out, _ = run(t, "--socket", sock, "log-level", "DEBUG"); code != 0 || out != "log level is now debug\n" {
		t.Errorf("log-level: exit %d: %q", code, out)
	}
	if code, _, _ = run(t, "--socket", sock, "log-level", "loud"); code != ExitUsage {
		t.Errorf("log-level loud: exit %d, want 2", code)
	}
	code, out, errs = run(t, "--socket", sock, "stress", "-n", "200", "-c", "8")
	if code != 0 || !strings.Contains(out, "p99") || !strings.Contains(out, "errors: 0") {
		t.Errorf("stress: exit %d\n%s%s", code, out, errs)
	}
	if pings.Load() != 201 { // one first, then 200
		t.Errorf("stress sent %d pings, want 201", pings.Load())
	}
	// watch, not a terminal: first the status, then changes; ends with ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wout, werr bytes.Buffer
	if code := Main(ctx, []string{"--socket", sock, "watch", "--interval", "50ms"}, Env{Stdout: &wout, Stderr: &werr}); code != 0 {
		t.Errorf("watch: exit %d: %s", code, werr.String())
	}
	if !strings.Contains(wout.String(), "node h1") {
		t.Errorf("watch output:\n%s", wout.String())
	}
}

func TestRemoteNeedsKey(t *testing.T) {
	code, _, errs := run(t, "--host", "198.18.1.1:7406", "status")
	if code != ExitUsage || !strings.Contains(errs, "--key-file") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestInterleave(t *testing.T) {
	r := &runner{socket: DefaultSocket}
	fs := r.flags(&command{name: "x", common: true})
	got := interleave(fs, []string{"web", "--json", "--socket", "/x", "extra"})
	want := "--json --socket /x -- web extra"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[int]time.Duration{50: 50, 90: 90, 99: 99, 100: 100} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%d = %d, want %d", p, got, want)
		}
	}
}

func TestPlainErrorTimeout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "slow.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Accepts but never answers, like a frozen daemon.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	code, _, errs := run(t, "--socket", sock, "--timeout", "200ms", "status")
	want := "failover: failoverd at " + sock + " did not answer in time: it is stopped, hung, overloaded or unreachable\n"
	if code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q, want %q", code, errs, want)
	}
}

func TestWrapKeepsIndentedParagraphs(t *testing.T) {
	in := "one two three four\n\n  a   b\n  c   d\n\nfive six"
	want := "one two\nthree four\n\n  a   b\n  c   d\n\nfive six"
	if got := wrap(in, 10); got != want {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

func TestPlainErrorUnresolvableHost(t *testing.T) {
	err := fmt.Errorf("client: GET /v1/status on nohost:7406: %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "nohost", Err: "no such host", IsNotFound: true}})
	want := `failover: cannot resolve "nohost": no such host (give --host as addr:port, like 198.18.1.1:7406)`
	if got := plainError(err); got != want {
		t.Errorf("plainError = %q, want %q", got, want)
	}
}
