//go:build linux

package vip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Linux is the netlink and ARP/NDP implementation of Manager on one
// *netlink.Handle. It is safe for concurrent use: address changes (Ensure,
// Release, Cleanup) are serialised; Announce shares one cached send-only
// ARP socket; Probe and the watchers open their own sockets. All may run
// alongside each other.
type Linux struct {
	h    *netlink.Handle
	cfg  Config
	opts options

	mu       sync.Mutex   // serialises address changes
	sendMu   sync.RWMutex // announcement rounds (read) against Release (write)
	promoted bool         // promote_secondaries already written
	held     atomic.Bool  // our last Ensure succeeded and no removal since
	// trustUntil (unix ns) bounds how long held is believed without asking
	// the kernel: half the lifetime after that Ensure. A process stopped
	// longer than that (SIGSTOP, a paused VM) may find its address
	// expired, and must not announce what it no longer has.
	trustUntil atomic.Int64

	amu       sync.Mutex
	announces map[uint64]context.CancelFunc // in-flight Announce calls
	nextID    uint64
	isClosed  bool

	smu        sync.Mutex  // guards the cached ARP sender
	arpTx      *arp.Client // send-only, see arpSender
	arpTxIndex int
}

var (
	_ Manager  = (*Linux)(nil)
	_ Cleaner  = (*Linux)(nil)
	_ Watcher  = (*Linux)(nil)
	_ Reopener = (*Linux)(nil)
)

// NewLinux returns a manager for cfg working through h. It checks cfg
// (Config.Validate) and the interface: it must exist, carry an IPv4 address
// (for an IPv4 VIP: ARP needs one), the VIP must not be one of the host's own
// addresses, and its prefix must not cover them. Every problem is reported at
// once (errors.Join), each naming its key. An address on the interface equal
// to the VIP with the same prefix is a stale copy of ours, not the host's own
// address: Cleanup removes it.
//
// If h works in another network namespace than the caller, pass WithNetNS.
func NewLinux(h *netlink.Handle, cfg Config, opts ...Option) (*Linux, error) {
	if h == nil {
		return nil, errors.New("vip: nil netlink handle")
	}
	m := &Linux{h: h, cfg: cfg, announces: map[uint64]context.CancelFunc{}}
	for _, o := range opts {
		o(&m.opts)
	}
	errs := []error{cfg.Validate()}
	if validIfName(cfg.Interface) == nil {
		errs = append(errs, m.checkInterface())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// checkInterface does the checks of NewLinux that need the kernel.
func (m *Linux) checkInterface() error {
	link, err := m.h.LinkByName(m.cfg.Interface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("vip: interface: %q not found", m.cfg.Interface)
		}
		return fmt.Errorf("vip: interface: look up %q: %w", m.cfg.Interface, capErr(err, capNetAdmin))
	}
	addrs, err := m.h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("vip: interface: list addresses of %s: %w", m.cfg.Interface, capErr(err, capNetAdmin))
	}
	if !m.cfg.Addr.IsValid() {
		return nil
	}
	var own []netip.Prefix
	for _, a := range addrs {
		if p, ok := prefixOf(a); ok {
			own = append(own, p)
		}
	}
	return m.cfg.CheckHostAddrs(own)
}

// secondary reports whether the VIP becomes a secondary address: another
// IPv4 address on the interface has the same prefix length and subnet.
func secondary(vip netip.Prefix, addrs []netlink.Addr) bool {
	if !vip.Addr().Is4() || vip.Bits() == 32 {
		return false
	}
	for _, a := range addrs {
		p, ok := prefixOf(a)
		if ok && p != vip && p.Bits() == vip.Bits() && p.Masked() == vip.Masked() {
			return true
		}
	}
	return false
}

