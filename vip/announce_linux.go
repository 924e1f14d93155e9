//go:build linux

package vip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
)

var (
	zeroMAC     = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	allNodes    = netip.MustParseAddr("ff02::1")
	pastInstant = time.Unix(1, 0)
)

// Announce sends Config.AnnounceCount (at least one) gratuitous ARP pairs,
// the first at once and the others Config.AnnounceInterval apart. Each pair
// is a request (sender IP = target IP = VIP, target MAC zero) and a reply
// (sender and target IP = VIP, target MAC = our MAC), both to the Ethernet
// broadcast address: Linux receivers take either as gratuitous and switch an
// existing entry at once; some switches and hosts honour only one form. For
// an IPv6 VIP each round is one unsolicited Neighbor Advertisement to
// ff02::1 with the override flag and our MAC.
//
// Announce blocks until the last round is sent, ctx ends, or Release or
// Close is called (it then returns nil: the owner let go). It returns an
// error wrapping ErrNotPresent if the address is not on the interface.
func (m *Linux) Announce(ctx context.Context) error {
	parent := ctx
	ctx, done, err := m.track(ctx)
	if err != nil {
		return err
	}
	defer done()
	stopped := func() error { return parent.Err() } // nil if Release or Close stopped us
	ifi, err := m.ifi("announce")
	if err != nil {
		return err
	}
	var send func() error
	if m.cfg.Addr.Addr().Is4() {
		c, err := m.arpSender(ifi)
		if err != nil {
			return m.opErr("announce", err)
		}
		send = func() error {
			err := sendGARP(c, ifi.HardwareAddr, m.cfg.Addr.Addr())
			if err != nil {
				m.dropSender(c)
			}
			return err
		}
	} else {
		// Bound to the VIP, which must be on the interface already.
		ok, err := m.Present(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return m.opErr("announce", ErrNotPresent)
		}
		c, err := m.dialNDP(ifi, ndp.Addr(m.cfg.Addr.Addr().String()))
		if err != nil {
			return m.opErr("announce", err)
		}
		defer c.Close()
		send = func() error { return sendNA(c, ifi.HardwareAddr, m.cfg.Addr.Addr()) }
	}
	n := max(m.cfg.AnnounceCount, 1)
	var t *time.Timer
	for i := range n {
		if i > 0 {
			if t == nil {
				t = time.NewTimer(m.cfg.AnnounceInterval)
				defer t.Stop()
			} else {
				t.Reset(m.cfg.AnnounceInterval)
			}
			select {
			case <-ctx.Done():
				return stopped()
			case <-t.C:
			}
		}
		if err := m.sendRound(ctx, i == 0, send); err != nil {
			if ctx.Err() != nil {
				return stopped()
			}
			return err
		}
	}
	return nil
}

// sendRound sends one round if the address is still ours (after our own
// Ensure it is trusted to be; else the kernel is asked). Release takes
// sendMu exclusively, so a round either completes before Release removes
// the address or sees it gone: no announcement leaves after Release.
func (m *Linux) sendRound(ctx context.Context, first bool, send func() error) error {
	m.sendMu.RLock()
	defer m.sendMu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	// After our own Ensure the address is ours until Release or Cleanup
	// (which take sendMu): skip the netlink dump on the takeover path.
	ok := m.held.Load()
	if !ok {
		var err error
		if ok, err = m.Present(ctx); err != nil {
			return err
		}
	}
	if !ok {
		if first {
			return m.opErr("announce", ErrNotPresent)
		}
		return nil // released or expired meanwhile
	}
	if err := send(); err != nil {
		return m.opErr("announce", capErr(err, capNetRaw))
	}
	return nil
}

func sendGARP(c *arp.Client, mac net.HardwareAddr, vip netip.Addr) error {
	req, err := arp.NewPacket(arp.OperationRequest, mac, vip, zeroMAC, vip)
	if err != nil {
		return err
	}
	if err := c.WriteTo(req, ethernet.Broadcast); err != nil {
		return fmt.Errorf("gratuitous ARP request: %w", err)
	}
	rep, err := arp.NewPacket(arp.OperationReply, mac, vip, mac, vip)
	if err != nil {
		return err
	}
	if err := c.WriteTo(rep, ethernet.Broadcast); err != nil {
		return fmt.Errorf("gratuitous ARP reply: %w", err)
	}
	return nil
}

func sendNA(c *ndp.Conn, mac net.HardwareAddr, vip netip.Addr) error {
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: vip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac}},
	}
	if err := c.WriteTo(na, nil, allNodes); err != nil {
		return fmt.Errorf("unsolicited neighbor advertisement: %w", err)
	}
	return nil
}

