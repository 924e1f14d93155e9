package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// The tests of issue 15: health checks, notify hooks, metrics and the page,
// with real failoverd processes. Check timings: a run every 200ms with a
// generous timeout, so a loaded machine does not fail a healthy check.
const checkTimers = "interval = \"200ms\"\ntimeout = \"190ms\"\n"

// checkTOML is a [[service.check]] table for the rig's single service.
func checkTOML(lines ...string) string {
	return "\n[[service.check]]\n" + checkTimers + strings.Join(lines, "\n") + "\n"
}

// withGlobals puts top-level keys into a generated config, before its
// first table.
func withGlobals(cfg string, lines ...string) string {
	i := strings.Index(cfg, "\n[")
	return cfg[:i+1] + strings.Join(lines, "\n") + "\n" + cfg[i+1:]
}

// hostServer is a tiny server on addr inside a lab host that can be stopped
// and started again on the same address: HTTP ("GET /health" answers "ok")
// or, with tcp, a listener that accepts and closes.
type hostServer struct {
	h    *lab.Host
	addr string
	tcp  bool

	mu  sync.Mutex
	ln  net.Listener
	srv *http.Server
}

func startHostServer(h *lab.Host, addr string, tcp bool) (*hostServer, error) {
	s := &hostServer{h: h, addr: addr, tcp: tcp}
	return s, s.start()
}

func (s *hostServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ln net.Listener
	err := s.h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", s.addr)
		return err
	})
	if err != nil {
		return fmt.Errorf("server in %s: %w", s.h.Name(), err)
	}
	s.ln = ln
	if s.tcp {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		return nil
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok\n")
	})}
	go s.srv.Serve(ln)
	return nil
}

func (s *hostServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
}

// hostClient is an HTTP client whose connections are made inside h.
func hostClient(h *lab.Host) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := h.Do(func() error {
				var d net.Dialer
				var err error
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		}},
	}
}

// serviceOf returns svc in host's status.
func serviceOf(ctx context.Context, rg *rig.Rig, host, svc string) (*client.Service, error) {
	st, err := rg.Status(ctx, host)
	if err != nil {
		return nil, err
	}
	for i := range st.Services {
		if st.Services[i].Name == svc {
			return &st.Services[i], nil
		}
	}
	return nil, fmt.Errorf("%s has no service %s", host, svc)
}

// waitCheck waits until host's check of web has a verdict ok (true or
// false) after at least one run, and returns it.
func waitCheck(t *testing.T, rg *rig.Rig, host, check string, ok bool) client.Check {
	t.Helper()
	var got client.Check
	waitFor(t, fmt.Sprintf("%s's check %s ok=%v", host, check, ok), func(ctx context.Context) (bool, string) {
		s, err := serviceOf(ctx, rg, host, "web")
		if err != nil {
			return false, err.Error()
		}
		for _, c := range s.Checks {
			if c.Name == check {
				got = c
				return c.Runs > 0 && c.OK == ok, fmt.Sprintf("ok=%v runs=%d output %q", c.OK, c.Runs, c.Output)
			}
		}
		return false, "no such check"
	})
	return got
}

// An http check against a tiny server in the master's namespace: the
// server stops, the check fails on h1, h2 takes over; it starts again, h1
// reclaims.
func TestPrivilegedHTTPCheck(t *testing.T) {
	var srv *hostServer
	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			if host != "h1" {
				return cfg
			}
			return cfg + checkTOML(`kind = "http"`, `target = "http://127.0.0.1:8080/health"`, `body = "ok"`, `rise = 2`, `fall = 2`)
		},
		Setup: func(l *lab.Lab) (err error) {
			srv, err = startHostServer(l.Host("h1"), "127.0.0.1:8080", false)
			return err
		},
	})
	t.Cleanup(srv.stop)
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	c := waitCheck(t, rg, "h1", "http", true)
	t.Logf("h1's check: %s in %s", c.Output, time.Duration(c.Duration))

	t0 := time.Now()
	srv.stop()
	settle(t, rg, "web", "h2", t0, "h1's http check fails", "h1")
	c = waitCheck(t, rg, "h1", "http", false)
	if !strings.Contains(c.Output, "connection refused") {
		t.Errorf("h1's failing check says %q, want connection refused", c.Output)
	}
	waitFor(t, "h1 in fail for the check", func(ctx context.Context) (bool, string) {
		s, err := serviceOf(ctx, rg, "h1", "web")
		if err != nil {
			return false, err.Error()
		}
		return s.State == "fail" && strings.Contains(s.Reason, "health: check http:"), s.State + ": " + s.Reason
	})

	t1 := time.Now()
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1's http check passes again")
	if !logHas(t, rg.LogFile("h1"), "from=reclaim to=up") {
		t.Error("h1's log shows no reclaim then up once the check passed")
	}
}

