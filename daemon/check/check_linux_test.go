//go:build linux

package check

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/lab"
)

func TestMain(m *testing.M) { lab.Main(m) }

// TestPrivilegedPingGateway pings h2 (the "gateway") from inside h1 with
// ICMP and with ARP, then drops h2's eth0 in the switch: both fail, the
// link stays up.
func TestPrivilegedPingGateway(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1, h2 := l.Host("h1"), l.Host("h2")
	gw := h2.Addr("eth0").String()
	specs := []Spec{
		{Service: "web", Name: "icmp", Kind: KindPing, Target: gw},
		{Service: "web", Name: "arp", Kind: KindPing, Method: MethodARP, Interface: "eth0", Target: gw},
	}
	for i := range specs {
		specs[i].Interval, specs[i].Timeout = 100*time.Millisecond, 300*time.Millisecond
		specs[i].Rise, specs[i].Fall, specs[i].Effect = 1, 2, EffectFail
	}
	var mu sync.Mutex
	verdict := map[string]bool{}
	s, err := New(specs, Options{Inside: h1.Do, OnChange: func(c Change) {
		mu.Lock()
		verdict[c.Check] = c.OK
		mu.Unlock()
		t.Logf("change: %s ok=%v: %s", c.Check, c.OK, c.Reason)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitStatus := func(what string, cond func(st []Status) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st := s.Status()
			if cond(st) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not reached; status %+v", what, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	passing := func(st []Status) bool {
		for _, c := range st {
			if c.Runs < 2 || !c.OK || !c.Last.OK {
				return false
			}
		}
		return true
	}
	waitStatus("both pass", passing)
	for _, c := range s.Status() {
		t.Logf("%s: %s", c.Spec.Name, c.Last.Output)
	}
	if out := s.Status()[1].Last.Output; !strings.Contains(out, h2.MAC("eth0").String()) {
		t.Errorf("arp output %q lacks h2's MAC %s", out, h2.MAC("eth0"))
	}
	if err := l.Drop("h2", "eth0", lab.DirBoth); err != nil {
		t.Fatal(err)
	}
	waitStatus("both fail", func(st []Status) bool {
		for _, c := range st {
			if c.OK {
				return false
			}
		}
		return true
	})
	mu.Lock()
	if verdict["icmp"] || verdict["arp"] {
		t.Errorf("changes reported %v, want both failing", verdict)
	}
	mu.Unlock()
	for _, c := range s.Status() {
		t.Logf("%s: %s", c.Spec.Name, c.Last.Output)
		if !strings.HasPrefix(c.Last.Output, "timed out after 300ms") {
			t.Errorf("%s: output %q, want a timeout", c.Spec.Name, c.Last.Output)
		}
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	waitStatus("both pass again", passing)
}
