//go:build linux

package hwtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// probeSock is one UDP socket pinned to one path's NIC.
type probeSock struct {
	path  NICPath
	ifi   *net.Interface
	conn  net.PacketConn
	p4    *ipv4.PacketConn
	group *net.UDPAddr // nil when the path has no multicast
}

// openSock opens the path's socket in the calling thread's network namespace:
// bound to the NIC (SO_BINDTODEVICE) on the probe port, the group joined on
// that NIC only, multicast sent out of that NIC with TTL 1 and no loopback.
func openSock(p NICPath, port int) (*probeSock, error) {
	ifi, err := net.InterfaceByName(p.Interface)
	if err != nil {
		return nil, fmt.Errorf("NIC %s: %w", p.Interface, err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, p.Interface); serr != nil {
				serr = fmt.Errorf("bind to device %s: %w", p.Interface, serr)
				return
			}
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		})
		return errors.Join(err, serr)
	}}
	conn, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return nil, fmt.Errorf("udp port %d on %s: %w", port, p.Interface, err)
	}
	s := &probeSock{path: p, ifi: ifi, conn: conn, p4: ipv4.NewPacketConn(conn)}
	fail := func(what string, err error) (*probeSock, error) {
		conn.Close()
		return nil, fmt.Errorf("%s on %s: %w", what, p.Interface, err)
	}
	if err := s.p4.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true); err != nil {
		return fail("control messages", err)
	}
	if p.Group.IsValid() {
		s.group = &net.UDPAddr{IP: p.Group.AsSlice(), Port: port}
		if err := s.p4.JoinGroup(ifi, &net.UDPAddr{IP: p.Group.AsSlice()}); err != nil {
			return fail("join "+p.Group.String(), err)
		}
		if err := s.p4.SetMulticastInterface(ifi); err != nil {
			return fail("multicast interface", err)
		}
		if err := s.p4.SetMulticastTTL(1); err != nil {
			return fail("multicast ttl", err)
		}
		if err := s.p4.SetMulticastLoopback(false); err != nil {
			return fail("multicast loopback", err)
		}
	}
	return s, nil
}

// linkInfo reads the NIC's state from netlink.
func linkInfo(nl *netlink.Handle, name string) LinkInfo {
	l, err := nl.LinkByName(name)
	if err != nil {
		return LinkInfo{Err: err.Error()}
	}
	a := l.Attrs()
	li := LinkInfo{
		Exists:    true,
		Up:        a.Flags&net.FlagUp != 0,
		Carrier:   a.RawFlags&unix.IFF_LOWER_UP != 0,
		OperState: a.OperState.String(),
		MTU:       a.MTU,
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		li.Err = err.Error()
	}
	for _, ad := range addrs {
		li.Addrs = append(li.Addrs, ad.IPNet.String())
	}
	return li
}

// Prober runs `hwtest nic`: link checks, probes to every peer on every UDP
// path, and ARP probes of the VIPs.
type Prober struct {
	cfg   NICConfig
	o     NICOptions
	nl    *netlink.Handle
	socks []*probeSock // per path; nil where the socket could not be opened
	errs  []error      // per path
	arps  map[string]*arp.Client
	arpEr map[string]error
	once  sync.Once
}

// OpenProber opens every socket the check needs in the calling goroutine's
// network namespace (a goroutine locked into a namespace may call it; Run
// may then be called from anywhere). Close releases them.
func OpenProber(cfg NICConfig, o NICOptions) (*Prober, error) {
	o.defaults()
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	p := &Prober{cfg: cfg, o: o, nl: nl, arps: map[string]*arp.Client{}, arpEr: map[string]error{}}
	for _, path := range cfg.Paths {
		s, err := openSock(path, o.ProbePort)
		p.socks = append(p.socks, s)
		p.errs = append(p.errs, err)
	}
	for i, v := range cfg.VIPs {
		ifname := p.vipInterface(v)
		cfg.VIPs[i].Interface = ifname
		if ifname == "" || p.arps[ifname] != nil || p.arpEr[ifname] != nil {
			continue
		}
		ifi, err := net.InterfaceByName(ifname)
		if err == nil {
			var c *arp.Client
			if c, err = arp.Dial(ifi); err == nil {
				p.arps[ifname] = c
				continue
			}
		}
		p.arpEr[ifname] = err
	}
	p.cfg = cfg
	return p, nil
}

