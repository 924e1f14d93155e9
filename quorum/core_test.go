package quorum

import (
	"errors"
	"slices"
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
		{"unknown service weight", Weight{At: t0, Service: "vip9", Drop: 10}, ErrUnknownService},
		{"negative weight", Weight{At: t0, Service: "vip1", Drop: -1}, ErrUnexpected},
		{"probed without probe", Probed{At: t0, Service: "vip1"}, ErrUnexpected},
		{"probed unknown service", Probed{At: t0, Service: "vip9"}, ErrUnknownService},
		{"inherited unknown service", Inherited{At: t0, Service: "vip9"}, ErrUnknownService},
		{"time backwards", Tick{At: t0.Add(-time.Nanosecond)}, ErrTimeBackwards},
		{"stale epoch", Heard{At: t0, Peer: "n2", Path: "eth0", Epoch: 1, Seq: 9}, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, twoNodeConfig("n1"))
			// n2 holds vip1: hearing it ends our listen, and with a
			// holder we neither claim nor probe.
			mustStep(t, c, Heard{At: t0, Peer: "n2", Path: "eth0", Epoch: 2, Seq: 1, Interval: ms(100),
				Services: []ServiceState{{Name: "vip1", State: StateUp, Priority: 50}}})
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

// heard builds a heartbeat from n2 with its services.
func heard(at time.Duration, path string, seq uint64, svc State) Heard {
	return Heard{At: t0.Add(at), Peer: "n2", Path: path, Epoch: 1, Seq: seq, Interval: ms(100),
		Services: []ServiceState{{Name: "vip1", State: svc, Priority: 50}},
		Views:    []View{{Peer: "n1", Path: "eth0", Up: true}, {Peer: "n1", Path: "eth1", Up: true}, {Peer: "n1", Path: "serial0", Up: true}}}
}

func TestControlIsIdempotent(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	// n1 (prio 100) is in reclaim against holder n2 in effect; simpler: n2
	// holds, n1 is recovering; n2 hands over to n1 on three paths.
	for i, p := range []string{"eth0", "eth1", "serial0"} {
		mustStep(t, c, heard(ms(i), p, 1, StateUp))
	}
	var takes int
	for i, p := range []string{"eth0", "eth1", "serial0"} {
		h := heard(ms(10+i), p, 2, StateFail)
		h.Control = &Control{Op: CtlRelease, Service: "vip1", Target: "n1", Ref: 7}
		for _, a := range mustStep(t, c, h) {
			if _, ok := a.(AddVIP); ok {
				takes++
			}
		}
	}
	if takes != 1 {
		t.Errorf("AddVIP %d times for one release sent on three paths, want 1", takes)
	}
	if got := c.Status().Services[0].State; got != StateUp {
		t.Errorf("state %v, want up", got)
	}
}

func TestReleaseForSomeoneElseIgnored(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	h := heard(0, "eth0", 1, StateFail)
	h.Control = &Control{Op: CtlRelease, Service: "vip1", Target: "n3", Ref: 1}
	for _, a := range mustStep(t, c, h) {
		if _, ok := a.(AddVIP); ok {
			t.Fatalf("took an address released to someone else")
		}
	}
}

func TestPeerRestartReported(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, heard(0, "eth0", 40, StateRecover))
	h := heard(ms(50), "eth0", 1, StateRecover)
	h.Epoch = 2
	acts := mustStep(t, c, h)
	want := PeerChanged{Peer: "n2", From: PeerDegraded, To: PeerDegraded, Reason: "restarted: epoch 1 -> 2"}
	if diff := cmp.Diff(want, acts[0]); diff != "" {
		t.Errorf("first action (-want +got):\n%s", diff)
	}
	st := c.Status().Peers[0]
	if st.Epoch != 2 || st.Restarts != 1 {
		t.Errorf("status epoch %d restarts %d, want 2, 1", st.Epoch, st.Restarts)
	}
	// Seq tracking was reset: seq 2 of the new epoch is fresh.
	h = heard(ms(100), "eth0", 2, StateFail)
	h.Epoch = 2
	mustStep(t, c, h)
	if got := c.byPeer["n2"].services["vip1"].State; got != StateFail {
		t.Errorf("n2 vip1 %v after fresh frame, want fail", got)
	}
}