// Probe sends one ARP probe (RFC 5227: sender IP 0.0.0.0, target IP = VIP)
// and listens Config.ProbeWindow, or until ctx ends, for a host answering for
// the VIP from another MAC than ours; it returns that MAC, or nil. A
// gratuitous ARP for the VIP from another MAC seen in the window counts too.
// For an IPv6 VIP it sends a Neighbor Solicitation for the VIP and waits for
// an advertisement of it.
func (m *Linux) Probe(ctx context.Context) (net.HardwareAddr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ifi, err := m.ifi("probe")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(m.cfg.ProbeWindow)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	vip := m.cfg.Addr.Addr()
	if vip.Is4() {
		c, err := m.dialARP(ifi)
		if err != nil {
			return nil, m.opErr("probe", err)
		}
		// Closing an AF_PACKET socket costs the kernel 7-15 ms; the result
		// must not wait for it, since a takeover is waiting for the result.
		defer func() { go c.Close() }()
		if err := c.SetReadDeadline(deadline); err != nil {
			return nil, m.opErr("probe", err)
		}
		stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(pastInstant) })
		defer stop()
		p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, netip.IPv4Unspecified(), zeroMAC, vip)
		if err != nil {
			return nil, m.opErr("probe", err)
		}
		if err := c.WriteTo(p, ethernet.Broadcast); err != nil {
			return nil, m.opErr("probe", capErr(err, capNetRaw))
		}
		mac, err := readARPClaim(c, ifi.HardwareAddr, vip)
		if lateReader(ctx, err) {
			_ = c.SetReadDeadline(time.Now().Add(drainWait))
			mac, err = readARPClaim(c, ifi.HardwareAddr, vip)
		}
		return m.readResult("probe", ctx, mac, err)
	}
	c, err := m.dialNDP(ifi, ndp.Unspecified)
	if err != nil {
		return nil, m.opErr("probe", err)
	}
	defer func() { go c.Close() }() // see above
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, m.opErr("probe", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(pastInstant) })
	defer stop()
	snm, err := ndp.SolicitedNodeMulticast(vip)
	if err != nil {
		return nil, m.opErr("probe", err)
	}
	ns := &ndp.NeighborSolicitation{
		TargetAddress: vip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: ifi.HardwareAddr}},
	}
	if err := c.WriteTo(ns, nil, snm); err != nil {
		return nil, m.opErr("probe", capErr(err, capNetRaw))
	}
	mac, err := readNAClaim(c, ifi.HardwareAddr, vip)
	if lateReader(ctx, err) {
		_ = c.SetReadDeadline(time.Now().Add(drainWait))
		mac, err = readNAClaim(c, ifi.HardwareAddr, vip)
	}
	return m.readResult("probe", ctx, mac, err)
}

// drainWait is how long Probe reads on after its window to collect answers
// that arrived within the window but were still queued.
const drainWait = 2 * time.Millisecond

// lateReader reports whether a probe's read loop ended on its deadline. A
// reader that the scheduler runs late finds the deadline passed and returns
// before reading what is already queued (the poller checks the deadline
// first), so an owner's answer that came in time would be missed and the
// address claimed twice: Probe then reads once more for drainWait.
func lateReader(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded)
}

// readResult turns the end of a read loop into Probe's result: a deadline
// is the normal end of the window.
func (m *Linux) readResult(op string, ctx context.Context, mac net.HardwareAddr, err error) (net.HardwareAddr, error) {
	switch {
	case err == nil:
		return mac, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, nil
	default:
		return nil, m.opErr(op, err)
	}
}

// readARPClaim reads until an ARP packet whose sender IP is vip comes from
// another MAC than ours.
func readARPClaim(c *arp.Client, ours net.HardwareAddr, vip netip.Addr) (net.HardwareAddr, error) {
	for {
		p, _, err := c.Read()
		if err != nil {
			return nil, err
		}
		if p.SenderIP == vip && !bytes.Equal(p.SenderHardwareAddr, ours) {
			return p.SenderHardwareAddr, nil
		}
	}
}

