//go:build linux

package vip_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/vip"
)

var (
	vip4 = netip.MustParsePrefix("198.18.1.100/32")
	vip6 = netip.MustParsePrefix("fd00:198:18::100/128")
)

// rig is a lab with managers for the same VIP on h1 and h2.
type rig struct {
	l              *lab.Lab
	h1, h2, client *lab.Host
	m1, m2         *vip.Linux
}

func testConfig(addr netip.Prefix) vip.Config {
	cfg := vip.DefaultConfig(addr, "eth0")
	cfg.AnnounceCount = 1
	cfg.ProbeWindow = 100 * time.Millisecond
	return cfg
}

func newRig(t testing.TB, cfg vip.Config) *rig {
	t.Helper()
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2})
	r := &rig{l: l, h1: l.Host("h1"), h2: l.Host("h2"), client: l.Client()}
	r.m1 = newManager(t, r.h1, cfg)
	r.m2 = newManager(t, r.h2, cfg)
	waitWired(t, r.client, r.h1, r.h2)
	return r
}

// waitWired waits until from resolves every host by ARP. Right after a lab
// is built the kernel may still drop frames on the new veths: it activates
// a device's queue from the link-watch work, which runs at most once a
// second, so a single gratuitous ARP or probe sent at once can vanish.
func waitWired(t testing.TB, from *lab.Host, hosts ...*lab.Host) {
	t.Helper()
	var c *arp.Client
	must(t, from.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		c, err = arp.Dial(ifi)
		return err
	}))
	defer c.Close()
	giveUp := time.Now().Add(5 * time.Second)
	for _, h := range hosts {
		for answered := false; !answered; {
			if time.Now().After(giveUp) {
				t.Fatalf("lab: %s does not answer ARP from %s", h.Name(), from.Name())
			}
			must(t, c.Request(h.Addr("eth0")))
			must(t, c.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
			for !answered {
				p, _, err := c.Read()
				if err != nil {
					break // retry the request
				}
				answered = p.Operation == arp.OperationReply && p.SenderIP == h.Addr("eth0")
			}
		}
	}
}

func newManager(t testing.TB, h *lab.Host, cfg vip.Config) *vip.Linux {
	t.Helper()
	m, err := vip.NewLinux(h.Netlink(), cfg, vip.WithNetNS(h.NS()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// takeover moves the VIP from one manager to another as the daemon does.
func takeover(ctx context.Context, from, to *vip.Linux) error {
	if err := from.Release(ctx); err != nil {
		return err
	}
	if err := to.Ensure(ctx); err != nil {
		return err
	}
	return to.Announce(ctx)
}

// neighWatch subscribes to neighbor changes in h's namespace.
func neighWatch(t testing.TB, h *lab.Host) <-chan netlink.NeighUpdate {
	t.Helper()
	ch := make(chan netlink.NeighUpdate, 256)
	done := make(chan struct{})
	ns := h.NS()
	must(t, netlink.NeighSubscribeWithOptions(ch, done, netlink.NeighSubscribeOptions{Namespace: &ns}))
	t.Cleanup(func() {
		close(done)
		for range ch {
		}
	})
	return ch
}

// waitNeigh waits for an entry for ip with mac and returns when it arrived.
func waitNeigh(t testing.TB, ch <-chan netlink.NeighUpdate, ip netip.Addr, mac net.HardwareAddr, within time.Duration) time.Time {
	t.Helper()
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for {
		select {
		case u := <-ch:
			got, _ := netip.AddrFromSlice(u.IP)
			if u.Type == unix.RTM_NEWNEIGH && got.Unmap() == ip && bytes.Equal(u.HardwareAddr, mac) {
				return time.Now()
			}
		case <-timeout.C:
			t.Fatalf("no neighbor entry %s -> %s within %v", ip, mac, within)
		}
	}
}

// clientSend sends one UDP datagram from the client to ip:9, which makes
// the client's kernel resolve ip.
func clientSend(t testing.TB, c *lab.Host, ip netip.Addr) {
	t.Helper()
	must(t, c.Do(func() error {
		conn, err := net.Dial("udp", netip.AddrPortFrom(ip, 9).String())
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.Write([]byte("x"))
		return err
	}))
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func TestPrivilegedClientFollowsMoves(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	ch := neighWatch(t, r.client)
	must(t, r.m1.Ensure(ctx))
	clientSend(t, r.client, vip4.Addr())
	waitNeigh(t, ch, vip4.Addr(), r.h1.MAC("eth0"), 2*time.Second)

	const moves = 100
	var ds []time.Duration
	from, to, toHost := r.m1, r.m2, r.h2
	for range moves {
		errc := make(chan error, 1)
		start := time.Now()
		go func() { errc <- takeover(ctx, from, to) }()
		ds = append(ds, waitNeigh(t, ch, vip4.Addr(), toHost.MAC("eth0"), 2*time.Second).Sub(start))
		must(t, <-errc)
		if to == r.m2 {
			from, to, toHost = r.m2, r.m1, r.h1
		} else {
			from, to, toHost = r.m1, r.m2, r.h2
		}
	}
	t.Logf("client entry moved in %d moves: p50 %v, p99 %v, max %v (release+ensure+announce to neighbor event)",
		moves, percentile(ds, 0.5), percentile(ds, 0.99), slices.Max(ds))
}

// echoServer answers UDP datagrams on vip:7 in h until the test ends.
// IP_FREEBIND lets it bind before the address is on the host, and replies
// leave from the VIP.
func echoServer(t testing.TB, h *lab.Host, ip netip.Addr) {
	t.Helper()
	var pc net.PacketConn
	must(t, h.Do(func() error {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
			})
			return errors.Join(err, serr)
		}}
		var err error
		pc, err = lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(ip, 7).String())
		return err
	}))
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
}

