package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/failover-ha/failover/transport"
	"golang.org/x/net/ipv4"
)

// Config is one UDP path.
type Config struct {
	Name      string           // path name ("eth0")
	Interface string           // the NIC ("eth0")
	Group     netip.AddrPort   // IPv4 multicast group and port (239.x); zero = none
	Peers     []netip.AddrPort // unicast peer addresses; optional
	// Port is the local UDP port. 0 = Group's port; with no group, 0 picks
	// an ephemeral port (tests).
	Port uint16
}

// Validate reports every problem with c, naming the path.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("udp path %s: "+format, append([]any{c.Name}, a...)...))
	}
	if c.Name == "" {
		bad("name is empty")
	}
	if c.Interface == "" {
		bad("interface is empty")
	}
	if c.Group.IsValid() {
		if a := c.Group.Addr(); !a.Is4() || !a.IsMulticast() {
			bad("group %s is not an IPv4 multicast address", a)
		}
		if c.Group.Port() == 0 {
			bad("group %s has no port", c.Group)
		}
	}
	for _, p := range c.Peers {
		if !p.IsValid() || !p.Addr().Unmap().Is4() || p.Addr().IsMulticast() || p.Addr().IsUnspecified() {
			bad("peer %s is not a unicast IPv4 address", p)
		} else if p.Port() == 0 {
			bad("peer %s has no port", p)
		}
	}
	if !c.Group.IsValid() && len(c.Peers) == 0 {
		bad("neither a multicast group nor unicast peers")
	}
	return errors.Join(errs...)
}

type options struct {
	now func() time.Time
}

// Option configures a Path.
type Option func(*options)

// WithClock sets the clock that stamps Packet.At.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Path is a UDP heartbeat path on one NIC.
type Path struct {
	cfg     Config
	opt     options
	ifIndex int
	raw     net.PacketConn
	conn    *ipv4.PacketConn
	dests   []*net.UDPAddr
	local   netip.AddrPort
	ctr     transport.Counters
	rbuf    []byte // Recv's buffer (one receiver at a time)
	sys     sysIO  // raw socket I/O (sysio_linux.go)

	closeOnce sync.Once
	closeErr  error
}

var _ transport.Path = (*Path)(nil)

// New opens the path. Errors name the path and the reason: no such NIC, a
// NIC without an IPv4 address, permission denied, address in use.
func New(cfg Config, opts ...Option) (*Path, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Path{cfg: cfg, opt: options{now: time.Now}}
	for _, o := range opts {
		o(&p.opt)
	}
	fail := func(format string, a ...any) (*Path, error) {
		if p.raw != nil {
			p.raw.Close()
		}
		return nil, fmt.Errorf("udp path %s: "+format, append([]any{cfg.Name}, a...)...)
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return fail("interface %s: %w", cfg.Interface, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return fail("interface %s: addresses: %w", cfg.Interface, err)
	}
	has4 := false
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			has4 = true
		}
	}
	if !has4 {
		return fail("interface %s has no IPv4 address", cfg.Interface)
	}
	p.ifIndex = ifi.Index
	port := cfg.Port
	if port == 0 {
		port = cfg.Group.Port()
	}
	p.raw, err = listen(cfg.Interface, port)
	if err != nil {
		return fail("listen on %s port %d: %w", cfg.Interface, port, err)
	}
	p.local = p.raw.LocalAddr().(*net.UDPAddr).AddrPort()
	p.conn = ipv4.NewPacketConn(p.raw)
	if cfg.Group.IsValid() {
		g := &net.UDPAddr{IP: cfg.Group.Addr().AsSlice()}
		if err := p.conn.JoinGroup(ifi, g); err != nil {
			return fail("join %s on %s: %w", cfg.Group.Addr(), cfg.Interface, err)
		}
		if err := p.conn.SetMulticastInterface(ifi); err != nil {
			return fail("multicast interface %s: %w", cfg.Interface, err)
		}
		if err := p.conn.SetMulticastTTL(1); err != nil {
			return fail("multicast ttl: %w", err)
		}
		if err := p.conn.SetMulticastLoopback(false); err != nil {
			return fail("multicast loopback: %w", err)
		}
		p.dests = append(p.dests, net.UDPAddrFromAddrPort(cfg.Group))
	}
	if err := p.conn.SetTTL(1); err != nil {
		return fail("ttl: %w", err)
	}
	if err := p.conn.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true); err != nil {
		return fail("control messages: %w", err)
	}
	for _, peer := range cfg.Peers {
		p.dests = append(p.dests, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())))
	}
	p.rbuf = make([]byte, transport.MaxFrameLen+transport.TagLen+1)
	if err := p.initIO(); err != nil {
		return fail("%w", err)
	}
	return p, nil
}

// Name is the configured path name.
func (p *Path) Name() string { return p.cfg.Name }

// IfIndex is the NIC's interface index.
func (p *Path) IfIndex() int { return p.ifIndex }

// LocalAddr is the bound address (0.0.0.0 and the port).
func (p *Path) LocalAddr() netip.AddrPort { return p.local }

// Counters are the path's statistics: the path counts datagrams and bytes
// sent and received, send errors, oversized datagrams (malformed) and
// datagrams from another NIC (dropped); the caller counts what
// transport.Gate rejects.
func (p *Path) Counters() *transport.Counters { return &p.ctr }

// Send sends b to the group and to every peer. It returns the joined errors
// of the destinations that failed (each naming the path and destination);
// the others were sent.
func (p *Path) Send(b []byte) error {
	var errs []error
	for i, d := range p.dests {
		if err := p.sendto(b, i); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return transport.ErrClosed
			}
			p.ctr.SendError()
			errs = append(errs, fmt.Errorf("udp path %s: send to %s: %w", p.cfg.Name, d, err))
			continue
		}
		p.ctr.Sent(len(b))
	}
	return errors.Join(errs...)
}

// Recv returns the next datagram that arrived on this NIC.
func (p *Path) Recv() (transport.Packet, error) {
	for {
		n, ifIndex, from, err := p.recvmsg(p.rbuf)
		at := p.opt.now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return transport.Packet{}, transport.ErrClosed
			}
			return transport.Packet{}, fmt.Errorf("udp path %s: receive: %w", p.cfg.Name, err)
		}
		if ifIndex != p.ifIndex {
			p.ctr.Drop()
			continue
		}
		if n > transport.MaxFrameLen+transport.TagLen {
			p.ctr.Received(n)
			p.ctr.Reject(transport.ErrMalformed)
			continue
		}
		p.ctr.Received(n)
		return transport.Packet{
			Path: p.cfg.Name, Data: append([]byte(nil), p.rbuf[:n]...), From: from, IfIndex: ifIndex, At: at,
		}, nil
	}
}

// Close closes the socket; idempotent; unblocks Recv.
func (p *Path) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.conn.Close() })
	return p.closeErr
}
