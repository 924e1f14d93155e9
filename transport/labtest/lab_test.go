//go:build linux

package labtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/transport"
	"github.com/failover-ha/failover/transport/serial"
	"github.com/failover-ha/failover/transport/udp"
	"github.com/vishvananda/netlink"
)

func TestMain(m *testing.M) { lab.Main(m) }

const (
	cluster = 42
	group   = "239.192.0.1:7400" // eth0: multicast
	port1   = 7401               // eth1: unicast
	bound   = 3 * time.Second    // failure bound for things that must happen
	quiet   = 300 * time.Millisecond
)

var pathNames = []string{"eth0", "eth1", "serial0"}

type counted interface {
	transport.Path
	Counters() *transport.Counters
}

type node struct {
	name    string
	h       *lab.Host
	paths   map[string]counted
	ifindex map[string]int
	sealer  *transport.Sealer
	gate    *transport.Gate
	rx      chan transport.Packet
	links   chan transport.LinkEvent
	seq     uint64
	junk    bool // rejected frames are expected
}

func keyring(t *testing.T, secret byte) *transport.Keyring {
	r, err := transport.NewKeyring(map[uint8][]byte{1: bytes.Repeat([]byte{secret}, 32)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sealer(t *testing.T, cluster uint32, secret byte) *transport.Sealer {
	s, err := transport.NewSealer(cluster, keyring(t, secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rig builds two hosts joined on eth0, eth1 and a cable, with every path
// open on both and receivers running.
func rig(t *testing.T) (*lab.Lab, *node, *node) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	n1, n2 := open(t, l, "h1", "h2"), open(t, l, "h2", "h1")
	return l, n1, n2
}

func open(t *testing.T, l *lab.Lab, name, peer string) *node {
	h, other := l.Host(name), l.Host(peer)
	n := &node{
		name: name, h: h, paths: map[string]counted{}, ifindex: map[string]int{},
		sealer: sealer(t, cluster, 0x11),
		rx:     make(chan transport.Packet, 256), links: make(chan transport.LinkEvent, 256),
	}
	n.gate = &transport.Gate{Sealer: n.sealer, Replay: transport.NewReplayGuard(0)}
	err := h.Do(func() error {
		p0, err := udp.New(udp.Config{Name: "eth0", Interface: "eth0", Group: netip.MustParseAddrPort(group)})
		if err != nil {
			return err
		}
		n.paths["eth0"] = p0
		p1, err := udp.New(udp.Config{Name: "eth1", Interface: "eth1", Port: port1,
			Peers: []netip.AddrPort{netip.AddrPortFrom(other.Addr("eth1"), port1)}})
		if err != nil {
			return err
		}
		n.paths["eth1"] = p1
		for _, nic := range []string{"eth0", "eth1"} {
			ifi, err := net.InterfaceByName(nic)
			if err != nil {
				return err
			}
			n.ifindex[nic] = ifi.Index
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sp, err := serial.New(serial.Config{Name: "serial0", Port: h.SerialPort(peer)},
		serial.WithLinkEvents(func(ev transport.LinkEvent) { n.links <- ev }))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n.paths["serial0"] = sp
	var wg sync.WaitGroup
	for _, p := range n.paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				pk, err := p.Recv()
				if err != nil {
					return
				}
				n.rx <- pk
			}
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	watchErr := make(chan error, 1)
	nics := map[string]string{"eth0": "eth0", "eth1": "eth1"}
	onLink := func(ev transport.LinkEvent) { n.links <- ev }
	go func() {
		if name == "h2" { // h2 watches from a thread inside its namespace
			watchErr <- h.Do(func() error { return transport.WatchLinks(ctx, nics, onLink) })
			return
		}
		watchErr <- transport.WatchLinks(ctx, nics, onLink, transport.WithNetns(h.NS()))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-watchErr; err != nil {
			t.Errorf("%s: WatchLinks: %v", name, err)
		}
		for _, p := range n.paths {
			p.Close()
		}
		wg.Wait()
	})
	// Initial link states: eth0, eth1 (netlink) and serial0 (port opened) up.
	n.expectLinks(t, map[string]bool{"eth0": true, "eth1": true, "serial0": true})
	return n
}

// expectLinks waits for one event per listed path with the given state.
func (n *node) expectLinks(t *testing.T, want map[string]bool) {
	t.Helper()
	left := len(want)
	timeout := time.After(bound)
	for left > 0 {
		select {
		case ev := <-n.links:
			up, ok := want[ev.Path]
			if !ok {
				t.Fatalf("%s: unexpected link event %+v", n.name, ev)
			}
			if ev.Up != up {
				t.Fatalf("%s: link event %+v, want up=%v", n.name, ev, up)
			}
			delete(want, ev.Path)
			left--
		case <-timeout:
			t.Fatalf("%s: link events missing: %v", n.name, want)
		}
	}
}

// send seals one new heartbeat and sends it on the given paths (all if none).
func (n *node) send(t *testing.T, paths ...string) (seq uint64, sealed []byte) {
	t.Helper()
	n.seq++
	b, err := n.sealer.Seal(transport.Frame{Kind: transport.KindHeartbeat, Node: n.name, Epoch: 1, Seq: n.seq})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		paths = pathNames
	}
	for _, p := range paths {
		_ = n.paths[p].Send(b) // a pulled NIC may fail or drop
	}
	return n.seq, b
}

// expect admits packets on n until seq from peer arrived on every path in
// want, and fails if it arrives on another path (watched quiet after).
func (n *node) expect(t *testing.T, from *node, seq uint64, want ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, p := range want {
		missing[p] = true
	}
	timeout := time.After(bound)
	var grace <-chan time.Time
	if len(missing) == 0 {
		grace = time.After(quiet)
	}
	for {
		select {
		case pk := <-n.rx:
			f, err := n.gate.Admit(pk, n.paths[pk.Path].Counters())
			if err != nil {
				if !n.junk {
					t.Errorf("%s: %s: rejected: %v", n.name, pk.Path, err)
				}
				continue
			}
			if f.Node != from.name || f.Seq != seq {
				continue // older frame
			}
			if !missing[pk.Path] {
				t.Errorf("%s: seq %d arrived on %s, want only %v", n.name, seq, pk.Path, want)
				continue
			}
			delete(missing, pk.Path)
			n.checkAttribution(t, from, pk)
			if len(missing) == 0 {
				grace = time.After(quiet)
			}
		case <-timeout:
			t.Fatalf("%s: seq %d from %s missing on %v", n.name, seq, from.name, missing)
		case <-grace:
			return
		}
	}
}

func (n *node) checkAttribution(t *testing.T, from *node, pk transport.Packet) {
	t.Helper()
	if pk.Path == "serial0" {
		if pk.IfIndex != 0 || pk.From.IsValid() {
			t.Errorf("%s: serial packet with ifindex %d from %v", n.name, pk.IfIndex, pk.From)
		}
		return
	}
	if pk.IfIndex != n.ifindex[pk.Path] || pk.From.Addr() != from.h.Addr(pk.Path) {
		t.Errorf("%s: packet on %s: ifindex %d from %v, want ifindex %d from %v",
			n.name, pk.Path, pk.IfIndex, pk.From, n.ifindex[pk.Path], from.h.Addr(pk.Path))
	}
}

func without(all []string, drop string) []string {
	var out []string
	for _, p := range all {
		if p != drop {
			out = append(out, p)
		}
	}
	return out
}

func TestPrivilegedEveryPath(t *testing.T) {
	_, n1, n2 := rig(t)
	seq, _ := n1.send(t)
	n2.expect(t, n1, seq, pathNames...)
	seq, _ = n2.send(t)
	n1.expect(t, n2, seq, pathNames...)
}

func TestPrivilegedCutEachPath(t *testing.T) {
	l, n1, n2 := rig(t)
	for _, nic := range []string{"eth0", "eth1"} {
		t.Run("pull "+nic, func(t *testing.T) {
			if err := l.Pull("h1", nic); err != nil {
				t.Fatal(err)
			}
			n1.expectLinks(t, map[string]bool{nic: false})
			if err := l.Pull("h2", nic); err != nil {
				t.Fatal(err)
			}
			n2.expectLinks(t, map[string]bool{nic: false})
			if err := l.Plug("h2", nic); err != nil {
				t.Fatal(err)
			}
			n2.expectLinks(t, map[string]bool{nic: true})
			seq, _ := n1.send(t)
			n2.expect(t, n1, seq, without(pathNames, nic)...)
			if err := l.Plug("h1", nic); err != nil {
				t.Fatal(err)
			}
			n1.expectLinks(t, map[string]bool{nic: true})
			seq, _ = n1.send(t)
			n2.expect(t, n1, seq, pathNames...)
		})
	}
	t.Run("cut cable", func(t *testing.T) {
		c := l.Cable("h1", "h2")
		if err := c.Cut(); err != nil {
			t.Fatal(err)
		}
		seq, _ := n1.send(t)
		n2.expect(t, n1, seq, "eth0", "eth1")
		if err := c.Heal(); err != nil {
			t.Fatal(err)
		}
		seq, _ = n1.send(t)
		n2.expect(t, n1, seq, pathNames...)
	})
}

func TestPrivilegedSerialHangup(t *testing.T) {
	l, n1, n2 := rig(t)
	c := l.Cable("h1", "h2")
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	n1.expectLinks(t, map[string]bool{"serial0": false})
	n2.expectLinks(t, map[string]bool{"serial0": false})
	seq, _ := n1.send(t)
	n2.expect(t, n1, seq, "eth0", "eth1")
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	n1.expectLinks(t, map[string]bool{"serial0": true})
	n2.expectLinks(t, map[string]bool{"serial0": true})
	seq, _ = n1.send(t)
	n2.expect(t, n1, seq, pathNames...)
}

func TestPrivilegedRejects(t *testing.T) {
	_, n1, n2 := rig(t)
	seq, captured := n1.send(t)
	n2.expect(t, n1, seq, pathNames...)

	forged, err := sealer(t, cluster, 0x66).Seal(transport.Frame{Kind: transport.KindHeartbeat, Node: "h1", Epoch: 1, Seq: 1000})
	if err != nil {
		t.Fatal(err)
	}
	other, err := sealer(t, cluster+1, 0x11).Seal(transport.Frame{Kind: transport.KindHeartbeat, Node: "h1", Epoch: 1, Seq: 1001})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pathNames {
		for _, b := range [][]byte{forged, captured, other} {
			if err := n1.paths[p].Send(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string][]error{}
	for range 3 * len(pathNames) {
		select {
		case pk := <-n2.rx:
			_, err := n2.gate.Admit(pk, n2.paths[pk.Path].Counters())
			want[pk.Path] = append(want[pk.Path], err)
		case <-time.After(bound):
			t.Fatalf("frames missing; got %v", want)
		}
	}
	for _, p := range pathNames {
		errs := want[p]
		if len(errs) != 3 || !errors.Is(errs[0], transport.ErrAuth) || !errors.Is(errs[1], transport.ErrReplay) ||
			!errors.Is(errs[2], transport.ErrCluster) {
			t.Errorf("%s: errors %v, want auth, replay, cluster", p, errs)
		}
		s := n2.paths[p].Counters().Snapshot()
		if s.AuthFailures != 1 || s.Replays != 1 || s.OtherCluster != 1 {
			t.Errorf("%s: counters %+v", p, s)
		}
	}
	// the genuine sender still gets through
	seq, _ = n1.send(t)
	n2.expect(t, n1, seq, pathNames...)
}

func TestPrivilegedGarbage(t *testing.T) {
	l, n1, n2 := rig(t)
	rng := rand.New(rand.NewPCG(3, 4))
	junk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	// Raw bytes on the line at h1's end, beside the path. (Not a second
	// open of the port: the path holds it exclusively, which only real root
	// may bypass.)
	cable := l.Cable("h1", "h2")
	for i := range 50 {
		for _, p := range []string{"eth0", "eth1"} {
			if err := n1.paths[p].Send(junk(1 + rng.IntN(1400))); err != nil {
				t.Fatal(err)
			}
		}
		if err := n1.paths["serial0"].Send(junk(1 + rng.IntN(300))); err != nil {
			t.Fatal(err)
		}
		if err := cable.Inject("h1", junk(rng.IntN(200))); err != nil {
			t.Fatal(fmt.Errorf("raw write %d: %w", i, err))
		}
	}
	// drain and admit the junk: every frame rejected, nothing panics
	n2.junk = true
	seq, _ := n1.send(t)
	n2.expect(t, n1, seq, pathNames...)
	var rejected uint64
	for _, p := range pathNames {
		s := n2.paths[p].Counters().Snapshot()
		rejected += s.Malformed + s.AuthFailures + s.BadVersion + s.OtherCluster
	}
	if rejected < 100 {
		t.Errorf("only %d junk frames counted as rejected", rejected)
	}
}

// TestPrivilegedMisconfigured: a bad path fails with its name and reason and
// the good paths still open and work.
func TestPrivilegedMisconfigured(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1 := l.Host("h1")
	peer := netip.AddrPortFrom(l.Host("h2").Addr("eth0"), 7402)
	err := h1.Do(func() error {
		addrs, err := h1.Netlink().AddrList(mustLink(h1, "eth1"), netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if err := h1.Netlink().AddrDel(mustLink(h1, "eth1"), &a); err != nil {
				return err
			}
		}
		for _, tt := range []struct {
			cfg  udp.Config
			want string
		}{
			{udp.Config{Name: "eth7", Interface: "eth7", Peers: []netip.AddrPort{peer}}, "udp path eth7: interface eth7: "},
			{udp.Config{Name: "eth1", Interface: "eth1", Peers: []netip.AddrPort{peer}}, "udp path eth1: interface eth1 has no IPv4 address"},
		} {
			if p, err := udp.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				if p != nil {
					p.Close()
				}
				t.Errorf("udp.New(%+v) = %v, want %q", tt.cfg, err, tt.want)
			}
		}
		p, err := udp.New(udp.Config{Name: "eth0", Interface: "eth0", Peers: []netip.AddrPort{peer}})
		if err != nil {
			return fmt.Errorf("good path after bad ones: %w", err)
		}
		return p.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serial.New(serial.Config{Name: "serial0", Port: "/dev/ttyNOPE9"}); err == nil ||
		!strings.Contains(err.Error(), "serial path serial0: open /dev/ttyNOPE9: ") {
		t.Errorf("serial.New on a missing tty: %v", err)
	}
}

func mustLink(h *lab.Host, name string) netlink.Link {
	l, err := h.Netlink().LinkByName(name)
	if err != nil {
		panic(err)
	}
	return l
}