func TestPrivilegedPingAcrossMove(t *testing.T) {
	// One announcement round, sent before the next datagram leaves; the
	// repeats matter for lossy switches, not here.
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	echoServer(t, r.h1, vip4.Addr())
	echoServer(t, r.h2, vip4.Addr())
	must(t, r.m1.Ensure(ctx))
	must(t, r.m1.Announce(ctx))

	var conn net.PacketConn
	must(t, r.client.Do(func() (err error) {
		conn, err = net.ListenPacket("udp4", r.client.Addr("eth0").String()+":0")
		return err
	}))
	defer conn.Close()
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(vip4.Addr(), 7))
	// Warm up: resolve the VIP and see one echo before counting.
	buf := make([]byte, 64)
	must(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err := conn.WriteTo([]byte{0xff, 0xff, 0xff, 0xff}, dst)
	must(t, err)
	_, _, err = conn.ReadFrom(buf)
	must(t, err)
	must(t, conn.SetReadDeadline(time.Time{}))

	const n, moveAt = 300, 150
	got := make(chan uint32, n)
	go func() {
		for {
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				close(got)
				return
			}
			if k == 4 {
				got <- binary.BigEndian.Uint32(buf)
			}
		}
	}()
	seen := map[uint32]bool{}
	// waitFor collects replies until seq has been seen or d has passed.
	waitFor := func(seq uint32, d time.Duration) {
		timeout := time.NewTimer(d)
		defer timeout.Stop()
		for !seen[seq] {
			select {
			case s, ok := <-got:
				if !ok {
					return
				}
				seen[s] = true
			case <-timeout.C:
				return
			}
		}
	}
	tick := time.NewTicker(10 * time.Millisecond)
	owner := r.m1
	for i := range uint32(n) {
		<-tick.C
		if i%25 == 0 { // the owner refreshes its lifetime as the daemon does
			must(t, owner.Ensure(ctx))
		}
		if i == moveAt {
			// A planned move: the old owner has answered what it got (on a
			// loaded machine its echo server may lag), then lets go.
			waitFor(i-1, 5*time.Second)
			must(t, takeover(ctx, r.m1, r.m2))
			owner = r.m2
		}
		_, err := conn.WriteTo(binary.BigEndian.AppendUint32(nil, i), dst)
		must(t, err)
	}
	tick.Stop()
	waitFor(n-1, 2*time.Second)
	must(t, conn.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	for s := range got {
		seen[s] = true
	}
	var lost []uint32
	for i := range uint32(n) {
		if !seen[i] {
			lost = append(lost, i)
		}
	}
	t.Logf("pinged every 10 ms across a planned move at #%d: %d of %d replies lost %v", moveAt, len(lost), n, lost)
	if len(lost) > 1 {
		t.Errorf("lost %d replies, want at most 1", len(lost))
	}
}

