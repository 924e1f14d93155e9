package vip

import (
	"context"
	"net"

	"github.com/vishvananda/netns"
)

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

// Watcher is implemented by managers that watch the segment and the link
// (see Linux.Watch and Linux.WatchCarrier). Both block until ctx ends.
type Watcher interface {
	// Watch calls dup with the hardware address of every other host that
	// claims our address (an ARP reply or gratuitous ARP, or a neighbor
	// advertisement, naming our address from another MAC).
	Watch(ctx context.Context, dup func(mac net.HardwareAddr)) error
	// WatchCarrier calls fn with the carrier state of the interface, first
	// with the current state, then on each change.
	WatchCarrier(ctx context.Context, fn func(up bool)) error
}
