package rig

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/icmp"

	"github.com/failover-ha/failover/internal/lab"
)

// A Pinger in a lab host's namespace pings its loopback and records the
// replies.
func TestPrivilegedPingerLoopback(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	var conn *icmp.PacketConn
	if err := l.Host("h1").Do(func() error {
		var err error
		conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	target := netip.MustParseAddr("127.0.0.1")
	p := StartPinger(conn, target, 0xf000)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	a, err := p.Wait(ctx, target.String(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Sent.Before(t0) || a.At.Before(a.Sent) {
		t.Errorf("answer %+v: sent before the wait began or answered before it was sent", a)
	}
	p.Close()
	p.Close()
}