func TestPrivilegedGARPBothForms(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	var pc *packet.Conn
	must(t, r.client.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		pc, err = packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), nil)
		return err
	}))
	defer pc.Close()
	must(t, r.m2.Ensure(ctx))
	must(t, r.m2.Announce(ctx))
	must(t, pc.SetReadDeadline(time.Now().Add(2*time.Second)))
	mac, ip := r.h2.MAC("eth0"), vip4.Addr()
	var request, reply bool
	buf := make([]byte, 1500)
	for !request || !reply {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("request seen %v, reply seen %v: %v", request, reply, err)
		}
		var f ethernet.Frame
		var p arp.Packet
		if f.UnmarshalBinary(buf[:n]) != nil || p.UnmarshalBinary(f.Payload) != nil {
			continue
		}
		if !bytes.Equal(f.Destination, ethernet.Broadcast) || !bytes.Equal(p.SenderHardwareAddr, mac) ||
			p.SenderIP != ip || p.TargetIP != ip {
			continue
		}
		switch p.Operation {
		case arp.OperationRequest:
			request = true
		case arp.OperationReply:
			if !bytes.Equal(p.TargetHardwareAddr, mac) {
				t.Errorf("GARP reply target MAC = %v, want sender MAC %v", p.TargetHardwareAddr, mac)
			}
			reply = true
		}
	}
}

func TestPrivilegedProbe(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	mac, err := r.m2.Probe(ctx)
	must(t, err)
	if mac != nil {
		t.Errorf("probe with no owner reported %v", mac)
	}
	must(t, r.m1.Ensure(ctx))
	mac, err = r.m2.Probe(ctx)
	must(t, err)
	if !bytes.Equal(mac, r.h1.MAC("eth0")) {
		t.Errorf("probe with h1 owning = %v, want h1's %v", mac, r.h1.MAC("eth0"))
	}
	// Our own address does not count as a conflict.
	mac, err = r.m1.Probe(ctx)
	must(t, err)
	if mac != nil {
		t.Errorf("the owner's own probe reported %v", mac)
	}
}

// TestPrivilegedProbeLateReader: a probe whose reader runs only after its
// window is over (here: a window so short that it has passed before the
// first read) must still see an owner's answer that arrives right then,
// instead of reporting "no owner" and letting the address be claimed twice.
func TestPrivilegedProbeLateReader(t *testing.T) {
	cfg := testConfig(vip4)
	r := newRig(t, cfg)
	ctx := context.Background()
	must(t, r.m1.Ensure(ctx))
	cfg.ProbeWindow = time.Nanosecond
	late := newManager(t, r.h2, cfg)
	// The answer must land within the 2 ms drain: on a loaded machine one
	// try may miss it, so try a few times; without the drain none can see it.
	for try := range 20 {
		mac, err := late.Probe(ctx)
		must(t, err)
		if mac != nil {
			if !bytes.Equal(mac, r.h1.MAC("eth0")) {
				t.Fatalf("conflict from %v, want h1's %v", mac, r.h1.MAC("eth0"))
			}
			t.Logf("conflict seen on try %d", try+1)
			return
		}
	}
	t.Fatal("20 probes that read after their window missed the owner's answer")
}

func TestPrivilegedWatchDuplicate(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, r.m2.Ensure(ctx))
	dups := make(chan net.HardwareAddr, 16)
	errc := make(chan error, 1)
	go func() { errc <- r.m2.Watch(ctx, func(m net.HardwareAddr) { dups <- m }) }()
	must(t, r.m1.Ensure(ctx)) // h1 wrongly claims the same address
	// Watch has no ready signal: h1 announces until h2 notices.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(3 * time.Second)
	for done := false; !done; {
		select {
		case mac := <-dups:
			if !bytes.Equal(mac, r.h1.MAC("eth0")) {
				t.Fatalf("duplicate from %v, want h1's %v", mac, r.h1.MAC("eth0"))
			}
			done = true
		case <-tick.C:
			must(t, r.m1.Announce(ctx))
		case <-timeout:
			t.Fatal("no duplicate-address alarm")
		}
	}
	cancel()
	must(t, <-errc)
}

