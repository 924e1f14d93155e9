//go:build linux

package vip_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"

	"github.com/failover-ha/failover/internal/lab"
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

// TestHelperLateAnnouncer is not a test: TestPrivilegedLateRoundNotSent
// runs it in h1 as an owner that announces in rounds 200ms apart and says
// how its Announce ended.
func TestHelperLateAnnouncer(t *testing.T) {
	if os.Getenv(helperEnv) != "late" {
		t.Skip("helper process for TestPrivilegedLateRoundNotSent")
	}
	h, err := netlink.NewHandle()
	must(t, err)
	cfg := testConfig(vip4)
	cfg.AnnounceCount, cfg.AnnounceInterval, cfg.StaleAfter = 3, 200*time.Millisecond, 100*time.Millisecond
	m, err := vip.NewLinux(h, cfg)
	must(t, err)
	must(t, m.Ensure(context.Background()))
	err = m.Announce(context.Background())
	fmt.Printf("announce: late=%v err=%v\n", errors.Is(err, vip.ErrLate), err)
}

// An owner stopped between two rounds of an announcement does not send
// the rest when it runs again: a peer may have taken over meanwhile.
func TestPrivilegedLateRoundNotSent(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1})
	h, client := l.Host("h1"), l.Client()
	// The client sees every ARP packet on the segment.
	var c *arp.Client
	must(t, client.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	}))
	defer c.Close()
	garps := make(chan time.Time, 64)
	go func() {
		for {
			p, _, err := c.Read()
			if err != nil {
				close(garps)
				return
			}
			if p.SenderIP == vip4.Addr() && p.TargetIP == vip4.Addr() && p.Operation == arp.OperationRequest {
				garps <- time.Now()
			}
		}
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLateAnnouncer$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=late")
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, h.Start(cmd))
	defer cmd.Wait()
	// The first round goes at once, the second 200ms later: stop the
	// owner as soon as the first is on the wire, for well past the second.
	select {
	case <-garps:
	case <-time.After(10 * time.Second):
		t.Fatal("no first announcement round")
	}
	must(t, l.Freeze("h1"))
	time.Sleep(500 * time.Millisecond) // the length of the stop is the fault itself
	must(t, l.Thaw("h1"))
	sc := bufio.NewScanner(out)
	result := ""
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "announce:") {
			result = sc.Text()
		}
	}
	if !strings.Contains(result, "late=true") {
		t.Errorf("the owner stopped for 500ms between rounds: %q, want ErrLate", result)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)) // the helper has exited: nothing more can come
	n := 0
	for range garps {
		n++
	}
	if n > 0 {
		t.Errorf("%d announcement round(s) sent after the stop", n)
	}
}
