package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Lab is a virtual rack: hosts h1..hN and an optional client, each in its own
// anonymous network namespace, wired to a switch namespace holding bridges
// brA (eth0, 198.18.1.0/24) and brB (eth1, 198.18.2.0/24), plus optional
// null-modem cables between hosts. All methods are safe for concurrent use.
type Lab struct {
	mu     sync.Mutex
	closed bool

	sw     *Host // the switch namespace (not listed in Hosts)
	hosts  []*Host
	client *Host
	cables []*Cable
	dir    string // temp dir holding the cable symlinks

	nft     *nftables.Conn
	nftUsed bool // the lab table exists
	drops   map[port]Direction
	loss    map[port]int
	pulled  map[port]bool   // pulled by Pull (not by Freeze)
	admin   map[port]bool   // host side set down by AdminDown
	frozen  map[string]bool // host name
}

// port is one host NIC, identified by its switch-side veth.
type port struct{ host, nic string }

func (p port) swName() string { return p.host + "-" + p.nic }

// Host is one namespace of the rack.
type Host struct {
	lab  *Lab
	name string
	ns   netns.NsHandle
	nl   *netlink.Handle
	nics map[string]nicInfo

	mu    sync.Mutex
	procs []*exec.Cmd
	dead  bool // killAll ran: Start refuses

	// starter runs functions on one thread that stays in the namespace
	// until Close, so children started there can use Pdeathsig: they die
	// with the lab's process even if it is killed.
	starter chan func()
}

type nicInfo struct {
	addr   netip.Addr
	mac    net.HardwareAddr
	bridge string
}

// New builds the rack described by opts. On error it tears down whatever it
// had built and returns an error saying what failed and why.
func New(opts Options) (_ *Lab, err error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	l := &Lab{
		drops:  map[port]Direction{},
		loss:   map[port]int{},
		pulled: map[port]bool{},
		admin:  map[port]bool{},
		frozen: map[string]bool{},
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.sw, err = l.newHost("switch"); err != nil {
		return nil, err
	}
	for _, br := range []string{"brA", "brB"} {
		if err := doIn(l.sw.ns, func() error { return addBridge(br) }); err != nil {
			return nil, err
		}
	}
	brIdx := map[string]int{}
	for _, br := range []string{"brA", "brB"} {
		link, err := l.sw.nl.LinkByName(br)
		if err != nil {
			return nil, fmt.Errorf("lab: finding bridge %s: %w", br, err)
		}
		brIdx[br] = link.Attrs().Index
	}
	for i := 1; i <= opts.Hosts; i++ {
		h, err := l.newHost("h" + strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		l.hosts = append(l.hosts, h)
		if err := l.wire(h, "eth0", "brA", brIdx, 1, byte(i)); err != nil {
			return nil, err
		}
		if err := l.wire(h, "eth1", "brB", brIdx, 2, byte(i)); err != nil {
			return nil, err
		}
	}
	if !opts.NoClient {
		if l.client, err = l.newHost("client"); err != nil {
			return nil, err
		}
		if err := l.wire(l.client, "eth0", "brA", brIdx, 1, 250); err != nil {
			return nil, err
		}
	}
	if len(opts.Serial) > 0 {
		if l.dir, err = os.MkdirTemp("", "fo-lab-"); err != nil {
			return nil, fmt.Errorf("lab: making directory for serial ports: %w", err)
		}
		tty := new(atomic.Int64)
		for _, p := range opts.Serial {
			c, err := newCable(l.dir, tty, l.hosts[p[0]-1].name, l.hosts[p[1]-1].name)
			if err != nil {
				return nil, err
			}
			l.cables = append(l.cables, c)
		}
	}
	return l, nil
}

// NewT is New for tests: it registers Close with t.Cleanup and calls t.Fatal
// if the rack cannot be built.
func NewT(t testing.TB, opts Options) *Lab {
	t.Helper()
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("lab: close: %v", err)
		}
	})
	return l
}

func (l *Lab) newHost(name string) (*Host, error) {
	ns, err := newNS()
	if err != nil {
		return nil, err
	}
	h := &Host{lab: l, name: name, ns: ns, nics: map[string]nicInfo{}, starter: make(chan func())}
	ready := make(chan error, 1)
	work := h.starter
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread enters the host's namespace.
		if err := netns.Set(ns); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for fn := range work {
			fn()
		}
	}()
	if err := <-ready; err != nil {
		ns.Close()
		return nil, fmt.Errorf("lab: %s: entering namespace: %w", name, err)
	}
	h.nl, err = netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("lab: netlink handle for %s: %w", name, err)
	}
	lo, err := h.nl.LinkByName("lo")
	if err == nil {
		err = h.nl.LinkSetUp(lo)
	}
	if err != nil {
		h.close()
		return nil, fmt.Errorf("lab: %s: bringing lo up: %w", name, err)
	}
	return h, nil
}