func addrs(t testing.TB, h *lab.Host) []netip.Prefix {
	t.Helper()
	link, err := h.Netlink().LinkByName("eth0")
	must(t, err)
	list, err := h.Netlink().AddrList(link, netlink.FAMILY_V4)
	must(t, err)
	var ps []netip.Prefix
	for _, a := range list {
		ip, _ := netip.AddrFromSlice(a.IP)
		bits, _ := a.Mask.Size()
		ps = append(ps, netip.PrefixFrom(ip.Unmap(), bits))
	}
	return ps
}

func TestPrivilegedCleanupRemovesStale(t *testing.T) {
	r := newRig(t, testConfig(vip4))
	ctx := context.Background()
	// A crashed daemon left the VIP: simulate it with a forever address.
	// An older configuration used another label.
	stale := testConfig(vip4)
	stale.Lifetime = 0
	stale.Label = "eth0:9"
	must(t, newManager(t, r.h1, stale).Ensure(ctx))
	cfg := testConfig(vip4)
	cfg.Label = "eth0:1"
	m := newManager(t, r.h1, cfg) // the restarted daemon
	removed, err := m.Cleanup(ctx)
	must(t, err)
	if !removed {
		t.Error("Cleanup did not report the stale VIP")
	}
	if slices.Contains(addrs(t, r.h1), vip4) {
		t.Error("stale VIP still on eth0")
	}
	if !slices.Contains(addrs(t, r.h1), netip.PrefixFrom(r.h1.Addr("eth0"), 24)) {
		t.Error("Cleanup removed the primary")
	}
	removed, err = m.Cleanup(ctx)
	must(t, err)
	if removed {
		t.Error("second Cleanup reported a removal")
	}
}

func TestPrivilegedReleaseKeepsPrimary(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	h := l.Host("h1")
	primary := netip.PrefixFrom(h.Addr("eth0"), 24)
	ctx := context.Background()
	for _, p := range []string{"198.18.1.100/32", "198.18.1.100/24", "198.18.1.100/28"} {
		t.Run(p, func(t *testing.T) {
			cfg := testConfig(netip.MustParsePrefix(p))
			cfg.Label = "eth0:1"
			m := newManager(t, h, cfg)
			for range 2 { // absent the second time
				must(t, m.Ensure(ctx))
				must(t, m.Release(ctx))
				must(t, m.Release(ctx))
				got := addrs(t, h)
				if !slices.Contains(got, primary) || slices.Contains(got, cfg.Addr) {
					t.Fatalf("after release of %s: %v", cfg.Addr, got)
				}
			}
		})
	}
	// The secondary case again, but removing the primary afterwards: with
	// promote_secondaries set by Ensure the VIP survives.
	cfg := testConfig(netip.MustParsePrefix("198.18.1.100/24"))
	m := newManager(t, h, cfg)
	must(t, m.Ensure(ctx))
	link, err := h.Netlink().LinkByName("eth0")
	must(t, err)
	pa, err := netlink.ParseAddr(primary.String())
	must(t, err)
	must(t, h.Netlink().AddrDel(link, pa))
	ok, err := m.Present(ctx)
	must(t, err)
	if !ok {
		t.Error("a /24 VIP died with the primary although promote_secondaries was set")
	}
}

