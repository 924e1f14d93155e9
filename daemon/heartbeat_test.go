package daemon

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/failover-ha/failover/transport"
)

// traffic: no rate before a second of samples; then bytes per second over
// the samples it holds (at most trafficSpan seconds), one sample a second
// however often it is asked.
func TestTrafficRates(t *testing.T) {
	var tr traffic
	var c transport.Counters
	t0 := time.Unix(1000, 0)
	if s, r := tr.rates(t0, &c); s != 0 || r != 0 {
		t.Errorf("rates with no sample = %v, %v", s, r)
	}
	tr.sample(t0, &c)
	c.Sent(500)
	if s, _ := tr.rates(t0.Add(500*time.Millisecond), &c); s != 0 {
		t.Errorf("rate after 0.5s = %v, want 0 (under a second)", s)
	}
	for i := 1; i <= 30; i++ { // 1000 bytes out, 200 in every second
		now := t0.Add(time.Duration(i) * time.Second)
		c.Sent(500)
		c.Received(200)
		tr.sample(now, &c)
		tr.sample(now.Add(time.Millisecond), &c) // too soon: ignored
		c.Sent(500)
	}
	s, r := tr.rates(t0.Add(30*time.Second), &c)
	// The oldest sample held is from t=20s; since then 10 s of 1000 B/s
	// out and 200 B/s in, plus the 500 sent after the last sample.
	if s != 1050 || r != 200 {
		t.Errorf("rates = %v out, %v in; want 1050, 200", s, r)
	}
}

// The heartbeat carries our timers only while a peer's fingerprint
// differs from ours; the peer's name each differing timer in status.
func TestHeartbeatTimersWhileMismatched(t *testing.T) {
	t0 := time.Now()
	n1 := loopSession(t, "n1", "n2", t0)
	n2 := loopSessionWith(t, "n2", "n1", t0, "\n[timers]\ndeadtime = \"200ms\"\n")
	n2same := loopSession(t, "n2", "n1", t0)
	open := func(from *session) transport.Frame {
		t.Helper()
		b, err := from.seal(transport.KindHeartbeat, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := from.sealer.Open(b)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	deliver := func(from, to *session) transport.Frame {
		t.Helper()
		b, err := from.seal(transport.KindHeartbeat, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range benchPaths {
			pkt := transport.Packet{Path: p, Data: bytes.Clone(b), At: time.Now()}
			f, err := to.gate.Admit(pkt, to.byName[p].ctr)
			if err != nil {
				t.Fatal(err)
			}
			to.heard(rxFrame{pkt, f})
		}
		f, _ := from.sealer.Open(b)
		return f
	}
	if f := open(n1); f.Timers != nil {
		t.Fatalf("n1 sends timers before hearing anyone: %+v", f.Timers)
	}
	// An agreeing peer: nothing more on the wire, either way.
	if f := deliver(n1, n2same); f.Timers != nil {
		t.Fatalf("n1's first frame carries timers")
	}
	if f := deliver(n2same, n1); f.Timers != nil {
		t.Fatalf("n2 (same config) sends timers to n1: %+v", f.Timers)
	}
	if f := open(n1); f.Timers != nil {
		t.Fatalf("n1 sends timers to an agreeing peer: %+v", f.Timers)
	}
	if ms := n1.core.Status().Mismatches; len(ms) > 0 {
		t.Fatalf("mismatches with an agreeing peer: %+v", ms)
	}

	// n2 with another deadtime: once it has heard n1, it sends its timers.
	n1 = loopSession(t, "n1", "n2", t0)
	if f := deliver(n2, n1); f.Timers != nil {
		t.Fatalf("n2 sends timers before hearing n1")
	}
	if f := deliver(n1, n2); f.Timers == nil || f.Timers.Deadtime != 80*time.Millisecond {
		t.Fatalf("n1's frame after hearing n2: timers %+v", f.Timers)
	}
	f := deliver(n2, n1)
	if f.Timers == nil || f.Timers.Deadtime != 200*time.Millisecond || len(f.Timers.Services) != 1 {
		t.Fatalf("n2's frame after hearing n1: timers %+v", f.Timers)
	}
	var keys []string
	for _, m := range n1.core.Status().Mismatches {
		keys = append(keys, m.Key+" "+m.Ours+" "+m.Theirs)
	}
	if want := []string{"timers.deadtime 80ms 200ms", "timers.startup 240ms 600ms"}; !slices.Equal(keys, want) {
		t.Errorf("n1's mismatches %q, want %q", keys, want)
	}
	if got, want := n1.status().Mismatch, "n2: timers.deadtime: ours 80ms, theirs 200ms"; len(got) == 0 || got[0] != want {
		t.Errorf("status mismatches %q, want %q first", got, want)
	}
}