// readNAClaim reads until a neighbor advertisement for vip with another
// target link-layer address than ours.
func readNAClaim(c *ndp.Conn, ours net.HardwareAddr, vip netip.Addr) (net.HardwareAddr, error) {
	for {
		msg, _, _, err := c.ReadFrom()
		if err != nil {
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() {
				return nil, err
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			continue // an unparsable message
		}
		na, ok := msg.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != vip {
			continue
		}
		for _, o := range na.Options {
			if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target && !bytes.Equal(lla.Addr, ours) {
				return lla.Addr, nil
			}
		}
	}
}

// Watch reports, until ctx ends, every ARP packet (reply, request or
// gratuitous ARP) sent from another MAC with our VIP as sender IP, or for an
// IPv6 VIP every neighbor advertisement of our VIP with another MAC: while
// we own the address, that is a duplicate. dup runs on Watch's goroutine;
// the same duplicate is reported once per packet it sends. Watch returns nil
// when ctx ends.
func (m *Linux) Watch(ctx context.Context, dup func(mac net.HardwareAddr)) error {
	ifi, err := m.ifi("watch")
	if err != nil {
		return err
	}
	vip := m.cfg.Addr.Addr()
	var read func() (net.HardwareAddr, error)
	if vip.Is4() {
		c, err := m.dialARP(ifi)
		if err != nil {
			return m.opErr("watch", err)
		}
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(pastInstant) })
		defer stop()
		read = func() (net.HardwareAddr, error) { return readARPClaim(c, ifi.HardwareAddr, vip) }
	} else {
		c, err := m.dialNDP(ifi, ndp.Unspecified)
		if err != nil {
			return m.opErr("watch", err)
		}
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(pastInstant) })
		defer stop()
		read = func() (net.HardwareAddr, error) { return readNAClaim(c, ifi.HardwareAddr, vip) }
	}
	for {
		mac, err := read()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return m.opErr("watch", err)
		}
		dup(mac)
	}
}

// ifi builds the net.Interface of the service NIC from netlink, so that no
// lookup depends on the calling thread's namespace.
func (m *Linux) ifi(op string) (*net.Interface, error) {
	l, err := m.link(op)
	if err != nil {
		return nil, err
	}
	a := l.Attrs()
	if len(a.HardwareAddr) != 6 {
		return nil, m.opErr(op, fmt.Errorf("interface has no Ethernet address (%q)", a.HardwareAddr))
	}
	return &net.Interface{
		Index:        a.Index,
		MTU:          a.MTU,
		Name:         a.Name,
		HardwareAddr: a.HardwareAddr,
		Flags:        a.Flags,
	}, nil
}

// dropAll is a socket filter that accepts no packet: the cached sender
// only sends, and its receive queue must not fill with the segment's ARP.
var dropAll = func() []bpf.RawInstruction {
	raw, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		panic(err) // a constant program
	}
	return raw
}()

// arpSender returns the manager's send-only ARP socket on ifi, opening it
// on first use or when the interface was recreated. It is kept because
// closing an AF_PACKET socket waits for an RCU grace period (measured 7–15
// ms), which would otherwise be paid by every Announce.
func (m *Linux) arpSender(ifi *net.Interface) (*arp.Client, error) {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.closed() {
		return nil, net.ErrClosed
	}
	if m.arpTx != nil && m.arpTxIndex == ifi.Index {
		return m.arpTx, nil
	}
	if m.arpTx != nil {
		m.arpTx.Close()
		m.arpTx = nil
	}
	var c *arp.Client
	err := m.inNS(func() error {
		p, err := packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), &packet.Config{Filter: dropAll})
		if err != nil {
			return err
		}
		c, err = arp.New(ifi, p)
		if err != nil {
			p.Close()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open ARP socket: %w", capErr(err, capNetRaw))
	}
	m.arpTx, m.arpTxIndex = c, ifi.Index
	return c, nil
}

// dropSender forgets c after a send error, so that the next Announce opens
// a new socket.
func (m *Linux) dropSender(c *arp.Client) {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.arpTx == c {
		m.arpTx.Close()
		m.arpTx = nil
	}
}

// closeSender closes the cached ARP socket.
func (m *Linux) closeSender() {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.arpTx != nil {
		m.arpTx.Close()
		m.arpTx = nil
	}
}

// dialARP opens an ARP client on ifi inside the manager's namespace.
// arp.Dial fails until the interface has an IPv4 address.
func (m *Linux) dialARP(ifi *net.Interface) (*arp.Client, error) {
	var c *arp.Client
	err := m.inNS(func() error {
		var err error
		c, err = arp.Dial(ifi)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open ARP socket: %w", capErr(err, capNetRaw))
	}
	return c, nil
}

// dialNDP opens an ICMPv6 socket for NDP on ifi inside the namespace.
//
// ndp uses ifi.Name as the IPv6 zone of every address it binds and sends
// to, and Go resolves zone names through one process-wide cache of the
// interfaces it saw, whatever namespace they were in: "eth0" may name
// another namespace's interface. A numeric zone is taken as the index
// as is, so the connection gets the index as its name.
func (m *Linux) dialNDP(ifi *net.Interface, addr ndp.Addr) (*ndp.Conn, error) {
	zoned := *ifi
	zoned.Name = strconv.Itoa(ifi.Index)
	ifi = &zoned
	var c *ndp.Conn
	err := m.inNS(func() error {
		var err error
		c, _, err = ndp.Listen(ifi, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open NDP socket: %w", capErr(err, capNetRaw))
	}
	return c, nil
}
