package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/web"
)

func full() *client.Status {
	st := withChecks()
	st.Started = now.Add(-90 * time.Second)
	st.Paths[0].BytesSent, st.Paths[0].BytesRecv, st.Paths[0].AuthFail, st.Paths[0].Replayed = 600000, 590000, 3, 2
	st.Paths[0].RTT, st.Paths[0].Jitter = client.Duration(312*time.Microsecond), client.Duration(40*time.Microsecond)
	st.Services[0].Nodes = map[string]int{"n1": 100, "n2": 50}
	st.Services[0].Priority, st.Services[0].Drop = 80, 20
	st.Services[0].Transitions = []client.Transition{{To: "up", Reason: "peer_dead", Count: 2}, {To: "fail", Reason: "health", Count: 1}}
	st.Services[0].LastOutage, st.Services[0].LastOutageAt = client.Duration(180*time.Millisecond), now.Add(-time.Minute)
	st.Hooks.Stats = []client.HookStats{{Service: "web", Hook: "service", Runs: 4, Failed: 1, TimedOut: 1,
		Last: client.HookRun{Exit: -1, Duration: client.Duration(2 * time.Second)}}}
	return st
}

func serve(t *testing.T, status web.StatusFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(web.NewHandler(web.HandlerOptions{Status: status, Source: "test"}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestHandlerRoutes(t *testing.T) {
	srv := serve(t, func(context.Context) (*client.Status, error) { return full(), nil })
	for _, tc := range []struct {
		method, path string
		code         int
		ctype        string
		has          string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<meta http-equiv="refresh" content="5">`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/?refresh=1", 200, "text/html; charset=utf-8", `content="1"`},
		{"GET", "/?refresh=0", 400, "", "refresh: want whole seconds"},
		{"GET", "/status.json", 200, "application/json", `"node": "n1"`},
		{"GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", "failover_up 1"},
		{"GET", "/nope", 404, "", ""},
		{"POST", "/", 405, "", "read-only"},
		{"PUT", "/metrics", 405, "", "read-only"},
		{"DELETE", "/status.json", 405, "", "read-only"},
	} {
		code, h, body := get(t, tc.method, srv.URL+tc.path)
		if code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.code)
		}
		if tc.ctype != "" && h.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: content type %q, want %q", tc.method, tc.path, h.Get("Content-Type"), tc.ctype)
		}
		if !strings.Contains(body, tc.has) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.has)
		}
		if code == 405 && h.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", tc.method, tc.path, h.Get("Allow"))
		}
	}
}

// /status.json is the status document, the same JSON `failover status
// --json` prints.
func TestHandlerStatusJSON(t *testing.T) {
	want := full()
	srv := serve(t, func(context.Context) (*client.Status, error) { return want, nil })
	_, _, body := get(t, "GET", srv.URL+"/status.json")
	var got client.Status
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*want, got); diff != "" {
		t.Errorf("status.json (-want +got):\n%s", diff)
	}
}

func TestHandlerDaemonBusy(t *testing.T) {
	srv := serve(t, func(ctx context.Context) (*client.Status, error) {
		return nil, errors.New("daemon busy: context deadline exceeded")
	})
	code, _, body := get(t, "GET", srv.URL+"/")
	if code != 503 || !strings.Contains(body, "daemon busy: context deadline exceeded") {
		t.Errorf("page: %d %q", code, body)
	}
	code, _, body = get(t, "GET", srv.URL+"/status.json")
	if code != 503 || !strings.Contains(body, `"error": "daemon busy`) {
		t.Errorf("status.json: %d %q", code, body)
	}
	fams := scrape(t, srv.URL)
	if v := value(t, fams, "failover_up", nil); v != 0 {
		t.Errorf("failover_up %v, want 0", v)
	}
	if _, ok := fams["failover_build_info"]; !ok {
		t.Error("no build info while the daemon is busy")
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

// value is the value of the one series of name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	var found []float64
	for _, m := range f.Metric {
		match := true
		for k, v := range want {
			has := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					has = true
				}
			}
			match = match && has
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			found = append(found, m.Gauge.GetValue())
		case m.Counter != nil:
			found = append(found, m.Counter.GetValue())
		case m.Untyped != nil:
			found = append(found, m.Untyped.GetValue())
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d series, want 1", name, want, len(found))
	}
	return found[0]
}

func TestMetrics(t *testing.T) {
	srv := serve(t, func(context.Context) (*client.Status, error) { return full(), nil })
	fams := scrape(t, srv.URL)
	l := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"failover_up", nil, 1},
		{"failover_node_info", l("node", "n1", "cluster", "lab"), 1},
		{"failover_start_time_seconds", nil, float64(now.Add(-90 * time.Second).Unix())},
		{"failover_config_mismatches", nil, 1},
		{"failover_peer_up", l("peer", "n2"), 1},
		{"failover_peer_state", l("peer", "n2", "state", "degraded"), 1},
		{"failover_peer_state", l("peer", "n2", "state", "alive"), 0},
		{"failover_peer_path_up", l("peer", "n2", "path", "eth1"), 0},
		{"failover_peer_path_state", l("peer", "n2", "path", "eth0", "state", "up"), 1},
		{"failover_peer_path_loss_ratio", l("peer", "n2", "path", "eth0"), 0.005},
		{"failover_peer_path_last_heard_seconds", l("peer", "n2", "path", "eth0"), 0.015},
		{"failover_path_open", l("path", "eth0", "kind", "udp"), 1},
		{"failover_path_rtt_seconds", l("path", "eth0"), 0.000312},
		{"failover_path_jitter_seconds", l("path", "eth0"), 0.00004},
		{"failover_path_frames_sent_total", l("path", "eth0"), 4500},
		{"failover_path_frames_received_total", l("path", "eth0"), 4490},
		{"failover_path_bytes_sent_total", l("path", "eth0"), 600000},
		{"failover_path_bytes_received_total", l("path", "eth0"), 590000},
		{"failover_path_auth_failures_total", l("path", "eth0"), 3},
		{"failover_path_replays_total", l("path", "eth0"), 2},
		{"failover_service_state", l("service", "web", "state", "up"), 1},
		{"failover_service_state", l("service", "web", "state", "recover"), 0},
		{"failover_service_owner", l("service", "web", "node", "n1"), 1},
		{"failover_service_owner", l("service", "web", "node", "n2"), 0},
		{"failover_service_vip_present", l("service", "web"), 1},
		{"failover_service_priority", l("service", "web"), 80},
		{"failover_service_priority_drop", l("service", "web"), 20},
		{"failover_service_transitions_total", l("service", "web", "to", "up", "reason", "peer_dead"), 2},
		{"failover_service_last_outage_seconds", l("service", "web"), 0.18},
		{"failover_check_up", l("service", "web", "check", "http", "kind", "http"), 0},
		{"failover_check_up", l("service", "web", "check", "gw", "kind", "ping"), 1},
		{"failover_check_last_result", l("service", "web", "check", "http"), 0},
		{"failover_check_duration_seconds", l("service", "web", "check", "http"), 0.0012},
		{"failover_check_runs_total", l("service", "web", "check", "http"), 12},
		{"failover_check_failures_total", l("service", "web", "check", "http"), 3},
		{"failover_hook_runs_total", l("service", "web", "hook", "service"), 4},
		{"failover_hook_failures_total", l("service", "web", "hook", "service"), 1},
		{"failover_hook_timeouts_total", l("service", "web", "hook", "service"), 1},
		{"failover_hook_last_duration_seconds", l("service", "web", "hook", "service"), 2},
		{"failover_hook_last_exit_code", l("service", "web", "hook", "service"), -1},
		{"failover_hook_queue_length", nil, 1},
		{"failover_notify_fifo_lines_total", nil, 7},
		{"failover_notify_fifo_dropped_total", nil, 2},
	} {
		if got := value(t, fams, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// Conventions: the prefix, counters end in _total, no duplicate help.
	var names []string
	for name, f := range fams {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		names = append(names, name)
		if !strings.HasPrefix(name, "failover_") {
			t.Errorf("%s: no failover_ prefix", name)
		}
		if (f.GetType() == dto.MetricType_COUNTER) != strings.HasSuffix(name, "_total") {
			t.Errorf("%s: type %v; counters and only counters end in _total", name, f.GetType())
		}
		if f.GetHelp() == "" {
			t.Errorf("%s: no help", name)
		}
	}
	sort.Strings(names)
	t.Logf("%d failover_ metrics: %s", len(names), strings.Join(names, " "))
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}
