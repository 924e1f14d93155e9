//go:build linux

package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/arp"
)

// arpProbe asks who-has target on iface and waits for the answer: the
// gateway is reachable on the segment even where it does not answer ICMP.
type arpProbe struct {
	target string
	iface  string
	inside func(func() error) error
}

func (p *arpProbe) probe(ctx context.Context) (bool, string) {
	ip, err := netip.ParseAddr(p.target)
	if err != nil {
		return false, err.Error()
	}
	var c *arp.Client
	err = p.inside(func() error {
		ifi, err := net.InterfaceByName(p.iface)
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	})
	if err != nil {
		return false, fmt.Sprintf("arp on %s: %v", p.iface, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	t0 := time.Now()
	mac, err := c.Resolve(ip)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return false, fmt.Sprintf("no ARP answer for %s on %s", ip, p.iface)
		}
		return false, fmt.Sprintf("arp on %s: %v", p.iface, err)
	}
	return true, fmt.Sprintf("%s is at %s on %s (%s)", ip, mac, p.iface, time.Since(t0).Round(time.Microsecond))
}