func TestStaleSeqDoesNotRewindState(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, heard(0, "eth0", 5, StateFail))
	mustStep(t, c, heard(ms(1), "eth1", 4, StateUp)) // late copy of an older frame
	if got := c.byPeer["n2"].services["vip1"].State; got != StateFail {
		t.Errorf("n2 vip1 %v, want fail (older frame ignored)", got)
	}
	if got := c.Status().Peers[0].Paths[1].State; got != PathUp {
		t.Errorf("eth1 %v, want up (an old frame still proves the path)", got)
	}
}

func TestProbedAfterLeavingIndoubtAccepted(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, Tick{At: t0.Add(ms(500))})
	mustStep(t, c, Tick{At: t0.Add(ms(600))}) // Probe
	mustStep(t, c, Command{At: t0.Add(ms(601)), Service: "vip1", Op: OpFail})
	acts := mustStep(t, c, Probed{At: t0.Add(ms(602)), Service: "vip1"})
	if len(acts) != 0 {
		t.Errorf("late Probed produced %v", acts)
	}
	if _, err := c.Step(Probed{At: t0.Add(ms(603)), Service: "vip1"}); err == nil {
		t.Errorf("second Probed accepted")
	}
}

func TestNextDeadlineAlwaysAhead(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	if got := c.NextDeadline(); !got.After(t0) || got.After(t0.Add(time.Second)) {
		t.Errorf("NextDeadline %v, want within (t0, t0+1s]", got.Sub(t0))
	}
	mustStep(t, c, heard(0, "eth0", 1, StateUp))
	if got, want := c.NextDeadline(), t0.Add(ms(150)); !got.Equal(want) {
		t.Errorf("NextDeadline %v, want suspect at %v", got.Sub(t0), want.Sub(t0))
	}
}

func BenchmarkStep(b *testing.B) {
	c, err := New(twoNodeConfig("n1"), t0)
	if err != nil {
		b.Fatal(err)
	}
	paths := []string{"eth0", "eth1", "serial0"}
	h := heard(0, "eth0", 0, StateRecover)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.At = t0.Add(time.Duration(i) * ms(33))
		h.Path = paths[i%3]
		h.Seq = uint64(i/3 + 1)
		if _, err := c.Step(h); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCarrierBackListensBeforeClaiming(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, Tick{At: t0.Add(ms(500))}) // indoubt
	mustStep(t, c, Link{At: t0.Add(ms(510)), Path: "eth1", Up: false})
	acts := mustStep(t, c, Link{At: t0.Add(ms(520)), Path: "eth1", Up: true})
	want := []Action{
		StateChanged{Service: "vip1", From: StateIndoubt, To: StateRecover, Reason: "listening: carrier just returned"},
		SendHeartbeat{},
	}
	if diff := cmp.Diff(want, acts); diff != "" {
		t.Fatalf("carrier back (-want +got):\n%s", diff)
	}
	// Nothing until the path's deadtime has passed, then the claim restarts.
	if got, want := c.NextDeadline(), t0.Add(ms(820)); !got.Equal(want) {
		t.Errorf("NextDeadline %v, want %v", got.Sub(t0), want.Sub(t0))
	}
	acts = mustStep(t, c, Tick{At: t0.Add(ms(820))})
	if len(acts) == 0 || acts[0].(StateChanged).To != StateIndoubt {
		t.Errorf("after listening: %v, want indoubt", acts)
	}
}

// holder returns n1 holding vip1 with n2 alive and in recover.
func holder(t *testing.T) *Core {
	t.Helper()
	c := mustNew(t, twoNodeConfig("n1"))
	for i, p := range []string{"eth0", "eth1", "serial0"} {
		mustStep(t, c, heard(ms(i), p, 1, StateRecover))
	}
	mustStep(t, c, Tick{At: t0.Add(ms(500))})
	mustStep(t, c, Tick{At: t0.Add(ms(600))})
	mustStep(t, c, Probed{At: t0.Add(ms(601)), Service: "vip1"})
	for i, p := range []string{"eth0", "eth1", "serial0"} {
		mustStep(t, c, heard(ms(602+i), p, 2, StateRecover))
	}
	if st := c.Status().Services[0]; st.State != StateUp {
		t.Fatalf("setup: n1 vip1 %v (%s), want up", st.State, st.Reason)
	}
	return c
}