// A weight check on the master makes the third node win: h1 (100) drops
// by 60 to 40 when its tcp check fails, below h3 (80) and h2 (50); h3, the
// best ranked, reclaims; h2 never asks. The check passing again brings it
// back to h1.
func TestPrivilegedWeightCheck(t *testing.T) {
	var srv *hostServer
	rg := newRig(t, rig.Options{
		Hosts:    3,
		Services: []rig.Service{{Name: "web", VIP: rig.DefaultVIP, Priorities: map[string]int{"h1": 100, "h2": 50, "h3": 80}}},
		ConfigHook: func(host, cfg string) string {
			if host != "h1" {
				return cfg
			}
			return cfg + checkTOML(`name = "db"`, `kind = "tcp"`, `target = "127.0.0.1:9000"`, `weight = 60`, `rise = 1`, `fall = 2`)
		},
		Setup: func(l *lab.Lab) (err error) {
			srv, err = startHostServer(l.Host("h1"), "127.0.0.1:9000", true)
			return err
		},
	})
	t.Cleanup(srv.stop)
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	waitCheck(t, rg, "h1", "db", true)

	t0 := time.Now()
	srv.stop()
	settle(t, rg, "web", "h3", t0, "h1's weight check fails")
	waitFor(t, "h1 at priority 40, as h3 sees it", func(ctx context.Context) (bool, string) {
		s, err := serviceOf(ctx, rg, "h1", "web")
		if err != nil {
			return false, err.Error()
		}
		s3, err := serviceOf(ctx, rg, "h3", "web")
		if err != nil {
			return false, err.Error()
		}
		adv := -1
		for _, r := range s3.Remote {
			if r.Node == "h1" {
				adv = r.Priority
			}
		}
		return s.Priority == 40 && s.Drop == 60 && adv == 40, fmt.Sprintf("h1 priority %d drop %d; h3 hears %d", s.Priority, s.Drop, adv)
	})
	if logHas(t, rg.LogFile("h2"), "to=reclaim") || logHas(t, rg.LogFile("h2"), "to=up") {
		t.Error("h2 (50) asked for or took the service that h3 (80) outranks it for")
	}

	t1 := time.Now()
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1's weight check passes again")
}

// The ipfail case: every node pings the gateway (the client, 198.18.1.250)
// with ARP. The switch drops h1's eth0: h1 loses the gateway while its
// carrier stays up, hands the service to h2 (over eth1 and serial) and
// takes it back once the gateway answers again.
func TestPrivilegedGatewayPing(t *testing.T) {
	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			return cfg + checkTOML(`name = "gateway"`, `kind = "ping"`, `method = "arp"`, `target = "198.18.1.250"`, `rise = 2`, `fall = 2`)
		},
	})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	waitCheck(t, rg, "h1", "gateway", true)
	waitCheck(t, rg, "h2", "gateway", true)

	t0 := time.Now()
	if err := rg.Lab.Drop("h1", "eth0", lab.DirBoth); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h2", t0, "h1 lost its gateway", "h1")
	c := waitCheck(t, rg, "h1", "gateway", false)
	t.Logf("h1's gateway check: %s", c.Output)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := rg.Status(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Paths {
		if p.Name == "eth0" && !p.Carrier {
			t.Error("h1's eth0 lost carrier: the test meant the gateway to go, not the link")
		}
	}
	if s := st.Services[0]; s.State != "fail" || !strings.Contains(s.Reason, "check gateway: timed out") {
		t.Errorf("h1: %s (%s), want fail for the gateway check", s.State, s.Reason)
	}
	if !logHas(t, rg.LogFile("h2"), "released by h1 (hand-over)") {
		t.Error("h2 did not take the service by hand-over")
	}

	t1 := time.Now()
	if err := rg.Lab.Heal(); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1's gateway back")
}

