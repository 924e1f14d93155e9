package transport

import (
	"time"

	"github.com/vishvananda/netns"
)

type watchOptions struct {
	ns    *netns.NsHandle
	now   func() time.Time
	onErr func(error)
}

// WatchOption configures WatchLinks.
type WatchOption func(*watchOptions)

// WithWatchClock sets the clock for LinkEvent.At.
func WithWatchClock(now func() time.Time) WatchOption {
	return func(o *watchOptions) { o.now = now }
}

// WithWatchErrors has WatchLinks report non-fatal netlink errors (an
// interrupted dump, a bad message) to fn instead of dropping them.
func WithWatchErrors(fn func(error)) WatchOption {
	return func(o *watchOptions) { o.onErr = fn }
}

// WithNetns watches the links of the network namespace ns instead of the
// one of the calling thread.
func WithNetns(ns netns.NsHandle) WatchOption {
	return func(o *watchOptions) { o.ns = &ns }
}
