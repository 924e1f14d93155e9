//go:build linux

package vip_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/failover-ha/failover/vip"
)

// waitOperUp waits until h's eth0 is operationally up again after AdminUp.
func waitOperUp(t *testing.T, r *rig, host string) {
	t.Helper()
	h := r.l.Host(host)
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := h.Netlink().LinkByName("eth0")
		if err == nil && l.Attrs().OperState == 6 /* up */ && l.Attrs().Flags&net.FlagUp != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s eth0 not up again: %v", host, err)
		}
		time.Sleep(5 * time.Millisecond) // polling the kernel's state, not waiting for a duration
	}
}

// An announcement after the service NIC went down and up lands: the ARP
// socket that was open across the down reports ENETDOWN once, and Announce
// sends again at once on a fresh socket. The client's entry follows.
func TestPrivilegedAnnounceAfterDownUp(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	// h1 owned once (its ARP socket is cached), then h2: the client
	// learns h2's MAC.
	must(t, r.m1.Ensure(ctx))
	must(t, r.m1.Announce(ctx))
	must(t, takeover(ctx, r.m1, r.m2))
	ch := neighWatch(t, r.client)
	clientSend(t, r.client, vip4.Addr())
	waitNeigh(t, ch, vip4.Addr(), r.h2.MAC("eth0"), 3*time.Second)
	// h1's cached socket goes through a down and up.
	must(t, r.l.AdminDown("h1", "eth0"))
	must(t, r.l.AdminUp("h1", "eth0"))
	waitOperUp(t, r, "h1")
	// The move: h2 releases, h1 takes and announces once.
	must(t, r.m2.Release(ctx))
	must(t, r.m1.Ensure(ctx))
	if err := r.m1.Announce(ctx); err != nil {
		t.Fatalf("announce after the NIC went down and up: %v", err)
	}
	waitNeigh(t, ch, vip4.Addr(), r.h1.MAC("eth0"), 3*time.Second)
}

// Reopen drops the cached socket; the next Announce works on a new one.
func TestPrivilegedReopen(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	must(t, r.m1.Ensure(ctx))
	must(t, r.m1.Announce(ctx))
	must(t, r.l.AdminDown("h1", "eth0"))
	must(t, r.l.AdminUp("h1", "eth0"))
	waitOperUp(t, r, "h1")
	var ro vip.Reopener = r.m1
	ro.Reopen()
	ro.Reopen() // idempotent
	ch := neighWatch(t, r.client)
	clientSend(t, r.client, vip4.Addr())
	must(t, r.m1.Announce(ctx))
	waitNeigh(t, ch, vip4.Addr(), r.h1.MAC("eth0"), 3*time.Second)
}

// The duplicate-address watch survives its interface going down and up:
// it listens again and still reports a second owner.
func TestPrivilegedWatchSurvivesDownUp(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, r.m2.Ensure(ctx))
	dups := make(chan net.HardwareAddr, 1024)
	errc := make(chan error, 1)
	go func() { errc <- r.m2.Watch(ctx, func(m net.HardwareAddr) { dups <- m }) }()
	must(t, r.m1.Ensure(ctx)) // h1 wrongly claims the same address
	seen := func(when string) {
		t.Helper()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case mac := <-dups:
				if !bytes.Equal(mac, r.h1.MAC("eth0")) {
					t.Fatalf("%s: duplicate from %v, want h1's %v", when, mac, r.h1.MAC("eth0"))
				}
				return
			case err := <-errc:
				t.Fatalf("%s: watch ended: %v", when, err)
			case <-tick.C:
				if err := r.m1.Announce(ctx); err != nil {
					t.Logf("announce: %v", err)
				}
			case <-timeout:
				t.Fatalf("%s: no duplicate-address alarm", when)
			}
		}
	}
	seen("before") // the watch listens
	must(t, r.l.AdminDown("h2", "eth0"))
	must(t, r.l.AdminUp("h2", "eth0"))
	waitOperUp(t, r, "h2")
	for len(dups) > 0 {
		<-dups
	}
	seen("after the down and up")
	cancel()
	must(t, <-errc)
}
