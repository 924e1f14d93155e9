//go:build linux

package daemon

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/transport"
	tserial "github.com/failover-ha/failover/transport/serial"
	"github.com/failover-ha/failover/transport/udp"
	"github.com/failover-ha/failover/vip"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Net is the daemon's access to one host's network: a netlink handle, the
// namespace it works in, and a way to run code (socket creation) inside it.
type Net struct {
	handle *netlink.Handle
	ns     netns.NsHandle // -1 / closed: the caller's namespace
	do     func(func() error) error
	owned  bool
}

// NewNet returns a Net for a host whose namespace is ns, reached through h;
// do runs a function on a thread inside ns (for sockets). The Net does not
// close h or ns.
func NewNet(h *netlink.Handle, ns netns.NsHandle, do func(func() error) error) *Net {
	return &Net{handle: h, ns: ns, do: do}
}

// hostNet is this process's own namespace.
func hostNet() (*Net, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return nil, fmt.Errorf("daemon: netlink: %w", err)
	}
	return &Net{handle: h, ns: netns.None(), owned: true}, nil
}

// Close releases what the Net opened itself.
func (n *Net) Close() error {
	if n.owned {
		n.handle.Close()
	}
	return nil
}

func (n *Net) inside(fn func() error) error {
	if n.do == nil {
		return fn()
	}
	return n.do(fn)
}

func (n *Net) newVIP(c vip.Config) (vipManager, error) {
	var opts []vip.Option
	if n.ns.IsOpen() {
		opts = append(opts, vip.WithNetNS(n.ns))
	}
	return vip.NewLinux(n.handle, c, opts...)
}

func (n *Net) openUDP(p config.PathConfig) (transport.Path, error) {
	uc := udp.Config{Name: p.Name, Interface: p.Interface, Port: uint16(p.Port)}
	if p.Multicast != "" {
		g, err := netip.ParseAddrPort(p.Multicast)
		if err != nil {
			return nil, err
		}
		uc.Group = g
	}
	for _, u := range p.Unicast {
		ap, err := netip.ParseAddrPort(u)
		if err != nil {
			return nil, err
		}
		uc.Peers = append(uc.Peers, ap)
	}
	var path *udp.Path
	err := n.inside(func() error {
		var err error
		path, err = udp.New(uc)
		return err
	})
	if err != nil {
		return nil, err
	}
	return path, nil
}

func (n *Net) openSerial(p config.PathConfig, link func(transport.LinkEvent)) (transport.Path, error) {
	sp, err := tserial.New(tserial.Config{Name: p.Name, Port: p.Device, Baud: p.Baud}, tserial.WithLinkEvents(link))
	if err != nil {
		return nil, err
	}
	return sp, nil
}

// ifIndex returns the current index of the interface called name.
func (n *Net) ifIndex(name string) (int, error) {
	l, err := n.handle.LinkByName(name)
	if err != nil {
		return 0, err
	}
	return l.Attrs().Index, nil
}

// watchLinks reports the carrier of each interface in ifaces: first the
// current state, then each change, until ctx ends (transport.WatchLinks).
func (n *Net) watchLinks(ctx context.Context, ifaces map[string]bool, fn func(iface string, up bool, reason string)) error {
	m := map[string]string{}
	for i := range ifaces {
		m[i] = i // reported by interface name; the session maps it to paths
	}
	var opts []transport.WatchOption
	if n.ns.IsOpen() {
		opts = append(opts, transport.WithNetns(n.ns))
	}
	return transport.WatchLinks(ctx, m, func(ev transport.LinkEvent) {
		fn(ev.Path, ev.Up, ev.Reason)
	}, opts...)
}
