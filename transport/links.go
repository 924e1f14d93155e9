package transport

import "time"

type watchOptions struct {
	ns    *nsHandle
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