func TestPrivilegedBadInput(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	h := l.Host("h1")
	bare, err := h.Netlink().LinkByName("eth1")
	must(t, err)
	list, err := h.Netlink().AddrList(bare, netlink.FAMILY_V4)
	must(t, err)
	for _, a := range list {
		must(t, h.Netlink().AddrDel(bare, &a))
	}
	for _, tt := range []struct {
		name, addr, iface, label string
		want                     []string
	}{
		{"missing interface", "198.18.1.100/32", "eth9", "", []string{`interface: "eth9" not found`}},
		{"no ipv4", "198.18.2.100/32", "eth1", "", []string{"interface: eth1 has no IPv4 address"}},
		{"bad label", "198.18.1.100/32", "eth0", "eth1:1", []string{"label:"}},
		{"own address", h.Addr("eth0").String() + "/32", "eth0", "", []string{"vip: 198.18.1.1 is the interface's own address"}},
		{"swallows primary", "198.18.1.100/16", "eth0", "", []string{"prefix: 198.18.1.100/16 covers"}},
		{"several", "198.18.1.100/16", "eth0", "eth0:-", []string{"prefix:", "label:"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(netip.MustParsePrefix(tt.addr))
			cfg.Interface, cfg.Label = tt.iface, tt.label
			_, err := vip.NewLinux(h.Netlink(), cfg, vip.WithNetNS(h.NS()))
			if err == nil {
				t.Fatal("NewLinux accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// addrGone watches h's addresses and reports when p is deleted.
func addrGone(t testing.TB, h *lab.Host) <-chan netlink.AddrUpdate {
	t.Helper()
	ch := make(chan netlink.AddrUpdate, 256)
	done := make(chan struct{})
	ns := h.NS()
	must(t, netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{Namespace: &ns}))
	t.Cleanup(func() {
		close(done)
		for range ch {
		}
	})
	return ch
}

// lifetimeBound is the documented bound: Lifetime + 1 s of kernel tick.
// The tests log a figure above it but do not fail on it (on a loaded machine
// the kernel's lifetime work runs late; timing belongs in reports, not in
// assertions); they fail if the address never expires, within a deadline
// far beyond any tick, or expires before its lifetime.
func lifetimeBound(l time.Duration) time.Duration { return l + time.Second }

// expiryDeadline is how long a test waits before it calls an address
// immortal.
func expiryDeadline(l time.Duration) time.Duration { return l + 10*time.Second }

func TestPrivilegedLifetimeExpiry(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	h := l.Host("h1")
	ctx := context.Background()
	ch := addrGone(t, h)
	// Ten VIPs added once each, 100 ms apart, so that they meet the
	// kernel's whole-second check at different phases; none is refreshed.
	const n = 10
	added := map[netip.Addr]time.Time{}
	tick := time.NewTicker(100 * time.Millisecond)
	for i := range n {
		<-tick.C
		cfg := testConfig(netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(101 + i)}), 32))
		must(t, newManager(t, h, cfg).Ensure(ctx))
		added[cfg.Addr.Addr()] = time.Now()
	}
	tick.Stop()
	lifetime := testConfig(vip4).Lifetime
	var ds []time.Duration
	timeout := time.After(expiryDeadline(lifetime))
	for len(ds) < n {
		select {
		case u := <-ch:
			ip, _ := netip.AddrFromSlice(u.LinkAddress.IP)
			if at, ok := added[ip.Unmap()]; ok && !u.NewAddr {
				ds = append(ds, time.Since(at))
			}
		case <-timeout:
			t.Fatalf("only %d of %d addresses expired: %v", len(ds), n, ds)
		}
	}
	t.Logf("Lifetime=%v, not refreshed: gone after min %v, p50 %v, max %v", lifetime, slices.Min(ds), percentile(ds, 0.5), slices.Max(ds))
	for _, d := range ds {
		if d < lifetime-50*time.Millisecond {
			t.Errorf("expired after %v, before its lifetime %v", d, lifetime)
		}
		if d > lifetimeBound(lifetime) {
			t.Logf("expired after %v, later than the documented bound %v (loaded machine?)", d, lifetimeBound(lifetime))
		}
	}
}

const helperEnv = "FAILOVER_VIP_HELPER"

// TestHelperOwner is not a test: TestPrivilegedSIGKILLedOwner runs the test
// binary with it inside h1's namespace as the owning "daemon", which
// refreshes the VIP every EnsureEvery and says so on stdout.
func TestHelperOwner(t *testing.T) {
	if os.Getenv(helperEnv) != "owner" {
		t.Skip("helper process for TestPrivilegedSIGKILLedOwner")
	}
	h, err := netlink.NewHandle()
	must(t, err)
	m, err := vip.NewLinux(h, testConfig(vip4))
	must(t, err)
	refresh := time.NewTicker(testConfig(vip4).EnsureEvery()) // the daemon's refresh timer
	for ; ; <-refresh.C {
		must(t, m.Ensure(context.Background()))
		fmt.Println("ensured")
	}
}

func TestPrivilegedSIGKILLedOwner(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	h := l.Host("h1")
	ch := addrGone(t, h)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOwner$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=owner")
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, h.Start(cmd))
	sc := bufio.NewScanner(out)
	refreshes := 0
	for refreshes < 4 && sc.Scan() { // added, then refreshed three times
		if sc.Text() == "ensured" {
			refreshes++
		}
	}
	if refreshes < 4 {
		t.Fatalf("helper stopped after %d refreshes: %v", refreshes, sc.Err())
	}
	killed := time.Now() // just after a refresh
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	lifetime := testConfig(vip4).Lifetime
	timeout := time.After(expiryDeadline(lifetime))
	for {
		select {
		case u := <-ch:
			ip, _ := netip.AddrFromSlice(u.LinkAddress.IP)
			if ip.Unmap() != vip4.Addr() || u.NewAddr {
				continue
			}
			d := time.Since(killed)
			t.Logf("owner SIGKILLed right after a refresh: VIP gone from the kernel %v later (Lifetime %v)", d, lifetime)
			if d > lifetimeBound(lifetime) {
				t.Logf("VIP outlived its owner by %v, later than the documented bound %v (loaded machine?)", d, lifetimeBound(lifetime))
			}
			return
		case <-timeout:
			t.Fatal("the VIP of a SIGKILLed owner did not expire")
		}
	}
}

// addULA gives eth0 of h an address of fd00:198:18::/64 without DAD.
func addULA(t testing.TB, h *lab.Host, last uint16) {
	t.Helper()
	link, err := h.Netlink().LinkByName("eth0")
	must(t, err)
	a, err := netlink.ParseAddr(fmt.Sprintf("fd00:198:18::%x/64", last))
	must(t, err)
	a.Flags = unix.IFA_F_NODAD
	must(t, h.Netlink().AddrAdd(link, a))
}

func TestPrivilegedIPv6Move(t *testing.T) {
	r := newRig(t, testConfig(vip6))
	ctx := context.Background()
	addULA(t, r.h1, 1)
	addULA(t, r.h2, 2)
	addULA(t, r.client, 0x250)
	ch := neighWatch(t, r.client)
	must(t, r.m1.Ensure(ctx))
	must(t, r.m1.Announce(ctx))
	clientSend(t, r.client, vip6.Addr())
	waitNeigh(t, ch, vip6.Addr(), r.h1.MAC("eth0"), 3*time.Second)

	mac, err := r.m2.Probe(ctx)
	if err != nil {
		t.Logf("IPv6 probe: %v", err) // needs a usable link-local address
	} else if !bytes.Equal(mac, r.h1.MAC("eth0")) {
		t.Errorf("IPv6 probe with h1 owning = %v, want %v", mac, r.h1.MAC("eth0"))
	}

	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- takeover(ctx, r.m1, r.m2) }()
	at := waitNeigh(t, ch, vip6.Addr(), r.h2.MAC("eth0"), 2*time.Second)
	must(t, <-errc)
	t.Logf("IPv6 client entry moved to h2 in %v", at.Sub(start))
}