// vipInterface is the service's NIC, or else the path NIC whose subnet
// holds the VIP.
func (p *Prober) vipInterface(v VIPTarget) string {
	if v.Interface != "" {
		return v.Interface
	}
	for _, path := range p.cfg.Paths {
		for _, a := range linkInfo(p.nl, path.Interface).Addrs {
			if pfx, err := netip.ParsePrefix(a); err == nil && pfx.Masked().Contains(v.VIP.Addr()) {
				return path.Interface
			}
		}
	}
	return ""
}

// Close releases every socket; it is idempotent.
func (p *Prober) Close() error {
	p.once.Do(func() {
		for _, s := range p.socks {
			if s != nil {
				s.conn.Close()
			}
		}
		for _, c := range p.arps {
			c.Close()
		}
		p.nl.Close()
	})
	return nil
}

// answer is one echo received.
type answer struct {
	path int
	key  peerKey
	name string
	seq  uint32
	rtt  time.Duration
}

// Run measures and returns the report. It closes nothing; call Close.
func (p *Prober) Run(ctx context.Context) *Report {
	o := p.o
	res := NICResult{Node: p.cfg.Node}
	start := time.Now()
	clock := func() int64 { return int64(time.Since(start)) }
	answers := make(chan answer, 4096)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i, s := range p.socks {
		if s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			readEchoes(s, i, o.Session, clock, answers, stop)
		}()
	}
	p.warmUp(ctx, clock, answers)
	sendErrs := make([]int, len(p.socks))
	var lastProgress time.Time
	tick := time.NewTicker(o.Interval)
	for seq := uint32(1); seq <= uint32(o.Count) && ctx.Err() == nil; seq++ {
		for i, s := range p.socks {
			if s == nil {
				continue
			}
			if s.group != nil {
				if !sendProbe(s, s.group, o.Session, seq, clock(), kindMulticast) {
					sendErrs[i]++
				}
			}
			for _, peer := range s.path.Peers {
				if !sendProbe(s, &net.UDPAddr{IP: peer.AsSlice(), Port: o.ProbePort}, o.Session, seq, clock(), kindUnicast) {
					sendErrs[i]++
				}
			}
		}
		if time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			progress(o.Progress, "nic: %d/%d probes sent on %d path(s)\n", seq, o.Count, len(p.socks))
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	tick.Stop()
	progress(o.Progress, "nic: waiting %s for late answers\n", o.Wait)
	grace := time.NewTimer(o.Wait)
	select {
	case <-grace.C:
	case <-ctx.Done():
	}
	close(stop)
	for _, s := range p.socks {
		if s != nil {
			s.conn.SetReadDeadline(time.Now())
		}
	}
	wg.Wait()
	close(answers)

	type series struct {
		name string
		rtt  map[uint32]time.Duration
	}
	got := make([]map[peerKey]*series, len(p.socks))
	for a := range answers {
		if got[a.path] == nil {
			got[a.path] = map[peerKey]*series{}
		}
		sr := got[a.path][a.key]
		if sr == nil {
			sr = &series{rtt: map[uint32]time.Duration{}}
			got[a.path][a.key] = sr
		}
		if a.name != "" {
			sr.name = a.name
		}
		if _, dup := sr.rtt[a.seq]; !dup && a.seq >= 1 && a.seq <= uint32(o.Count) {
			sr.rtt[a.seq] = a.rtt
		}
	}
	summ := func(sr *series) *Summary {
		var rtts []time.Duration
		if sr != nil {
			for seq := uint32(1); seq <= uint32(o.Count); seq++ {
				if d, ok := sr.rtt[seq]; ok {
					rtts = append(rtts, d)
				}
			}
		}
		s := summarize(o.Count, rtts)
		return &s
	}
	for i, path := range p.cfg.Paths {
		pr := PathResult{Name: path.Name, Interface: path.Interface, Link: linkInfo(p.nl, path.Interface), SendErrors: sendErrs[i]}
		if path.Group.IsValid() {
			pr.Group = path.Group.String()
		}
		if p.errs[i] != nil {
			pr.SocketErr = p.errs[i].Error()
			res.Paths = append(res.Paths, pr)
			continue
		}
		addrs := slices.Clone(path.Peers)
		for k := range got[i] {
			if !slices.Contains(addrs, k.addr) {
				addrs = append(addrs, k.addr)
			}
		}
		for _, a := range addrs {
			peer := PeerResult{Addr: a.String(), Listed: slices.Contains(path.Peers, a)}
			mc, uc := got[i][peerKey{a, kindMulticast}], got[i][peerKey{a, kindUnicast}]
			if path.Group.IsValid() {
				peer.Multicast = summ(mc)
			}
			if peer.Listed {
				peer.Unicast = summ(uc)
			}
			for _, sr := range []*series{mc, uc} {
				if sr != nil && sr.name != "" {
					peer.Name = sr.name
				}
			}
			pr.Peers = append(pr.Peers, peer)
		}
		res.Paths = append(res.Paths, pr)
	}
	res.VIPs = p.probeVIPs()
	r := &Report{Command: "nic", NIC: &res}
	r.Checks = diagnoseNIC(res, o)
	rec := Recommend(nicSamples(res), DefaultPolicy())
	rec.noteConfigured(p.cfg.Interval, p.cfg.Deadtime)
	r.Recommendation = &rec
	return r.Finish()
}