// Ensure adds the address with AddrReplace, which also restarts its kernel
// lifetime. For a subnet-prefix IPv4 VIP that becomes a secondary it first
// sets net.ipv4.conf.<if>.promote_secondaries=1 (see doc.go).
func (m *Linux) Ensure(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	link, err := m.link("add")
	if err != nil {
		return err
	}
	if !m.promoted && m.cfg.Addr.Addr().Is4() && m.cfg.Addr.Bits() < 32 {
		addrs, err := m.h.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			return m.opErr("add", capErr(err, capNetAdmin))
		}
		if secondary(m.cfg.Addr, addrs) {
			if err := m.inNS(m.promoteSecondaries); err != nil {
				return m.opErr("add", err)
			}
			m.promoted = true
		}
	}
	if err := m.h.AddrReplace(link, m.nlAddr()); err != nil {
		return m.opErr("add", capErr(err, capNetAdmin))
	}
	trust := int64(math.MaxInt64)
	if m.cfg.Lifetime > 0 {
		trust = time.Now().Add(m.cfg.Lifetime / 2).UnixNano()
	}
	m.trustUntil.Store(trust)
	m.held.Store(true)
	return nil
}

// trusted reports whether our last Ensure is recent enough to believe the
// address is still there without asking the kernel.
func (m *Linux) trusted() bool {
	return m.held.Load() && time.Now().UnixNano() < m.trustUntil.Load()
}

func (m *Linux) promoteSecondaries() error {
	p := "/proc/sys/net/ipv4/conf/" + m.cfg.Interface + "/promote_secondaries"
	if err := os.WriteFile(p, []byte("1\n"), 0); err != nil {
		return fmt.Errorf("set promote_secondaries: %w", capErr(err, capNetAdmin))
	}
	return nil
}

// Release removes exactly our address: same IP and same prefix length
// (whatever its label). An absent address (or interface) is not an error.
// In-flight Announce calls are stopped first, so no gratuitous ARP for the
// address leaves after Release returns.
func (m *Linux) Release(ctx context.Context) error {
	m.stopAnnounces()
	m.sendMu.Lock()
	defer m.sendMu.Unlock()
	_, err := m.remove(ctx, "release")
	return err
}

// Cleanup removes a copy of our address left on the interface, for a daemon
// starting up that does not own the address (after a crash, a stale VIP must
// not linger). It reports whether it removed one.
func (m *Linux) Cleanup(ctx context.Context) (bool, error) {
	m.sendMu.Lock()
	defer m.sendMu.Unlock()
	return m.remove(ctx, "cleanup")
}

func (m *Linux) remove(ctx context.Context, op string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held.Store(false)
	link, err := m.link(op)
	if errors.Is(err, errNoLink) {
		return false, nil // the address went with the interface
	}
	if err != nil {
		return false, err
	}
	a, ok, err := m.find(link)
	if err != nil || !ok {
		return false, err
	}
	if err := m.h.AddrDel(link, a); err != nil {
		if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) {
			return false, nil // expired in between
		}
		return false, m.opErr(op, capErr(err, capNetAdmin))
	}
	return true, nil
}

// Present reports whether our address (same IP and prefix) is on the
// interface.
func (m *Linux) Present(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	link, err := m.link("check")
	if errors.Is(err, errNoLink) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, ok, err := m.find(link)
	return ok, err
}

// find returns our address as the kernel lists it. The kernel keeps at most
// one address per interface with a given IP and prefix length, so these two
// identify it; the label is not compared (an AddrReplace does not change
// the label of an existing address, and a stale copy with an old label must
// still be found), but the kernel's label is passed back for the delete.
func (m *Linux) find(link netlink.Link) (*netlink.Addr, bool, error) {
	fam := netlink.FAMILY_V4
	if m.cfg.Addr.Addr().Is6() {
		fam = netlink.FAMILY_V6
	}
	addrs, err := m.h.AddrList(link, fam)
	if err != nil {
		return nil, false, m.opErr("list", capErr(err, capNetAdmin))
	}
	for _, a := range addrs {
		p, ok := prefixOf(a)
		if !ok || p != m.cfg.Addr {
			continue
		}
		del := m.nlAddr()
		del.Label = a.Label
		return del, true, nil
	}
	return nil, false, nil
}