// recorder writes a hook that appends "$1 node service from>to vip" to the
// file $2, one line per run.
func recorder(t *testing.T, dir string) string {
	t.Helper()
	script := filepath.Join(dir, "record-hook")
	body := "#!/bin/sh\necho \"$1 $FAILOVER_NODE $FAILOVER_SERVICE $FAILOVER_FROM>$FAILOVER_TO $FAILOVER_VIP\" >> \"$2\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

func fileLines(file string) []string {
	b, _ := os.ReadFile(file)
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Hooks run in the order of the changes: a hook recording its arguments
// and environment shows the exact sequence of a fail and a recover, the
// FIFO gets the same changes, and /metrics (parsed with expfmt) and
// /status.json count them.
func TestPrivilegedHooksInOrder(t *testing.T) {
	dir := t.TempDir()
	script := recorder(t, dir)
	calls := func(host string) string { return filepath.Join(dir, host+".calls") }
	fifo := filepath.Join(dir, "h1.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Open for read and write: reads block for data, the daemon always
	// finds a reader.
	ff, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ff.Close()
	fifoLines := make(chan string, 100)
	go func() {
		rd := bufio.NewReader(ff)
		for {
			l, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			fifoLines <- strings.TrimSpace(l)
		}
	}()

	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			globals := []string{
				fmt.Sprintf("notify = [%q, \"global\", %q]", script, calls(host)),
				`notify_timeout = "5s"`,
				`metrics_listen = "127.0.0.1:9406"`,
			}
			if host == "h1" {
				globals = append(globals, fmt.Sprintf("notify_fifo = %q", fifo))
			}
			return withGlobals(cfg, globals...) + fmt.Sprintf("notify = [%q, \"web\", %q]\n", script, calls(host))
		},
	})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	t0 := time.Now()
	mustFailover(t, "--socket", rg.Socket("h1"), "fail", "web")
	settle(t, rg, "web", "h2", t0, "fail on h1", "h1")
	t1 := time.Now()
	mustFailover(t, "--socket", rg.Socket("h1"), "recover", "web")
	settle(t, rg, "web", "h1", t1, "recover on h1")

	vip := rig.DefaultVIP.String()
	var want1, want2 []string
	for _, ch := range []string{"recover>indoubt", "indoubt>up", "up>fail", "fail>recover", "recover>reclaim", "reclaim>up"} {
		want1 = append(want1, "web h1 web "+ch+" "+vip, "global h1 web "+ch+" "+vip)
	}
	for _, ch := range []string{"recover>up", "up>recover"} {
		want2 = append(want2, "web h2 web "+ch+" "+vip, "global h2 web "+ch+" "+vip)
	}
	for host, want := range map[string][]string{"h1": want1, "h2": want2} {
		waitFor(t, host+"'s hooks all ran", func(ctx context.Context) (bool, string) {
			got := fileLines(calls(host))
			return len(got) >= len(want), fmt.Sprintf("%d of %d", len(got), len(want))
		})
		if got := fileLines(calls(host)); !slices.Equal(got, want) {
			t.Errorf("%s's hooks ran\n  %s\nwant\n  %s", host, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	var fl []string
	deadline := time.After(waitBound)
	for len(fl) < 6 {
		select {
		case l := <-fifoLines:
			fl = append(fl, l)
		case <-deadline:
			t.Fatalf("fifo: %d lines, want 6: %q", len(fl), fl)
		}
	}
	for i, ch := range []string{"recover indoubt", "indoubt up", "up fail", "fail recover", "recover reclaim", "reclaim up"} {
		if f := strings.Fields(fl[i]); len(f) < 7 || f[1] != "h1" || f[2] != "web" || f[3]+" "+f[4] != ch || f[5] != vip {
			t.Errorf("fifo line %d: %q, want h1 web %s %s", i, fl[i], ch, vip)
		}
	}

	// /metrics and /status.json on h1's metrics_listen (inside h1).
	hc := hostClient(rg.Lab.Host("h1"))
	resp, err := hc.Get("http://127.0.0.1:9406/metrics")
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		cmp    string // "=" or ">"
		want   float64
	}{
		{"failover_up", nil, "=", 1},
		{"failover_node_info", []string{"node", "h1", "cluster", "lab"}, "=", 1},
		{"failover_service_state", []string{"service", "web", "state", "up"}, "=", 1},
		{"failover_service_state", []string{"service", "web", "state", "fail"}, "=", 0},
		{"failover_service_owner", []string{"service", "web", "node", "h1"}, "=", 1},
		{"failover_service_owner", []string{"service", "web", "node", "h2"}, "=", 0},
		{"failover_service_transitions_total", []string{"service", "web", "to", "up", "reason", "free"}, "=", 1},
		{"failover_service_transitions_total", []string{"service", "web", "to", "up", "reason", "failback"}, "=", 1},
		{"failover_service_transitions_total", []string{"service", "web", "to", "fail", "reason", "operator"}, "=", 1},
		{"failover_service_last_outage_seconds", []string{"service", "web"}, ">", 0},
		{"failover_peer_up", []string{"peer", "h2"}, "=", 1},
		{"failover_peer_path_up", []string{"peer", "h2", "path", "eth1"}, "=", 1},
		{"failover_path_frames_sent_total", []string{"path", "eth0"}, ">", 0},
		{"failover_path_bytes_received_total", []string{"path", "serial0"}, ">", 0},
		{"failover_path_rtt_seconds", []string{"path", "eth0"}, ">", 0},
		{"failover_path_auth_failures_total", []string{"path", "eth0"}, "=", 0},
		{"failover_hook_runs_total", []string{"service", "web", "hook", "service"}, "=", 6},
		{"failover_hook_runs_total", []string{"service", "web", "hook", "global"}, "=", 6},
		{"failover_hook_failures_total", []string{"service", "web", "hook", "global"}, "=", 0},
		{"failover_notify_fifo_lines_total", nil, "=", 6},
		{"failover_build_info", nil, "=", 1},
	} {
		got, err := metricValue(fams, tc.name, tc.labels...)
		if err != nil {
			t.Error(err)
			continue
		}
		if tc.cmp == "=" && got != tc.want || tc.cmp == ">" && !(got > tc.want) {
			t.Errorf("%s%v = %v, want %s %v", tc.name, tc.labels, got, tc.cmp, tc.want)
		}
	}
	resp, err = hc.Get("http://127.0.0.1:9406/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var st client.Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Node != "h1" || st.Hooks == nil || len(st.Hooks.Recent) != 12 || st.Services[0].LastOutage <= 0 {
		t.Errorf("status.json: node %q hooks %+v last outage %v", st.Node, st.Hooks, st.Services[0].LastOutage)
	}
	t.Logf("h1 saw web unheld for %v during the hand-over", time.Duration(st.Services[0].LastOutage))
}

// metricValue is the value of the one series of name with the labels
// (name, value pairs).
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, error) {
	f, ok := fams[name]
	if !ok {
		return 0, fmt.Errorf("no metric %s", name)
	}
	var vals []float64
	for _, m := range f.Metric {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			has := false
			for _, l := range m.Label {
				has = has || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			match = match && has
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			vals = append(vals, m.Gauge.GetValue())
		case m.Counter != nil:
			vals = append(vals, m.Counter.GetValue())
		}
	}
	if len(vals) != 1 {
		return 0, fmt.Errorf("%s%v: %d series, want 1", name, labels, len(vals))
	}
	return vals[0], nil
}

// A hook that sleeps past its timeout is killed with its process group,
// and the takeover does not wait for it: h2 is up while its first hook
// still hangs.
func TestPrivilegedHookTimeoutTakeover(t *testing.T) {
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	hang := fmt.Sprintf(`sleep 60 & echo $! >> %s; wait`, pids)
	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			if host != "h2" {
				return cfg
			}
			return withGlobals(cfg, `notify_timeout = "3s"`) + fmt.Sprintf("notify = [\"/bin/sh\", \"-c\", %q]\n", hang)
		},
	})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)

	t0 := time.Now()
	if err := rg.Lab.Freeze("h1"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h2", t0, "power pull h1, h2's hooks hang", "h1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := rg.Status(ctx, "h2")
	if err != nil {
		t.Fatal(err)
	}
	if st.Hooks == nil {
		t.Fatal("h2 reports no hooks")
	}
	t.Logf("h2 up %v after the freeze; hooks: %d finished, %d queued", time.Since(t0).Round(time.Millisecond), len(st.Hooks.Recent), st.Hooks.Queued)
	if len(st.Hooks.Recent) != 0 {
		t.Errorf("a hook finished before the takeover was seen: %+v (the first one hangs for 3s)", st.Hooks.Recent)
	}
	waitFor(t, "both hooks killed at the timeout", func(ctx context.Context) (bool, string) {
		st, err := rg.Status(ctx, "h2")
		if err != nil {
			return false, err.Error()
		}
		return len(st.Hooks.Recent) >= 2, fmt.Sprintf("%d runs", len(st.Hooks.Recent))
	})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	st, err = rg.Status(ctx2, "h2")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Hooks.Recent[:2] {
		if !r.TimedOut || r.Exit != -1 || r.Error != "timed out after 3s; process group killed" {
			t.Errorf("hook run %+v, want killed at the 3s timeout", r)
		}
	}
	if got := []string{st.Hooks.Recent[0].From + ">" + st.Hooks.Recent[0].To, st.Hooks.Recent[1].From + ">" + st.Hooks.Recent[1].To}; !slices.Equal(got, []string{"recover>indoubt", "indoubt>up"}) {
		t.Errorf("hook runs for %v, want recover>indoubt then indoubt>up", got)
	}
	for _, l := range fileLines(pids) {
		pid, _ := strconv.Atoi(l)
		waitFor(t, "hook's sleep "+l+" dead", func(context.Context) (bool, string) {
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				return true, ""
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			return err == nil && strings.Contains(string(b), ") Z "), "alive"
		})
	}
}

// A metrics port already taken refuses the start, naming the key.
func TestPrivilegedMetricsPortInUse(t *testing.T) {
	var held net.Listener
	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			if host != "h1" {
				return cfg
			}
			return withGlobals(cfg, `metrics_listen = "127.0.0.1:9406"`)
		},
		Setup: func(l *lab.Lab) error {
			return l.Host("h1").Do(func() error {
				var err error
				held, err = net.Listen("tcp", "127.0.0.1:9406")
				return err
			})
		},
	})
	defer held.Close()
	d := rg.Daemon("h1")
	select {
	case <-d.Done():
	case <-time.After(waitBound):
		t.Fatal("failoverd started on a metrics port in use")
	}
	if d.Err() == nil {
		t.Error("failoverd exited 0")
	}
	b, _ := os.ReadFile(rg.LogFile("h1"))
	if want := "metrics_listen 127.0.0.1:9406: listen tcp 127.0.0.1:9406: bind: address already in use"; !strings.Contains(string(b), want) {
		t.Errorf("h1's log lacks %q:\n%s", want, b)
	}
	settle(t, rg, "web", "h2", time.Time{}, "h1 refused to start", "h1")
}
