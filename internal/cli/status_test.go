package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
)

func TestRenderStatusChecksAndHooks(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	st := &client.Status{Node: "n1", Now: now, Services: []client.Service{{
		Name: "web", State: "fail", Owner: "n2", Priority: 70, Drop: 30,
		Checks: []client.Check{
			{Name: "http", Kind: "http", Effect: "fail", OK: false, LastRun: now.Add(-2 * time.Second), Duration: client.Duration(1500 * time.Microsecond),
				Runs: 10, Failures: 3, Output: "HTTP 503 Service Unavailable, want 200"},
			{Name: "db", Kind: "tcp", Effect: "weight", Weight: 30, OK: false, Runs: 10, Failures: 10, LastRun: now.Add(-time.Second)},
			{Name: "gw", Kind: "ping", Effect: "fail", OK: true},
		},
	}}, Hooks: &client.Hooks{Queued: 0, Dropped: 1, FIFO: "/run/failover.fifo", FIFOLines: 4, FIFODropped: 1, FIFOError: "no reader",
		Recent: []client.HookRun{{Service: "web", Hook: "service", From: "up", To: "fail", Command: []string{"/bin/hook", "web"},
			At: now.Add(-3 * time.Second), Duration: client.Duration(2 * time.Second), Exit: -1, TimedOut: true, Error: "timed out after 2s; process group killed"}}}}
	out := RenderStatus(st)
	for _, want := range []string{
		"CHECK     KIND  EFFECT     VERDICT  LAST RUN  TOOK   RUNS  FAILED  OUTPUT",
		"web/http  http  fail       FAILING  2s ago    1.5ms  10    3       HTTP 503 Service Unavailable, want 200",
		"web/db    tcp   weight 30  FAILING  1s ago",
		"web/gw    ping  fail       pending  -",
		"  web: priority lowered by 30 to 70 by failing weight checks",
		"hooks: 0 queued, 1 dropped; fifo /run/failover.fifo: 4 lines, 1 dropped (no reader)",
		"web/service  up->fail  /bin/hook web  -1    2s    3s ago  timed out after 2s; process group killed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks\n%s\n--- got ---\n%s", want, out)
		}
	}
	plain := RenderStatus(&client.Status{Node: "n1", Services: []client.Service{{Name: "web", State: "up"}}})
	if strings.Contains(plain, "CHECK") || strings.Contains(plain, "hooks:") {
		t.Errorf("a status without checks or hooks shows them:\n%s", plain)
	}
	old, cur := summary(st), summary(st)
	cur["check web/http"] = "ok"
	if got := changes(old, cur); len(got) != 1 || got[0] != "check web/http: failing -> ok" {
		t.Errorf("watch changes %q", got)
	}
}
