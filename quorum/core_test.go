package quorum

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func twoNodeConfig(self string) Config {
	peer := "n2"
	if self == "n2" {
		peer = "n1"
	}
	return Config{
		Self:     self,
		Peers:    []Peer{{Name: peer, Paths: []string{"eth0", "eth1", "serial0"}}},
		Paths:    []PathSpec{{Name: "eth0", Interval: ms(100), Deadtime: ms(300)}, {Name: "eth1", Interval: ms(100), Deadtime: ms(300)}, {Name: "serial0", Interval: ms(100), Deadtime: ms(300)}},
		Services: []Service{{Name: "vip1", Priorities: map[string]int{"n1": 100, "n2": 50}, Failback: true, FailbackDelay: ms(1000), IndoubtHold: ms(100), Path: "eth0"}},
		Interval: ms(100),
		Startup:  ms(500),
	}
}

func mustNew(t *testing.T, cfg Config) *Core {
	t.Helper()
	c, err := New(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustStep(t *testing.T, c *Core, ev Event) []Action {
	t.Helper()
	acts, err := c.Step(ev)
	if err != nil {
		t.Fatalf("Step(%#v): %v", ev, err)
	}
	return acts
}

func TestValidateReportsEverything(t *testing.T) {
	cfg := Config{
		Peers:    []Peer{{Name: "", Paths: []string{"nope"}}},
		Paths:    []PathSpec{{Name: "eth0", Interval: ms(100), Deadtime: ms(50)}},
		Services: []Service{{Name: "vip1", Priorities: map[string]int{"ghost": 1}, Path: "eth9"}},
	}
	_, err := New(cfg, t0)
	if err == nil {
		t.Fatal("New accepted a broken config")
	}
	for _, want := range []string{"self: empty", "interval: 0s", "paths[0].deadtime", "peers[0].name: empty", `peers[0].paths[0]: unknown path "nope"`, `services[0].priorities: unknown node "ghost"`, `services[0].path: unknown path "eth9"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoneNodeClaimsAfterStartup(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, Tick{At: t0.Add(ms(499))})
	if got := c.Status().Services[0].State; got != StateRecover {
		t.Fatalf("during startup: state %v, want recover", got)
	}
	acts := mustStep(t, c, Tick{At: t0.Add(ms(500))})
	want := []Action{
		StateChanged{Service: "vip1", From: StateRecover, To: StateIndoubt, Reason: "nobody holds vip1 and we rank first"},
		SendHeartbeat{},
		Probe{Service: "vip1"}, // the probe runs during the hold
	}
	if diff := cmp.Diff(want, acts); diff != "" {
		t.Fatalf("at startup end (-want +got):\n%s", diff)
	}
	// An unanswered probe does not cut the hold short.
	if acts = mustStep(t, c, Probed{At: t0.Add(ms(501)), Service: "vip1"}); len(acts) != 0 {
		t.Fatalf("probe answered inside the hold: got %v, want no actions", acts)
	}
	if got := c.Status().Services[0].State; got != StateIndoubt {
		t.Fatalf("inside the hold: state %v, want indoubt", got)
	}
	acts = mustStep(t, c, Tick{At: c.NextDeadline()})
	want = []Action{
		AddVIP{Service: "vip1"},
		Announce{Service: "vip1"},
		StateChanged{Service: "vip1", From: StateIndoubt, To: StateUp, Reason: "claimed: nobody holds vip1 and we rank first"},
		SendHeartbeat{},
	}
	if diff := cmp.Diff(want, acts); diff != "" {
		t.Fatalf("after the hold (-want +got):\n%s", diff)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want error
	}{
		{"nil", nil, ErrUnexpected},
		{"unknown peer", Heard{At: t0, Peer: "n9", Path: "eth0", Epoch: 1, Seq: 1}, ErrUnknownPeer},
		{"self as peer", Heard{At: t0, Peer: "n1", Path: "eth0", Epoch: 1, Seq: 1}, ErrUnknownPeer},
		{"unknown path", Heard{At: t0, Peer: "n2", Path: "eth7", Epoch: 1, Seq: 1}, ErrUnknownPath},
		{"unknown link", Link{At: t0, Path: "wlan0"}, ErrUnknownPath},
		{"unknown service health", Health{At: t0, Service: "vip9"}, ErrUnknownService},
		{"unknown service command", Command{At: t0, Service: "vip9", Op: OpFail}, ErrUnknownService},
		{"unknown op", Command{At: t0, Service: "vip1", Op: 7}, ErrUnexpected},
		{"probed without probe", Probed{At: t0, Service: "vip1"}, ErrUnexpected},
		{"probed unknown service", Probed{At: t0, Service: "vip9"}, ErrUnknownService},
		{"time backwards", Tick{At: t0.Add(-time.Nanosecond)}, ErrTimeBackwards},
		{"stale epoch", Heard{At: t0, Peer: "n2", Path: "eth0", Epoch: 1, Seq: 9}, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, twoNodeConfig("n1"))
			mustStep(t, c, Heard{At: t0, Peer: "n2", Path: "eth0", Epoch: 2, Seq: 1, Interval: ms(100)})
			before := c.Status()
			deadline := c.NextDeadline()
			acts, err := c.Step(tt.ev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Step: err %v, want %v", err, tt.want)
			}
			if acts != nil {
				t.Errorf("Step returned actions with an error: %v", acts)
			}
			if diff := cmp.Diff(before, c.Status()); diff != "" {
				t.Errorf("status changed (-before +after):\n%s", diff)
			}
			if got := c.NextDeadline(); !got.Equal(deadline) {
				t.Errorf("deadline changed: %v -> %v", deadline, got)
			}
		})
	}
}

func TestConflictAlarmsOncePerAnswerer(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, Tick{At: t0.Add(ms(500))}) // indoubt, probe out
	alarms := func(acts []Action) (n int) {
		for _, a := range acts {
			if _, ok := a.(Alarm); ok {
				n++
			}
		}
		return n
	}
	for i, tc := range []struct {
		by   string
		want int
	}{{"02:00:00:00:00:99", 1}, {"02:00:00:00:00:99", 0}, {"02:00:00:00:00:98", 1}} {
		acts := mustStep(t, c, Probed{At: c.NextDeadline(), Service: "vip1", Conflict: true, By: tc.by})
		if got := alarms(acts); got != tc.want {
			t.Errorf("conflict %d by %s: %d alarms, want %d (%v)", i, tc.by, got, tc.want, acts)
		}
		acts = mustStep(t, c, Tick{At: c.NextDeadline()})
		if diff := cmp.Diff([]Action{Probe{Service: "vip1"}}, acts); diff != "" {
			t.Fatalf("after conflict %d: re-probe (-want +got):\n%s", i, diff)
		}
	}
}
