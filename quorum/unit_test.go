package quorum

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDetectorTimeouts(t *testing.T) {
	fixed := PathSpec{Name: "eth0", Interval: ms(100), Deadtime: ms(500)}
	adaptive := fixed
	adaptive.Floor = ms(200)
	tests := []struct {
		name              string
		spec              PathSpec
		gaps              []time.Duration
		wantSus, wantDown time.Duration
	}{
		{"fixed ignores samples", fixed, []time.Duration{ms(100), ms(100), ms(100), ms(100)}, ms(250), ms(500)},
		{"adaptive needs samples", adaptive, []time.Duration{ms(100), ms(100)}, ms(250), ms(500)},
		{"clean path hits the floor", adaptive, []time.Duration{ms(100), ms(100), ms(100), ms(100)}, ms(150), ms(200)},
		// mean 100ms, sd 50ms: down at 100+6*50 = 400ms, suspect at 255ms.
		{"jitter widens", adaptive, []time.Duration{ms(50), ms(150), ms(50), ms(150)}, ms(255), ms(400)},
		{"ceiling caps", adaptive, []time.Duration{ms(10), ms(400), ms(10), ms(400)}, ms(500), ms(500)},
		// The sender uses 180ms, not our 100ms: suspect after 1.5 of its
		// intervals (270ms), not at 250ms between two of its frames.
		{"sender's interval", fixed, []time.Duration{ms(180), ms(180), ms(181), ms(179)}, ms(270), ms(500)},
		{"sender's interval, adaptive", adaptive, []time.Duration{ms(180), ms(180), ms(181), ms(179)}, ms(270), ms(288)},
		{"a faster sender does not shorten", fixed, []time.Duration{ms(20), ms(20), ms(20), ms(20)}, ms(250), ms(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d detector
			for _, g := range tt.gaps {
				d.add(g)
			}
			sus, down := d.timeouts(tt.spec)
			got := [2]time.Duration{sus.Round(time.Millisecond), down.Round(time.Millisecond)}
			if diff := cmp.Diff([2]time.Duration{tt.wantSus, tt.wantDown}, got); diff != "" {
				t.Errorf("timeouts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnumText(t *testing.T) {
	type all struct {
		S []State     `json:"s"`
		P []PathState `json:"p"`
		V []PeerState `json:"v"`
	}
	in := all{
		S: []State{StateUp, StateRecover, StateFail, StateIndoubt, StateReclaim},
		P: []PathState{PathUp, PathSuspect, PathDown},
		V: []PeerState{PeerUnknown, PeerAlive, PeerDegraded, PeerDead},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"s":["up","recover","fail","indoubt","reclaim"],"p":["up","suspect","down"],"v":["unknown","alive","degraded","dead"]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	var out all
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := State(9).String(); got != "state(9)" {
		t.Errorf("State(9) = %q", got)
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

func TestAdvertAndStatusJSON(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, heard(0, "eth0", 1, StateUp))
	want := Advert{
		Services: []ServiceState{{Name: "vip1", State: StateRecover, Priority: 100}},
		Views:    []View{{Peer: "n2", Path: "eth0", Up: true}, {Peer: "n2", Path: "eth1"}, {Peer: "n2", Path: "serial0"}},
	}
	if diff := cmp.Diff(want, c.Advert()); diff != "" {
		t.Errorf("Advert (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(c.Status())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"state":"degraded"`, `"owner":"n2"`, `"state":"recover"`, `"isolated":false`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("status JSON lacks %s:\n%s", s, b)
		}
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

func TestLossEstimate(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	// Every other frame on eth0 is lost: 20 frames heard over 40 intervals.
	for i := range 21 {
		mustStep(t, c, heard(time.Duration(2*i)*ms(100), "eth0", uint64(2*i+1), StateRecover))
	}
	got := c.Status().Peers[0].Paths[0].Loss
	if got < 0.45 || got > 0.55 {
		t.Errorf("loss %.2f, want about 0.5", got)
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
