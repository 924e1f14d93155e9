//go:build !linux

package check

import "context"

// arpProbe needs Linux (AF_PACKET); elsewhere every run fails and says so.
type arpProbe struct {
	target string
	iface  string
	inside func(func() error) error
}

func (p *arpProbe) probe(ctx context.Context) (bool, string) {
	return false, "ping method arp is only supported on Linux"
}