func benchRig(b *testing.B) *rig {
	r := newRig(b, testConfig(vip4))
	b.Cleanup(func() { r.m1.Release(context.Background()) })
	return r
}

func BenchmarkPrivilegedEnsureAnnounce(b *testing.B) {
	r := benchRig(b)
	ctx := context.Background()
	for b.Loop() {
		must(b, r.m1.Ensure(ctx))
		must(b, r.m1.Announce(ctx))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
}

func BenchmarkPrivilegedEnsureRefresh(b *testing.B) {
	r := benchRig(b)
	ctx := context.Background()
	must(b, r.m1.Ensure(ctx))
	for b.Loop() {
		must(b, r.m1.Ensure(ctx))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/op")
}

func BenchmarkPrivilegedRelease(b *testing.B) {
	r := benchRig(b)
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		must(b, r.m1.Ensure(ctx))
		start := time.Now()
		must(b, r.m1.Release(ctx))
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/release")
}

func TestPrivilegedReleaseStopsAnnounce(t *testing.T) {
	cfg := testConfig(vip4)
	cfg.AnnounceCount = 1000
	cfg.AnnounceInterval = 5 * time.Millisecond
	r := newRig(t, cfg)
	ctx := context.Background()
	var pc *packet.Conn
	must(t, r.client.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		pc, err = packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), nil)
		return err
	}))
	defer pc.Close()
	must(t, r.m1.Ensure(ctx))
	errc := make(chan error, 1)
	go func() { errc <- r.m1.Announce(ctx) }()
	// Wait for the announcements to flow, then release.
	buf := make([]byte, 1500)
	mac := r.h1.MAC("eth0")
	isGARP := func(b []byte) bool {
		var f ethernet.Frame
		var p arp.Packet
		return f.UnmarshalBinary(b) == nil && p.UnmarshalBinary(f.Payload) == nil &&
			bytes.Equal(p.SenderHardwareAddr, mac) && p.SenderIP == vip4.Addr()
	}
	must(t, pc.SetReadDeadline(time.Now().Add(2*time.Second)))
	for seen := 0; seen < 6; {
		n, _, err := pc.ReadFrom(buf)
		must(t, err)
		if isGARP(buf[:n]) {
			seen++
		}
	}
	must(t, r.m1.Release(ctx))
	released := time.Now()
	if err := <-errc; err != nil {
		t.Fatalf("Announce stopped by Release returned %v, want nil", err)
	}
	// Frames already in the client's socket queue were sent before; the
	// kernel timestamps reception, so look only at frames that arrive well
	// after Release returned.
	must(t, pc.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	for {
		n, _, err := pc.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		must(t, err)
		if isGARP(buf[:n]) && time.Since(released) > 20*time.Millisecond {
			t.Fatalf("gratuitous ARP %v after Release returned", time.Since(released))
		}
	}
}

