package transport

import (
	"errors"
	"testing"
	"time"
)

func TestReplayGuard(t *testing.T) {
	type step struct {
		peer, path string
		epoch, seq uint64
		ok         bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{"a", "p", 1, 1, true}, {"a", "p", 1, 2, true}, {"a", "p", 1, 3, true}}},
		{"duplicate", []step{{"a", "p", 1, 5, true}, {"a", "p", 1, 5, false}}},
		{"reordered within window", []step{{"a", "p", 1, 10, true}, {"a", "p", 1, 8, true}, {"a", "p", 1, 9, true}, {"a", "p", 1, 8, false}}},
		{"window edge", []step{{"a", "p", 1, 100, true}, {"a", "p", 1, 100 - ReplayWindow + 1, true}, {"a", "p", 1, 100 - ReplayWindow, false}}},
		{"big jump forgets", []step{{"a", "p", 1, 1, true}, {"a", "p", 1, 1000, true}, {"a", "p", 1, 999, true}, {"a", "p", 1, 1, false}}},
		{"jump of exactly 64", []step{{"a", "p", 1, 1, true}, {"a", "p", 1, 65, true}, {"a", "p", 1, 2, true}, {"a", "p", 1, 65, false}}},
		{"restart resets", []step{{"a", "p", 1, 500, true}, {"a", "p", 2, 0, true}, {"a", "p", 2, 1, true}, {"a", "p", 2, 0, false}}},
		{"lower epoch rejected", []step{{"a", "p", 5, 1, true}, {"a", "p", 4, 100, false}, {"a", "p", 5, 2, true}}},
		{"per path", []step{{"a", "p", 1, 5, true}, {"a", "q", 1, 5, true}, {"a", "q", 1, 5, false}}},
		{"per peer", []step{{"a", "p", 1, 5, true}, {"b", "p", 1, 5, true}, {"b", "p", 1, 5, false}}},
		{"max seq", []step{{"a", "p", 1, ^uint64(0), true}, {"a", "p", 1, ^uint64(0), false}, {"a", "p", 1, ^uint64(0) - 1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewReplayGuard(0)
			for i, s := range tt.steps {
				err := g.Check(s.peer, s.path, s.epoch, s.seq)
				if (err == nil) != s.ok {
					t.Fatalf("step %d %+v: err = %v", i, s, err)
				}
				if err != nil && !errors.Is(err, ErrReplay) {
					t.Fatalf("step %d: err = %v, want ErrReplay", i, err)
				}
			}
		})
	}
}

func TestReplayGuardBounded(t *testing.T) {
	g := NewReplayGuard(2)
	for i, p := range []string{"a", "b"} {
		if err := g.Check(p, "x", 1, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Check("c", "x", 1, 1); !errors.Is(err, ErrReplay) {
		t.Errorf("third pair: err = %v, want ErrReplay (table full)", err)
	}
	g.Forget("a")
	if err := g.Check("c", "x", 1, 1); err != nil {
		t.Errorf("after Forget: %v", err)
	}
}

func TestGateCounts(t *testing.T) {
	s := newTestSealer(t, 7)
	g := &Gate{Sealer: s, Replay: NewReplayGuard(0)}
	var c Counters
	good, _ := s.Seal(sampleFrame())
	other, _ := newTestSealer(t, 8).Seal(sampleFrame())
	forged := append([]byte(nil), good...)
	forged[len(forged)-1] ^= 0xff
	for _, b := range [][]byte{good, good, forged, other, good[:3], {9, 1, 2, 3, 4, 5, 6, 7}} {
		_, _ = g.Admit(Packet{Path: "eth0", Data: b}, &c)
	}
	got := c.Snapshot()
	if got.Replays != 1 || got.AuthFailures != 1 || got.OtherCluster != 1 || got.Malformed != 1 || got.BadVersion != 1 {
		t.Errorf("counters = %+v", got)
	}
}

func TestRTT(t *testing.T) {
	v := PathView{EchoAt: 1_000_000, EchoHold: 30 * time.Millisecond}
	rtt, ok := RTT(1_050_000, v)
	if !ok || rtt != 20*time.Millisecond {
		t.Errorf("RTT = %v, %v; want 20ms, true", rtt, ok)
	}
	if _, ok := RTT(1_010_000, v); ok {
		t.Error("negative RTT reported ok")
	}
	if _, ok := RTT(5, PathView{}); ok {
		t.Error("RTT without echo reported ok")
	}
	var c Counters
	for _, d := range []time.Duration{10, 26, 10} {
		c.ObserveRTT(d * time.Millisecond)
	}
	s := c.Snapshot()
	// |26-10|=16 -> J=1ms; |10-26|=16 -> J = 1 + 15/16 ms
	if s.RTT != 10*time.Millisecond || s.Jitter != time.Millisecond+15*time.Millisecond/16 || s.RTTSamples != 3 {
		t.Errorf("snapshot = %+v", s)
	}
}
