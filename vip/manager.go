package vip

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netns"
)

// Manager owns one floating address on one interface. Implementations are
// safe for concurrent use.
type Manager interface {
	// Ensure adds the address if it is missing and refreshes its kernel
	// lifetime; calling it again is cheap and idempotent.
	Ensure(ctx context.Context) error
	// Release removes exactly this address (never the primary); releasing an
	// absent address is not an error.
	Release(ctx context.Context) error
	// Present reports whether the address is on the interface now.
	Present(ctx context.Context) (bool, error)
	// Announce sends gratuitous ARP (request and reply forms) or unsolicited
	// neighbor advertisements, Config.AnnounceCount times.
	Announce(ctx context.Context) error
	// Probe asks the segment for a current owner for Config.ProbeWindow. It
	// returns the hardware address of another answering host, or nil.
	Probe(ctx context.Context) (net.HardwareAddr, error)
}

// Config describes one VIP.
type Config struct {
	Addr      netip.Prefix // the VIP and its prefix (a /32 by default)
	Interface string       // service NIC, e.g. "eth0"
	Label     string       // optional, "eth0:1"; must start with Interface + ":"
	// Lifetime is the kernel valid lifetime given to the address; the owner
	// refreshes it, so a killed daemon's address expires by itself. 0 = forever.
	Lifetime         time.Duration
	AnnounceCount    int           // gratuitous ARPs sent right after takeover
	AnnounceInterval time.Duration // spacing between them
	ProbeWindow      time.Duration // how long Probe listens for an answer
	// AnnounceRefresh is how often the owner calls Announce again while it
	// holds the address (the daemon's timer; the manager does not use it).
	// 0 = no periodic refresh.
	AnnounceRefresh time.Duration
}

// Option configures NewLinux.
type Option func(*options)

type options struct {
	ns    netns.NsHandle
	hasNS bool
}

// WithNetNS makes the manager open its packet sockets (ARP, NDP), its link
// subscription and its /proc/sys writes inside ns, the namespace the
// *netlink.Handle given to NewLinux works in. Without it they are opened in
// the calling thread's namespace, which is what a daemon running in its own
// namespace wants. The manager does not close ns.
func WithNetNS(ns netns.NsHandle) Option {
	return func(o *options) { o.ns, o.hasNS = ns, true }
}

// Cleaner is implemented by managers that can remove a stale copy of their
// address at start-up (see Linux.Cleanup).
type Cleaner interface {
	Cleanup(ctx context.Context) (removed bool, err error)
}

// Watcher is implemented by managers that watch the segment for another
// holder of their address (see Linux.Watch). Watch blocks until ctx ends.
type Watcher interface {
	// Watch calls dup with the hardware address of every other host that
	// claims our address (an ARP reply or gratuitous ARP, or a neighbor
	// advertisement, naming our address from another MAC).
	Watch(ctx context.Context, dup func(mac net.HardwareAddr)) error
}
