package vip

import (
	"context"
	"net"
	"net/netip"
	"time"
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