func TestPlannedHandOverRemovesBeforeReleasing(t *testing.T) {
	at := t0.Add(ms(700))
	tests := []struct {
		name string
		ev   Event
		to   State
		why  string
	}{
		{"operator fail", Command{At: at, Service: "vip1", Op: OpFail}, StateFail, "operator: fail"},
		{"health bad", Health{At: at, Service: "vip1", Reason: "nginx down"}, StateFail, "health: nginx down"},
		{"service NIC carrier", Link{At: at, Path: "eth0"}, StateFail, "carrier lost on service path eth0"},
		{"shutdown", Shutdown{At: at}, StateRecover, "shutdown"},
		{"reclaim by a lower node is ignored", Heard{At: at, Peer: "n2", Path: "eth1", Epoch: 1, Seq: 3,
			Interval: ms(100), Control: &Control{Op: CtlReclaim, Service: "vip1", Target: "n1", Ref: 1}}, StateUp, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := holder(t)
			acts := mustStep(t, c, tt.ev)
			var want []Action
			if tt.to != StateUp {
				want = []Action{
					RemoveVIP{Service: "vip1"},
					StateChanged{Service: "vip1", From: StateUp, To: tt.to, Reason: tt.why},
					Send{Control: Control{Op: CtlRelease, Service: "vip1", Target: "n2", Ref: 1}},
					SendHeartbeat{},
				}
			} else {
				want = []Action{Alarm{Service: "vip1", Peer: "n2", Text: "n2 asked for vip1 back but does not outrank us; ignored"}}
			}
			var got []Action
			for _, a := range acts {
				switch a.(type) {
				case PathChanged, PeerChanged: // liveness noise of a carrier loss
				default:
					got = append(got, a)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStepAtStamps: StepAt feeds the event at the time given, whatever the
// event carried, for every event kind; a nil event is rejected and an event
// stamped before the core's time is rejected as Step rejects it.
func TestStepAtStamps(t *testing.T) {
	at := t0.Add(ms(700))
	for _, ev := range []Event{
		Tick{}, Heard{Peer: "n2", Path: "eth0", Epoch: 1, Seq: 9, Interval: ms(20)}, Link{Path: "eth1", Up: true},
		Health{Service: "vip1", OK: true}, Command{Service: "vip1", Op: OpRecover},
		Weight{Service: "vip1", Drop: 10}, Shutdown{},
	} {
		c := holder(t)
		if _, err := c.StepAt(at, ev); err != nil {
			t.Errorf("%T: %v", ev, err)
			continue
		}
		if got := c.Status().At; !got.Equal(at) {
			t.Errorf("%T: core time %v after StepAt, want %v", ev, got, at)
		}
		if _, err := c.StepAt(at.Add(-ms(1)), Tick{At: at.Add(ms(5))}); err == nil {
			t.Errorf("%T: StepAt before the core's time accepted", ev)
		}
	}
	if _, err := holder(t).StepAt(at, nil); err == nil {
		t.Error("StepAt(nil) accepted")
	}
}

// TestWeight: a Weight lowers our priority as we advertise and rank it,
// never below 0; a change is sent at once, a repeat is not.
func TestWeight(t *testing.T) {
	c := holder(t) // n1 (100) holds vip1; n2 (50) in recover
	at := t0.Add(ms(700))
	for _, tc := range []struct {
		drop      int
		priority  int
		heartbeat bool // a SendHeartbeat among the actions
	}{
		{0, 100, false},
		{30, 70, true},
		{30, 70, false},
		{49, 51, true},
		{250, 0, true},
		{0, 100, true},
	} {
		acts := mustStep(t, c, Weight{At: at, Service: "vip1", Drop: tc.drop})
		at = at.Add(ms(1))
		sent := false
		for _, a := range acts {
			if _, ok := a.(SendHeartbeat); ok {
				sent = true
			}
		}
		if sent != tc.heartbeat {
			t.Errorf("drop %d: heartbeat sent %v, want %v (%v)", tc.drop, sent, tc.heartbeat, acts)
		}
		if got := c.Advert().Services[0].Priority; got != tc.priority {
			t.Errorf("drop %d: advertised priority %d, want %d", tc.drop, got, tc.priority)
		}
		st := c.Status().Services[0]
		if st.Priority != tc.priority || st.Drop != tc.drop {
			t.Errorf("drop %d: status priority %d drop %d, want %d %d", tc.drop, st.Priority, st.Drop, tc.priority, tc.drop)
		}
		// The holder keeps the service whatever its own weight: a better
		// node must reclaim it (n2, 50, does not outrank 51 or more).
		if st.State != StateUp {
			t.Errorf("drop %d: state %v, want up", tc.drop, st.State)
		}
	}
}

// TestWeightedPeerRanking: we rank a peer by the priority it advertises
// (lowered by its weights), never above what we configured for it.
func TestWeightedPeerRanking(t *testing.T) {
	for _, tc := range []struct {
		name     string
		adv      int // n1's advertised priority (configured 100)
		reclaim  bool
		mismatch bool
	}{
		{"holder at its priority", 100, false, false},
		{"holder weighted below us", 40, true, false},
		{"holder weighted to our priority: the smaller name wins", 50, false, false},
		{"holder advertising more than configured", 120, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, twoNodeConfig("n2")) // n2 (50); failback delay 1s
			views := []View{{Peer: "n2", Path: "eth0", Up: true}, {Peer: "n2", Path: "eth1", Up: true}, {Peer: "n2", Path: "serial0", Up: true}}
			var acts []Action
			for i := range 30 { // 3s of heartbeats from n1 holding vip1
				for j, p := range []string{"eth0", "eth1", "serial0"} {
					acts = append(acts, mustStep(t, c, Heard{At: t0.Add(ms(100*i + j)), Peer: "n1", Path: p, Epoch: 1, Seq: uint64(i + 1), Interval: ms(100),
						Services: []ServiceState{{Name: "vip1", State: StateUp, Priority: tc.adv}}, Views: views})...)
				}
			}
			reclaimed := false
			for _, a := range acts {
				if sc, ok := a.(StateChanged); ok && sc.To == StateReclaim {
					reclaimed = true
				}
			}
			if reclaimed != tc.reclaim {
				t.Errorf("reclaimed %v, want %v", reclaimed, tc.reclaim)
			}
			if got := len(c.Status().Mismatches) > 0; got != tc.mismatch {
				t.Errorf("mismatch %v, want %v: %v", got, tc.mismatch, c.Status().Mismatches)
			}
		})
	}
}

// TestMismatchNamesTimers: a peer whose fingerprint differs gets our
// timers (Advert.SendTimers), and the timers it sends name each
// difference; the fingerprint is listed only when they do not explain it.
func TestMismatchNamesTimers(t *testing.T) {
	ours := Timers{Deadtime: ms(100), Startup: ms(300), Damping: ms(10000), FlapLimit: 3, CarrierSettle: ms(1000), Rest: 7,
		Services: []ServiceTimers{{Name: "vip1", Failback: true, FailbackDelay: ms(1000)}}}
	with := func(f func(*Timers)) *Timers {
		t := ours
		t.Services = slices.Clone(ours.Services)
		f(&t)
		return &t
	}
	type mm struct{ key, ours, theirs string }
	for _, tc := range []struct {
		name     string
		fp       uint32 // the peer's fingerprint (ours is 1)
		prio     int    // advertised (configured 50)
		timers   *Timers
		want     []mm
		send     bool // we send our timers
		alarm    string
		alarmMid bool // the alarm is raised before a deadtime has passed
	}{
		{name: "agreeing peer sending timers for a third node", fp: 1, prio: 50, timers: with(func(t *Timers) { t.Deadtime = ms(200) })},
		{name: "deadtime", fp: 2, prio: 50, timers: with(func(t *Timers) { t.Deadtime = ms(200) }),
			want: []mm{{"timers.deadtime", "100ms", "200ms"}}, send: true, alarmMid: true,
			alarm: "config mismatch with n2: timers.deadtime ours 100ms theirs 200ms"},
		{name: "every timer", fp: 2, prio: 50, timers: &Timers{AdaptiveFloor: ms(250), IndoubtHold: ms(50), Rest: 7,
			Services: []ServiceTimers{{Name: "vip1"}}},
			want: []mm{{"timers.deadtime", "100ms", "0s"}, {"timers.adaptive_floor", "0s", "250ms"}, {"timers.startup", "300ms", "0s"},
				{"timers.indoubt_hold", "0s", "50ms"}, {"timers.damping", "10s", "0s"}, {"timers.flap_limit", "3", "0"},
				{"timers.carrier_settle", "1s", "0s"}, {"services.vip1.failback", "true", "false"}, {"services.vip1.failback_delay", "1s", "0s"}},
			send: true, alarmMid: true},
		{name: "a service only the peer has is left to the fingerprint", fp: 2, prio: 50,
			timers: with(func(t *Timers) { t.Services[0].Name = "vip2"; t.Rest = 8 }),
			want:   []mm{{"fingerprint", "00000001", "00000002"}}, send: true, alarmMid: true},
		{name: "no timers from the peer (an earlier version)", fp: 2, prio: 50,
			want: []mm{{"fingerprint", "00000001", "00000002"}}, send: true,
			alarm: "config mismatch with n2: fingerprint ours 00000001 theirs 00000002"},
		{name: "timers equal: something they do not cover", fp: 2, prio: 50, timers: with(func(*Timers) {}),
			want: []mm{{"fingerprint", "00000001", "00000002"}}, send: true, alarmMid: true},
		{name: "rest differs besides a timer", fp: 2, prio: 50, timers: with(func(t *Timers) { t.Rest = 8; t.Damping = ms(20000) }),
			want: []mm{{"timers.damping", "10s", "20s"}, {"fingerprint", "00000001", "00000002"}}, send: true, alarmMid: true},
		{name: "rest explained by an advertised priority", fp: 2, prio: 60, timers: with(func(t *Timers) { t.Rest = 8 }),
			want: []mm{{"services.vip1.priority", "50", "60"}}, send: true, alarmMid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := twoNodeConfig("n1")
			cfg.Fingerprint, cfg.Timers = 1, ours
			c := mustNew(t, cfg)
			if c.Advert().SendTimers {
				t.Fatal("sends timers before hearing anyone")
			}
			var alarms []string
			var firstAlarm time.Duration
			for i := range 10 { // 1s of heartbeats on every path
				for j, p := range []string{"eth0", "eth1", "serial0"} {
					at := ms(100*i + j)
					h := Heard{At: t0.Add(at), Peer: "n2", Path: p, Epoch: 1, Seq: uint64(i + 1), Interval: ms(100), Fingerprint: tc.fp,
						Services: []ServiceState{{Name: "vip1", State: StateRecover, Priority: tc.prio}}}
					if i > 0 { // its first frame went out before it heard us
						h.Timers = tc.timers
					}
					for _, a := range mustStep(t, c, h) {
						if al, ok := a.(Alarm); ok {
							if len(alarms) == 0 {
								firstAlarm = at
							}
							alarms = append(alarms, al.Text)
						}
					}
				}
			}
			var got []mm
			for _, m := range c.Status().Mismatches {
				got = append(got, mm{m.Key, m.Ours, m.Theirs})
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(mm{})); diff != "" {
				t.Errorf("mismatches (-want +got):\n%s", diff)
			}
			if got := c.Advert().SendTimers; got != tc.send {
				t.Errorf("SendTimers %v, want %v", got, tc.send)
			}
			switch {
			case tc.want == nil && len(alarms) > 0:
				t.Errorf("alarms %q, want none", alarms)
			case tc.want != nil && len(alarms) != 1:
				t.Errorf("alarms %q, want one", alarms)
			case tc.alarm != "" && alarms[0] != tc.alarm:
				t.Errorf("alarm %q, want %q", alarms[0], tc.alarm)
			case tc.want != nil && tc.alarmMid != (firstAlarm < ms(300)):
				t.Errorf("alarm at %v, want it before the deadtime (300ms) %v", firstAlarm, tc.alarmMid)
			}
		})
	}
}
