//go:build linux

package vip

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/failover-ha/failover/internal/lab"
)

// An address our Ensure added is trusted to be there for half its
// lifetime; after that Announce asks the kernel, so a process that stood
// still while the address expired does not announce what it lost.
func TestPrivilegedTrustEnds(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	h := l.Host("h1")
	cfg := DefaultConfig(netip.MustParsePrefix("198.18.1.100/32"), "eth0")
	cfg.AnnounceCount = 1
	m, err := NewLinux(h.Netlink(), cfg, WithNetNS(h.NS()))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if !m.trusted() {
		t.Fatal("not trusted right after Ensure")
	}
	// The kernel drops the address behind the manager's back (its
	// lifetime ran out while the process was stopped).
	link, err := h.Netlink().LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := netlink.ParseAddr("198.18.1.100/32")
	if err := h.Netlink().AddrDel(link, a); err != nil {
		t.Fatal(err)
	}
	m.trustUntil.Store(time.Now().Add(-time.Millisecond).UnixNano()) // half the lifetime is over
	if err := m.Announce(ctx); !errors.Is(err, ErrNotPresent) {
		t.Errorf("Announce of an expired address after the trust ended: %v, want ErrNotPresent", err)
	}
}