// warmUp sends unnumbered probes (seq 0, never counted) until every listed
// peer answered unicast and someone answered each group, or Warmup passed:
// neighbour resolution and switch learning are not part of the measurement.
func (p *Prober) warmUp(ctx context.Context, clock func() int64, answers <-chan answer) {
	type target struct {
		path int
		key  peerKey
	}
	pending := map[target]bool{}
	for i, s := range p.socks {
		if s == nil {
			continue
		}
		if s.group != nil {
			pending[target{i, peerKey{kind: kindMulticast}}] = true
		}
		for _, a := range s.path.Peers {
			pending[target{i, peerKey{a, kindUnicast}}] = true
		}
	}
	deadline := time.NewTimer(p.o.Warmup)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	progress(p.o.Progress, "nic: warming up (neighbour resolution, switch learning)\n")
	for len(pending) > 0 {
		for t := range pending {
			s := p.socks[t.path]
			if t.key.kind == kindMulticast {
				sendProbe(s, s.group, p.o.Session, 0, clock(), kindMulticast)
			} else {
				sendProbe(s, &net.UDPAddr{IP: t.key.addr.AsSlice(), Port: p.o.ProbePort}, p.o.Session, 0, clock(), kindUnicast)
			}
		}
	wait:
		for {
			select {
			case a := <-answers:
				if a.key.kind == kindMulticast {
					a.key.addr = netip.Addr{}
				}
				delete(pending, target{a.path, a.key})
			case <-tick.C:
				break wait
			case <-deadline.C:
				return
			case <-ctx.Done():
				return
			}
		}
	}
}

func sendProbe(s *probeSock, dst *net.UDPAddr, session, seq uint32, now int64, kind byte) bool {
	b := frame{Type: typeNICProbe, Session: session, Seq: seq, SentAt: now, Payload: []byte{kind}}.marshal(nil)
	_, err := s.p4.WriteTo(b, nil, dst)
	return err == nil
}