// TestHelperUnprivileged is not a test: TestPrivilegedPermissionErrors runs
// the test binary with it as an unprivileged user inside h1 and reads the
// errors it prints.
func TestHelperUnprivileged(t *testing.T) {
	if os.Getenv(helperEnv) != "unprivileged" {
		t.Skip("helper process for TestPrivilegedPermissionErrors")
	}
	h, err := netlink.NewHandle()
	must(t, err)
	m, err := vip.NewLinux(h, testConfig(vip4))
	must(t, err)
	fmt.Println("ensure:", m.Ensure(context.Background()))
	_, err = m.Probe(context.Background())
	fmt.Println("probe:", err)
}

func TestPrivilegedPermissionErrors(t *testing.T) {
	lab.Require(t)
	if os.Getuid() != 0 || os.Getenv("FAILOVER_LAB_USERNS") != "" {
		// Only uid 0 is mapped in the lab's user namespace.
		t.Skip("needs real root to run a helper as another user")
	}
	l := lab.NewT(t, lab.Options{Hosts: 1, NoClient: true})
	// The test binary lives in a private build directory: copy it where an
	// unprivileged user may run it.
	dir, err := os.MkdirTemp("", "vip-perm-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	self, err := os.ReadFile("/proc/self/exe")
	must(t, err)
	bin := dir + "/vip.test"
	must(t, os.WriteFile(bin, self, 0o755))
	var out bytes.Buffer
	cmd := exec.Command(bin, "-test.run=^TestHelperUnprivileged$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=unprivileged")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	must(t, l.Host("h1").Start(cmd))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"ensure: vip: add 198.18.1.100/32 on eth0: operation not permitted (missing CAP_NET_ADMIN)",
		"probe: vip: probe 198.18.1.100/32 on eth0: open ARP socket: ",
		"(missing CAP_NET_RAW)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("helper output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("unprivileged errors:\n%s", out.String())
}
