package rig

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// script fills Probes with one probe every ProbeInterval; from[i] is who
// answered probe i ("" = lost).
func script(from []string) (*Probes, time.Time) {
	var p Probes
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, f := range from {
		sent := t0.Add(time.Duration(i) * ProbeInterval)
		p.sent(uint64(i+1), sent)
		if f != "" {
			p.answered(uint64(i+1), f, sent.Add(time.Millisecond))
		}
	}
	return &p, t0
}

func TestOutage(t *testing.T) {
	from := []string{"h1", "h1", "h1", "", "", "", "", "h2", "h2", "", "h2"}
	p, t0 := script(from)
	o := p.Outage(t0.Add(25*ProbeInterval/10), t0.Add(20*ProbeInterval))
	// Last answer at probe 2 (20ms), next at probe 7 (70ms): 50ms gap minus
	// one interval = 40ms (4 probes lost), then one more lost later.
	if o.Longest != 40*time.Millisecond || o.Before != "h1" || o.After != "h2" || o.Lost != 5 {
		t.Errorf("got %+v", o)
	}
	if o := p.Outage(t0, t0.Add(3*ProbeInterval)); o.Longest != 0 || o.Lost != 0 {
		t.Errorf("no loss: got %+v", o)
	}
	if a, ok := p.Last(); !ok || a.From != "h2" || a.Seq != 11 {
		t.Errorf("last: %+v", a)
	}
	if a, ok := p.FirstFrom("h2", t0.Add(ProbeInterval)); !ok || a.Seq != 8 {
		t.Errorf("FirstFrom(h2) = %+v %v, want probe 8", a, ok)
	}
	if a, ok := p.FirstFrom("h1", t0.Add(ProbeInterval)); !ok || a.Seq != 2 {
		t.Errorf("FirstFrom(h1, after probe 1's answer) = %+v %v, want probe 2", a, ok)
	}
	if a, ok := p.FirstFrom("h1", t0.Add(5*ProbeInterval)); ok {
		t.Errorf("FirstFrom(h1) after h1's last answer = %+v, want none", a)
	}
	if got := p.AnsweredAfter(7); len(got) != 3 || got[0].Seq != 8 {
		t.Errorf("AnsweredAfter(7) = %+v", got)
	}
	a, err := p.Wait(context.Background(), "h2", t0.Add(5*ProbeInterval))
	if err != nil || a.Seq != 11 {
		t.Errorf("wait: %+v %v", a, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Wait(ctx, "h3", t0); err == nil {
		t.Error("wait for h3 did not fail")
	}
}

func TestDuplicates(t *testing.T) {
	p, _ := script([]string{"h1"})
	p.answered(1, "h2", time.Now())
	if p.Duplicates() != 1 {
		t.Errorf("duplicates = %d", p.Duplicates())
	}
}

func TestProberAndResponderOnLoopback(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Respond(srv, "h9") }()
	cl, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	target := netip.MustParseAddrPort(srv.LocalAddr().String())
	pr := StartProber(cl, target)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := pr.Wait(ctx, "h9", time.Time{})
	if err != nil || a.From != "h9" {
		t.Fatalf("wait: %+v %v", a, err)
	}
	pr.Close()
	pr.Close()
	srv.Close()
	if err := <-done; err != nil {
		t.Errorf("responder: %v", err)
	}
}