// readEchoes reads echoes of our session until stop is closed.
func readEchoes(s *probeSock, path int, session uint32, clock func() int64, out chan<- answer, stop <-chan struct{}) {
	buf := make([]byte, 2048)
	for {
		n, _, src, err := s.p4.ReadFrom(buf)
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f, err := unmarshalFrame(buf[:n])
		if err != nil || f.Type != typeNICEcho || f.Session != session || len(f.Payload) < 1 {
			continue
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		addr, _ := netip.AddrFromSlice(ua.IP)
		out <- answer{path: path, key: peerKey{addr.Unmap(), f.Payload[0]}, name: string(f.Payload[1:]), seq: f.Seq, rtt: time.Duration(clock() - f.SentAt)}
	}
}

func (p *Prober) probeVIPs() []VIPResult {
	var out []VIPResult
	local := map[netip.Addr]bool{}
	if addrs, err := p.nl.AddrList(nil, netlink.FAMILY_V4); err == nil {
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				local[ip.Unmap()] = true
			}
		}
	}
	for _, v := range p.cfg.VIPs {
		r := VIPResult{Service: v.Service, VIP: v.VIP.Addr().String(), Interface: v.Interface}
		switch c := p.arps[v.Interface]; {
		case v.Interface == "":
			r.Err = "no NIC: the service names no interface and no path's subnet holds the VIP"
		case local[v.VIP.Addr()]:
			r.Local = true
		case c == nil:
			r.Err = fmt.Sprint(p.arpEr[v.Interface])
		default:
			for range 3 {
				c.SetDeadline(time.Now().Add(p.o.ARPTimeout))
				mac, err := c.Resolve(v.VIP.Addr())
				if err == nil {
					r.InUse, r.MAC = true, mac.String()
					break
				}
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					r.Err = err.Error()
					break
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// Responder answers `hwtest nic` probes on every UDP path of a config:
// unicast probes to the sender, multicast probes to the group on the same
// NIC (so both directions of multicast are tested).
type Responder struct {
	cfg   NICConfig
	o     NICOptions
	socks []*probeSock
	once  sync.Once
}

// OpenResponder opens the sockets in the calling goroutine's network
// namespace. A path whose socket cannot be opened is an error naming it.
func OpenResponder(cfg NICConfig, o NICOptions) (*Responder, error) {
	o.defaults()
	r := &Responder{cfg: cfg, o: o}
	for _, path := range cfg.Paths {
		s, err := openSock(path, o.ProbePort)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("path %s: %w", path.Name, err)
		}
		r.socks = append(r.socks, s)
	}
	return r, nil
}

// Close releases the sockets and ends Run; it is idempotent.
func (r *Responder) Close() error {
	r.once.Do(func() {
		for _, s := range r.socks {
			s.conn.Close()
		}
	})
	return nil
}

// Run answers until ctx ends or Close is called; it returns nil then.
func (r *Responder) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range r.socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.answer(s)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-ctx.Done():
		r.Close()
		<-done
	case <-done:
	}
	return nil
}

func (r *Responder) answer(s *probeSock) {
	buf := make([]byte, 2048)
	seen := map[uint32]bool{}
	for {
		n, _, src, err := s.p4.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f, err := unmarshalFrame(buf[:n])
		if err != nil || f.Type != typeNICProbe || len(f.Payload) < 1 {
			continue
		}
		if !seen[f.Session] {
			seen[f.Session] = true
			progress(r.o.Progress, "nic listen: answering %s on %s (session %08x)\n", src, s.path.Interface, f.Session)
		}
		kind := f.Payload[0]
		f.Type = typeNICEcho
		f.Payload = append([]byte{kind}, r.cfg.Node...)
		dst := src
		if kind == kindMulticast && s.group != nil {
			dst = s.group
		}
		s.p4.WriteTo(f.marshal(nil), nil, dst)
	}
}