// nlAddr is our address as netlink wants it for add and delete.
func (m *Linux) nlAddr() *netlink.Addr {
	p := m.cfg.Addr
	a := &netlink.Addr{
		IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		Label: m.cfg.Label,
	}
	if m.cfg.Lifetime > 0 {
		secs := int(m.cfg.Lifetime.Seconds())
		a.ValidLft, a.PreferedLft = secs, secs
	}
	if p.Addr().Is6() {
		// Another host's copy of a floating address is exactly what DAD
		// would find; we resolve ownership with Probe and the quorum.
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

var errNoLink = errors.New("no such interface")

func (m *Linux) link(op string) (netlink.Link, error) {
	l, err := m.h.LinkByName(m.cfg.Interface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, m.opErr(op, errNoLink)
		}
		return nil, m.opErr(op, capErr(err, capNetAdmin))
	}
	return l, nil
}

// opErr wraps err as "vip: <op> 198.18.1.100/32 on eth0: err".
func (m *Linux) opErr(op string, err error) error {
	return fmt.Errorf("vip: %s %s on %s: %w", op, m.cfg.Addr, m.cfg.Interface, err)
}

// Reopen forgets the cached ARP socket, so the next Announce opens a fresh
// one: call it when the interface went down and up. (A packet socket open
// across a down reports ENETDOWN once, on its next send; Announce retries
// such a send on a fresh socket anyway.) The old socket is closed in the
// background: closing an AF_PACKET socket waits for an RCU grace period.
func (m *Linux) Reopen() {
	m.smu.Lock()
	defer m.smu.Unlock()
	if c := m.arpTx; c != nil {
		m.arpTx = nil
		go c.Close()
	}
}

// Close stops in-flight Announce calls and closes the cached ARP socket. It
// is idempotent; later Announce calls fail with net.ErrClosed. It does not
// remove the address.
func (m *Linux) Close() error {
	m.amu.Lock()
	m.isClosed = true
	m.amu.Unlock()
	m.stopAnnounces()
	m.closeSender()
	return nil
}

func (m *Linux) closed() bool {
	m.amu.Lock()
	defer m.amu.Unlock()
	return m.isClosed
}

// track registers an announce so that Release and Close can stop it.
func (m *Linux) track(ctx context.Context) (context.Context, func(), error) {
	m.amu.Lock()
	defer m.amu.Unlock()
	if m.isClosed {
		return nil, nil, m.opErr("announce", net.ErrClosed)
	}
	ctx, cancel := context.WithCancel(ctx)
	id := m.nextID
	m.nextID++
	m.announces[id] = cancel
	return ctx, func() {
		m.amu.Lock()
		delete(m.announces, id)
		m.amu.Unlock()
		cancel()
	}, nil
}

func (m *Linux) stopAnnounces() {
	m.amu.Lock()
	defer m.amu.Unlock()
	for id, cancel := range m.announces {
		cancel()
		delete(m.announces, id)
	}
}

// inNS runs fn in the manager's network namespace, if one was given, on a
// locked OS thread that is never unlocked: Go discards the thread when the
// goroutine ends, so no other goroutine ever runs in the wrong namespace.
// Sockets opened by fn keep working from any thread.
func (m *Linux) inNS(fn func() error) error {
	if !m.opts.hasNS {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(m.opts.ns); err != nil {
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// prefixOf converts a netlink address to a prefix.
func prefixOf(a netlink.Addr) (netip.Prefix, bool) {
	if a.IPNet == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits, _ := a.Mask.Size()
	return netip.PrefixFrom(ip, bits), true
}

const (
	capNetAdmin = "CAP_NET_ADMIN"
	capNetRaw   = "CAP_NET_RAW"
)

// capErr names the missing capability on a permission error.
func capErr(err error, capability string) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (missing %s)", err, capability)
	}
	return err
}
