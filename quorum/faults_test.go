package quorum

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A frame that waited in a reader longer than its path's deadtime is
// rejected whole: its liveness, its services and its control message are
// out of date.
func TestStaleFrameRejected(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	h := heard(ms(400), "eth0", 1, StateUp)
	h.Received = t0.Add(ms(99)) // 301ms before it reaches the core; deadtime 300ms
	h.Control = &Control{Op: CtlRelease, Service: "vip1", Target: "n1", Ref: 1}
	if _, err := c.Step(h); !errors.Is(err, ErrTooOld) {
		t.Fatalf("Step of a 301ms old frame: %v, want ErrTooOld", err)
	}
	st := c.Status()
	if st.Peers[0].State != PeerUnknown || st.Services[0].Owner != "" {
		t.Errorf("a rejected frame changed the view: peer %v, owner %q", st.Peers[0].State, st.Services[0].Owner)
	}
	// Inside the deadtime it counts, with its own time for liveness: 200ms
	// old, the path is only suspect (past 150ms).
	h.Received = t0.Add(ms(200))
	h.Control = nil
	mustStep(t, c, h)
	if got := c.Status().Peers[0].Paths[0]; got.State != PathSuspect || !got.LastHeard.Equal(t0.Add(ms(200))) {
		t.Errorf("path after a 200ms old frame: %v, last heard %v; want suspect, heard at 200ms",
			got.State, got.LastHeard.Sub(t0))
	}
}

// A stall drops every claim at once (RemoveVIP before anything is sent) and
// makes every path listen again before anything is claimed.
func TestStalledDropsClaims(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, Tick{At: t0.Add(ms(500))})
	mustStep(t, c, Probed{At: t0.Add(ms(520)), Service: "vip1"})
	mustStep(t, c, Tick{At: t0.Add(ms(600))})
	if st := c.Status().Services[0].State; st != StateUp {
		t.Fatalf("state %v, want up before the stall", st)
	}
	acts := mustStep(t, c, Stalled{At: t0.Add(ms(3800)), For: ms(3200)})
	why := "stalled for 3.2s: dropping claims"
	want := []Action{
		Alarm{Text: why},
		RemoveVIP{Service: "vip1"},
		StateChanged{Service: "vip1", From: StateUp, To: StateRecover, Reason: why},
		SendHeartbeat{},
	}
	if diff := cmp.Diff(want, acts); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if !c.Status().Starting {
		t.Error("not listening after a stall")
	}
	// Alone, it claims again the normal way once the listen is over: one
	// deadtime (nobody to hear), then indoubt and a probe.
	acts = mustStep(t, c, Tick{At: t0.Add(ms(4100))})
	if !hasAction(acts, Probe{Service: "vip1"}) {
		t.Errorf("after the listen: %v, want a probe", acts)
	}
}

func hasAction(acts []Action, a Action) bool {
	for _, x := range acts {
		if cmp.Equal(x, a) {
			return true
		}
	}
	return false
}

func TestRoundStall(t *testing.T) {
	for d, want := range map[time.Duration]string{
		ms(3240): "3.2s", ms(150): "150ms", 12345 * time.Millisecond: "12s", ms(1000): "1.0s",
	} {
		if got := roundStall(d); got != want {
			t.Errorf("roundStall(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFlaps(t *testing.T) {
	d := Damping{Period: 10 * time.Second, Flaps: 3}
	var f flaps
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for i, tc := range []struct {
		t       float64
		started bool
		held    bool // right after
	}{
		{0, false, false},
		{5, false, false},
		{11, false, false}, // the first left the window: two within 10s
		{12, true, true},   // three within 10s (5, 11, 12)
		{15, false, true},  // extends the hold to 25s
	} {
		if got := f.down(d, at(tc.t)); got != tc.started {
			t.Errorf("%d: down at %vs started %v, want %v", i, tc.t, got, tc.started)
		}
		if got := f.held(at(tc.t)); got != tc.held {
			t.Errorf("%d: held at %vs = %v, want %v", i, tc.t, got, tc.held)
		}
	}
	if !f.held(at(24.9)) || f.held(at(25)) {
		t.Errorf("hold ends at %v, want 25s", f.until.Sub(t0))
	}
	var off flaps
	for i := range 10 {
		if off.down(Damping{}, at(float64(i))) {
			t.Fatal("damping off still held")
		}
	}
}

func TestDampingValidated(t *testing.T) {
	cfg := twoNodeConfig("n1")
	cfg.Damping = Damping{Period: -time.Second, Settle: -1}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "damping.period") || !strings.Contains(err.Error(), "damping.settle") {
		t.Errorf("Validate: %v, want damping.period and damping.settle", err)
	}
	cfg.Damping = Damping{Period: time.Second, Flaps: 1}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "damping.flaps") {
		t.Errorf("Validate: %v, want damping.flaps", err)
	}
	cfg.Damping = DefaultDamping()
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// The service NIC's carrier must stay up for Settle before the service
// may come back; the status says what it waits for.
func TestServiceNICSettles(t *testing.T) {
	cfg := twoNodeConfig("n1")
	cfg.Damping = Damping{Settle: time.Second}
	c := mustNew(t, cfg)
	mustStep(t, c, Link{At: t0.Add(ms(100)), Path: "eth0", Up: false})
	mustStep(t, c, Link{At: t0.Add(ms(300)), Path: "eth0", Up: true})
	st := c.Status().Services[0]
	if st.State != StateFail || !strings.Contains(st.Reason, "settling for 1s") {
		t.Errorf("carrier back for 0s: %v (%s), want fail, settling", st.State, st.Reason)
	}
	if dl := c.NextDeadline(); dl.After(t0.Add(ms(1300))) {
		t.Errorf("next deadline %v, want at most 1.3s (the settle ends)", dl.Sub(t0))
	}
	mustStep(t, c, Tick{At: t0.Add(ms(1299))})
	if st := c.Status().Services[0].State; st != StateFail {
		t.Errorf("at 999ms of carrier: %v, want fail", st)
	}
	acts := mustStep(t, c, Tick{At: t0.Add(ms(1300))})
	want := StateChanged{Service: "vip1", From: StateFail, To: StateRecover, Reason: "carrier back on eth0, stable for 1s"}
	if !hasAction(acts, want) {
		t.Errorf("settled: %v, want %v", acts, want)
	}
}

// A peer that says it does not hear us is an alarm, once per episode, and
// only once it has said so for a deadtime on a path that is up.
func TestOneWayAlarm(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	deaf := func(at time.Duration, seq uint64) Heard {
		h := heard(at, "eth0", seq, StateRecover)
		h.Views = []View{{Peer: "n1", Path: "eth0", Up: false}, {Peer: "n1", Path: "eth1", Up: true}, {Peer: "n1", Path: "serial0", Up: true}}
		return h
	}
	var alarms []string
	for i := range 12 {
		at := ms(100 * i)
		for _, a := range mustStep(t, c, deaf(at, uint64(i+1))) {
			if al, ok := a.(Alarm); ok {
				alarms = append(alarms, al.Text)
			}
		}
	}
	// Path up at 0; the peer gets a deadtime (300ms) to hear us, then must
	// say it for another deadtime: one-way at 600ms.
	if diff := cmp.Diff([]string{"one-way: n2 does not hear us on eth0"}, alarms); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
	if !c.Status().Peers[0].Paths[0].OneWay {
		t.Error("status does not say one-way")
	}
}