// wire connects nic of h to bridge br and gives it 198.18.<subnet>.<n>/24.
func (l *Lab) wire(h *Host, nic, br string, brIdx map[string]int, subnet, n byte) error {
	p := port{h.name, nic}
	mac := net.HardwareAddr{0x02, 0x18, subnet, 0, 0, n}
	addr := netip.AddrFrom4([4]byte{198, 18, subnet, n})
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:        p.swName(),
			MasterIndex: brIdx[br],
			Flags:       net.FlagUp,
			TxQLen:      -1,
		},
		PeerName:         nic,
		PeerHardwareAddr: mac,
		PeerNamespace:    netlink.NsFd(h.ns),
		PeerTxQLen:       -1,
	}
	if err := l.sw.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("lab: %s: creating veth %s on %s: %w", h.name, nic, br, err)
	}
	link, err := h.nl.LinkByName(nic)
	if err != nil {
		return fmt.Errorf("lab: %s: finding %s: %w", h.name, nic, err)
	}
	pfx := netip.PrefixFrom(addr, 24)
	a, err := netlink.ParseAddr(pfx.String())
	if err != nil {
		return fmt.Errorf("lab: %s: %w", h.name, err)
	}
	if err := h.nl.AddrAdd(link, a); err != nil {
		return fmt.Errorf("lab: %s: adding %s to %s: %w", h.name, pfx, nic, err)
	}
	if err := h.nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("lab: %s: setting %s up: %w", h.name, nic, err)
	}
	h.nics[nic] = nicInfo{addr: addr, mac: mac, bridge: br}
	return nil
}

// Close kills every process started with Host.Start (with its process group)
// and waits for it to exit, stops the cable relays, removes the serial
// symlinks and their directory and releases the namespaces. It is idempotent.
// Close does not reap processes: the caller's cmd.Wait still reports them.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()

	var errs []error
	all := l.allHosts()
	for _, h := range all {
		errs = append(errs, h.killAll())
	}
	for _, c := range l.cables {
		errs = append(errs, c.close())
	}
	if l.dir != "" {
		if err := os.RemoveAll(l.dir); err != nil {
			errs = append(errs, fmt.Errorf("lab: removing %s: %w", l.dir, err))
		}
	}
	if l.sw != nil {
		all = append(all, l.sw)
	}
	for _, h := range all {
		h.close()
	}
	return errors.Join(errs...)
}

func (l *Lab) allHosts() []*Host {
	all := slices.Clone(l.hosts)
	if l.client != nil {
		all = append(all, l.client)
	}
	return all
}

func (h *Host) close() {
	h.mu.Lock()
	h.dead = true
	if h.starter != nil {
		close(h.starter)
		h.starter = nil
	}
	h.mu.Unlock()
	if h.nl != nil {
		h.nl.Close()
	}
	if h.ns.IsOpen() {
		h.ns.Close()
	}
}

// Host returns the host called name ("h1".., "client"), or nil.
func (l *Lab) Host(name string) *Host {
	for _, h := range l.allHosts() {
		if h.name == name {
			return h
		}
	}
	return nil
}

// Hosts returns h1..hN in order (not the client).
func (l *Lab) Hosts() []*Host { return slices.Clone(l.hosts) }

// Client returns the client host, or nil if Options.NoClient was set.
func (l *Lab) Client() *Host { return l.client }

// Cable returns the cable between hosts a and b (either order), or nil.
func (l *Lab) Cable(a, b string) *Cable {
	for _, c := range l.cables {
		if (c.a.host == a && c.b.host == b) || (c.a.host == b && c.b.host == a) {
			return c
		}
	}
	return nil
}

// Name returns "h1".."hN" or "client".
func (h *Host) Name() string { return h.name }

// NS returns the host's network namespace. It stays owned by the lab.
func (h *Host) NS() netns.NsHandle { return h.ns }

// Netlink returns a netlink handle bound to the host's namespace. It stays
// owned by the lab and is closed by Close.
func (h *Host) Netlink() *netlink.Handle { return h.nl }

// Addr returns the IPv4 address of nic ("eth0", "eth1"), or the zero Addr.
func (h *Host) Addr(nic string) netip.Addr { return h.nics[nic].addr }

// MAC returns the hardware address of nic, or nil.
func (h *Host) MAC(nic string) net.HardwareAddr { return slices.Clone(h.nics[nic].mac) }

// NICs returns the host's NIC names in order ("eth0", "eth1").
func (h *Host) NICs() []string {
	var out []string
	for _, n := range []string{"eth0", "eth1"} {
		if _, ok := h.nics[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// Do runs fn on a locked OS thread inside the host's namespace and returns
// its error. Sockets opened by fn stay in the namespace and may be used from
// any goroutine afterwards. The thread is discarded when fn returns.
func (h *Host) Do(fn func() error) error { return doIn(h.ns, fn) }

// Start starts cmd inside the host's namespace, in a new process group,
// with Pdeathsig SIGKILL unless cmd sets another, so the process dies with
// the lab's process even if that is killed. Close kills the process and its
// group; Freeze and Thaw stop and continue them. The caller still owns
// cmd.Wait.
func (h *Host) Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dead {
		return fmt.Errorf("lab: %s: start %s: lab is closed", h.name, cmd.Path)
	}
	errc := make(chan error, 1)
	h.starter <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		return fmt.Errorf("lab: %s: start %s: %w", h.name, cmd.Path, err)
	}
	h.procs = append(h.procs, cmd)
	return nil
}

// signalAll sends sig to the process group of every process started here.
func (h *Host) signalAll(sig syscall.Signal) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, c := range h.procs {
		if err := syscall.Kill(-c.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("lab: %s: signal %v to process group %d: %w", h.name, sig, c.Process.Pid, err))
		}
	}
	return errors.Join(errs...)
}

// killAll kills every started process group and waits until each leader has
// exited (without reaping it).
func (h *Host) killAll() error {
	err := h.signalAll(syscall.SIGKILL)
	h.mu.Lock()
	procs := h.procs
	h.procs = nil
	h.dead = true
	h.mu.Unlock()
	for _, c := range procs {
		waitDead(c.Process.Pid, 5*time.Second)
	}
	return err
}
