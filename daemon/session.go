package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
	"github.com/failover-ha/failover/vip"
)

// shutdownWait bounds how long a planned hand-over waits for the peer's Ack.
const shutdownWait = 300 * time.Millisecond

// session is one run of the core with one config. Everything in it is owned
// by the loop goroutine (run) unless noted.
type session struct {
	d      *Daemon
	cfg    *config.Config
	log    *slog.Logger
	nw     *Net
	core   *quorum.Core
	sealer *transport.Sealer
	gate   *transport.Gate
	paths  []*pathRT
	byName map[string]*pathRT
	svcs   map[string]*svcRT
	order  []string // service names in config order
	epoch  uint64
	seq    uint64
	echo   map[[2]string]echo // (peer, path) -> last frame heard
	remote map[string]remoteSvcs

	rx     chan rxFrame      // from path readers
	events chan quorum.Event // probe results
	links  chan transport.LinkEvent
	ctx    context.Context // ends when the session ends (not on shutdown)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	nextBeat   time.Time
	alarms     []client.Alarm
	shutdown   bool
	ackSeen    bool
	releasedAt time.Time
	inherited  map[string]time.Time // VIPs kept across a reload, released at the time unless claimed
	ready      func()               // called once the loop runs (first session only)
	lastAt     time.Time            // time of the last event fed to the core
}

type pathRT struct {
	cfg      config.PathConfig
	p        transport.Path
	ctr      *transport.Counters
	interval time.Duration // send interval (serial may be stretched)
	next     time.Time
	err      string // why it is not open
	carrier  bool
	own      uint64 // our own frames heard back (loop only)
	foreign  uint64
}

type svcRT struct {
	cfg      config.ServiceConfig
	mgr      vipManager // full announce count
	one      vipManager // one GARP pair: the synchronous first one and refreshes
	owning   bool
	ensureAt time.Time
	announce time.Time
	stopAnn  context.CancelFunc
	stopDup  context.CancelFunc // ends the duplicate-address watch
	err      string
}

type echo struct {
	seq    uint64
	sentAt int64
	at     time.Time
}

// remoteSvcs is the newest service list a peer advertised.
type remoteSvcs struct {
	epoch, seq uint64
	svcs       []transport.ServiceView
}

type rxFrame struct {
	pkt transport.Packet
	f   transport.Frame
}

func newSession(d *Daemon, cfg *config.Config, nw *Net, inherited map[string]bool, first bool) (*session, error) {
	now := time.Now()
	s := &session{
		d: d, cfg: cfg, log: d.log, nw: nw,
		byName: map[string]*pathRT{},
		svcs:   map[string]*svcRT{},
		echo:   map[[2]string]echo{},
		remote: map[string]remoteSvcs{},
		rx:     make(chan rxFrame, 256),
		events: make(chan quorum.Event, 64),
		links:  make(chan transport.LinkEvent, 64),
		epoch:  uint64(now.UnixMicro()),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	// State: keys, sealer and the core.
	var ring *transport.Keyring
	if cfg.KeyFile != "" {
		var err error
		if ring, err = transport.LoadKeyFile(cfg.KeyFile); err != nil {
			if !cfg.InsecureNoAuth {
				return nil, fmt.Errorf("daemon: %w", err)
			}
			s.log.Warn("key file unusable; running unauthenticated", "key_file", cfg.KeyFile, "reason", err.Error())
			ring = nil
		}
	}
	var sopts []transport.SealerOption
	if cfg.InsecureNoAuth {
		sopts = append(sopts, transport.Unauthenticated())
	}
	sealer, err := transport.NewSealer(cfg.ClusterID, ring, sopts...)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	s.sealer = sealer
	s.gate = &transport.Gate{Sealer: sealer, Replay: transport.NewReplayGuard(0)}
	core, err := quorum.New(cfg.Core(), now)
	if err != nil {
		return nil, fmt.Errorf("daemon: core: %w", err)
	}
	s.core = core
	s.log.Info("core started", "node", cfg.Node, "cluster", cfg.Cluster, "cluster_id", fmt.Sprintf("%08x", cfg.ClusterID),
		"interval", cfg.Timers.Interval, "deadtime", cfg.Timers.Deadtime, "startup", cfg.Timers.Startup, "epoch", s.epoch)

	// Address service: one manager per VIP; remove stale copies.
	for _, sc := range cfg.Services {
		rt := &svcRT{cfg: sc}
		s.svcs[sc.Name] = rt
		s.order = append(s.order, sc.Name)
		vc := vipConfig(sc)
		mgr, err := nw.newVIP(vc)
		if err != nil {
			rt.err = err.Error()
			s.log.Error("address manager not available; the service cannot run here", "service", sc.Name, "vip", sc.VIP, "reason", err.Error())
			continue
		}
		rt.mgr = mgr
		one := vc
		one.AnnounceCount = 1
		if rt.one, err = nw.newVIP(one); err != nil {
			rt.one = mgr
		}
		if inherited[sc.Name] {
			rt.owning = true // keep refreshing until the new core decides
			if s.inherited == nil {
				s.inherited = map[string]time.Time{}
			}
			s.inherited[sc.Name] = now.Add(cfg.Timers.Startup + 2*cfg.Timers.Deadtime)
			continue
		}
		if cl, ok := mgr.(vip.Cleaner); ok {
			removed, err := cl.Cleanup(s.ctx)
			switch {
			case err != nil:
				s.log.Warn("stale VIP cleanup failed", "service", sc.Name, "vip", sc.VIP, "reason", err.Error())
			case removed:
				s.log.Warn("removed a stale VIP left by an earlier run", "service", sc.Name, "vip", sc.VIP, "interface", sc.Interface)
			default:
				s.log.Debug("no stale VIP", "service", sc.Name, "vip", sc.VIP)
			}
		}
	}

	// Peers: open every path; one that fails is reported and the rest run.
	for _, pc := range cfg.Paths {
		rt := &pathRT{cfg: pc, interval: cfg.Timers.Interval, carrier: true}
		s.paths = append(s.paths, rt)
		s.byName[pc.Name] = rt
		var p transport.Path
		var err error
		switch pc.Kind {
		case "udp":
			p, err = nw.openUDP(pc)
		case "serial":
			p, err = nw.openSerial(pc, func(ev transport.LinkEvent) { s.linkEvent(ev) })
		}
		if err != nil {
			rt.err = err.Error()
			rt.carrier = false
			s.log.Error("path not opened; running without it", "path", pc.Name, "kind", pc.Kind, "reason", err.Error())
			continue
		}
		rt.p = p
		if pcs, ok := p.(pathCounters); ok {
			rt.ctr = pcs.Counters()
		} else {
			rt.ctr = new(transport.Counters)
		}
		s.log.Info("path open", "path", pc.Name, "kind", pc.Kind, "interface", pc.Interface, "device", pc.Device)
	}
	for _, rt := range s.paths {
		rt.interval = cfg.SendInterval(rt.cfg)
		if rt.interval != cfg.Timers.Interval {
			s.log.Info("serial send interval stretched for the line speed", "path", rt.cfg.Name, "baud", rt.cfg.Baud,
				"interval", rt.interval, "deadtime", cfg.PathDeadtime(rt.interval))
		}
	}
	return s, nil
}

// linkEvent is called from watcher goroutines.
func (s *session) linkEvent(ev transport.LinkEvent) {
	select {
	case s.links <- ev:
	case <-s.ctx.Done():
	}
}

// run is the loop: the only goroutine that touches the core.
func (s *session) run(ctx context.Context) (err error) {
	defer s.close()
	// Readers.
	for _, rt := range s.paths {
		if rt.p == nil {
			continue
		}
		s.wg.Add(1)
		go s.read(rt)
	}
	// Link watcher: carrier of each NIC -> Link; the service NIC's also -> Health.
	ifaces := map[string]bool{}
	for _, p := range s.cfg.Paths {
		if p.Kind == "udp" {
			ifaces[p.Interface] = true
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.nw.watchLinks(s.ctx, ifaces, func(iface string, up bool, reason string) {
			for _, p := range s.cfg.Paths {
				if p.Kind == "udp" && p.Interface == iface {
					s.linkEvent(transport.LinkEvent{Path: p.Name, Up: up, At: time.Now(), Reason: reason})
				}
			}
		})
		if err != nil && s.ctx.Err() == nil {
			s.log.Error("link watcher stopped; carrier changes are no longer seen", "reason", err.Error())
		}
	}()

	timer := time.NewTimer(0)
	defer timer.Stop()
	if s.ready != nil {
		s.ready()
	}
	var deadline time.Time // shutdown deadline
	done := ctx.Done()
	for {
		now := time.Now()
		if s.shutdown && s.shutdownDone(now, deadline) {
			return nil
		}
		wake := s.nextWake(now)
		if s.shutdown && deadline.Before(wake) {
			wake = deadline
		}
		timer.Reset(time.Until(wake))
		select {
		case <-done:
			done = nil
			now = time.Now()
			s.shutdown = true
			deadline = now.Add(shutdownWait)
			s.log.Info("shutting down: handing services over", "node", s.cfg.Node)
			s.step(now, quorum.Shutdown{At: now})
		case r := <-s.rx:
			s.heard(r)
		case ev := <-s.links:
			s.link(ev)
		case ev := <-s.events:
			now = time.Now()
			if p, ok := ev.(quorum.Probed); ok {
				p.At = now // the core's clock must not go back
				ev = p
			}
			s.step(now, ev)
		case r := <-s.d.reqs:
			r.fn(s)
			close(r.done)
		case <-s.d.opts.Reload:
			if err := s.reload(); err != nil {
				return err
			}
		case <-timer.C:
		}
		now = time.Now()
		if !now.Before(s.core.NextDeadline()) {
			s.step(now, quorum.Tick{At: now})
		}
		s.timers(now)
	}
}

// nextWake is the earliest of the next heartbeat, the core's deadline and the
// VIP refresh timers.
func (s *session) nextWake(now time.Time) time.Time {
	w := s.nextBeat
	if dl := s.core.NextDeadline(); dl.Before(w) {
		w = dl
	}
	for _, rt := range s.svcs {
		if rt.owning {
			if !rt.ensureAt.IsZero() && rt.ensureAt.Before(w) {
				w = rt.ensureAt
			}
			if !rt.announce.IsZero() && rt.announce.Before(w) {
				w = rt.announce
			}
		}
	}
	for _, t := range s.inherited {
		if t.Before(w) {
			w = t
		}
	}
	if w.Before(now) {
		w = now
	}
	return w
}

// timers sends due heartbeats and refreshes owned VIPs.
func (s *session) timers(now time.Time) {
	if !now.Before(s.nextBeat) {
		s.beat(now)
	}
	for _, name := range s.order {
		rt := s.svcs[name]
		if !rt.owning || rt.mgr == nil {
			continue
		}
		if !rt.ensureAt.IsZero() && !now.Before(rt.ensureAt) {
			if err := rt.mgr.Ensure(s.ctx); err != nil {
				s.log.Error("VIP refresh failed", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
			}
			rt.ensureAt = now.Add(ensureEvery(rt.cfg))
		}
		if !rt.announce.IsZero() && !now.Before(rt.announce) {
			rt.announce = now.Add(rt.cfg.AnnounceRefresh)
			s.announceAsync(name, rt, rt.one, 0)
		}
	}
	for name, t := range s.inherited {
		if now.Before(t) {
			continue
		}
		delete(s.inherited, name)
		if st := s.serviceState(name); st != quorum.StateUp {
			s.log.Info("releasing a VIP kept across reload: the new core did not claim it", "service", name, "vip", s.svcs[name].cfg.VIP)
			s.release(name, s.svcs[name])
		}
	}
}

func ensureEvery(sc config.ServiceConfig) time.Duration {
	if sc.Lifetime <= 0 {
		return 0
	}
	return sc.Lifetime / 4
}

// beat sends one heartbeat, the same sealed bytes (one Seq) on every UDP
// path and on each serial path whose stretched interval has run out. Paths
// are only sent to on these ticks: a frame sealed for one path alone would
// show as a Seq gap, hence as loss, on the others.
func (s *session) beat(now time.Time) {
	s.nextBeat = now.Add(s.cfg.Timers.Interval)
	b, err := s.seal(transport.KindHeartbeat, nil)
	if err != nil {
		s.log.Error("heartbeat not sealed", "reason", err.Error())
		return
	}
	slack := s.cfg.Timers.Interval / 2
	for _, rt := range s.paths {
		if rt.p == nil || now.Before(rt.next.Add(-slack)) {
			continue
		}
		rt.next = now.Add(rt.interval)
		s.send(rt, b)
	}
}

// sendAll seals one frame and sends it on every open path now.
func (s *session) sendAll(kind transport.Kind, c *transport.Control) {
	b, err := s.seal(kind, c)
	if err != nil {
		s.log.Error("frame not sealed", "reason", err.Error())
		return
	}
	now := time.Now()
	for _, rt := range s.paths {
		if rt.p == nil {
			continue
		}
		s.send(rt, b)
		if kind == transport.KindHeartbeat {
			rt.next = now.Add(rt.interval)
		}
	}
	if kind == transport.KindHeartbeat {
		s.nextBeat = now.Add(s.cfg.Timers.Interval)
	}
}

func (s *session) send(rt *pathRT, b []byte) {
	if err := rt.p.Send(b); err != nil {
		if _, own := rt.p.(pathCounters); !own {
			rt.ctr.SendError()
		}
		s.log.Debug("send failed", "path", rt.cfg.Name, "reason", err.Error())
		return
	}
	if _, own := rt.p.(pathCounters); !own {
		rt.ctr.Sent(len(b))
	}
}

// seal builds our frame from the core's advert.
func (s *session) seal(kind transport.Kind, c *transport.Control) ([]byte, error) {
	adv := s.core.Advert()
	now := time.Now()
	s.seq++
	f := transport.Frame{
		Kind:        kind,
		Node:        s.cfg.Node,
		Epoch:       s.epoch,
		Seq:         s.seq,
		SentAt:      now.UnixMicro(),
		Interval:    s.cfg.Timers.Interval,
		Fingerprint: s.cfg.Fingerprint(),
		Control:     c,
	}
	for _, v := range adv.Views {
		pv := transport.PathView{Peer: v.Peer, Path: v.Path, Up: v.Up}
		if e, ok := s.echo[[2]string{v.Peer, v.Path}]; ok {
			pv.LastHeard = now.Sub(e.at)
			pv.EchoSeq, pv.EchoAt, pv.EchoHold = e.seq, e.sentAt, now.Sub(e.at)
		}
		f.Views = append(f.Views, pv)
	}
	for _, sv := range adv.Services {
		f.Services = append(f.Services, transport.ServiceView{Name: sv.Name, State: uint8(sv.State), Priority: uint8(min(max(sv.Priority, 0), 255))})
	}
	return s.sealer.Seal(f)
}

// read runs per path: admit frames (auth, replay) and hand them to the loop.
func (s *session) read(rt *pathRT) {
	defer s.wg.Done()
	for {
		pkt, err := rt.p.Recv()
		if err != nil {
			if errors.Is(err, transport.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.log.Debug("receive failed", "path", rt.cfg.Name, "reason", err.Error())
			continue
		}
		if _, own := rt.p.(pathCounters); !own {
			rt.ctr.Received(len(pkt.Data))
		}
		f, err := s.gate.Admit(pkt, rt.ctr)
		if err != nil {
			s.log.Debug("frame rejected", "path", rt.cfg.Name, "from", pkt.From.String(), "reason", err.Error())
			continue
		}
		select {
		case s.rx <- rxFrame{pkt, f}:
		case <-s.ctx.Done():
			return
		}
	}
}

// heard feeds an admitted frame to the core.
func (s *session) heard(r rxFrame) {
	f, pkt := r.f, r.pkt
	rt := s.byName[pkt.Path]
	if f.Node == s.cfg.Node {
		if rt != nil {
			rt.own++
		}
		return
	}
	at := pkt.At
	if at.IsZero() {
		at = time.Now()
	}
	s.echo[[2]string{f.Node, pkt.Path}] = echo{seq: f.Seq, sentAt: f.SentAt, at: at}
	if r, ok := s.remote[f.Node]; !ok || f.Epoch > r.epoch || f.Epoch == r.epoch && f.Seq > r.seq {
		s.remote[f.Node] = remoteSvcs{epoch: f.Epoch, seq: f.Seq, svcs: f.Services}
	}
	for _, v := range f.Views {
		if v.Peer == s.cfg.Node && v.Path == pkt.Path && rt != nil {
			if rtt, ok := transport.RTT(time.Now().UnixMicro(), v); ok {
				rt.ctr.ObserveRTT(rtt)
			}
		}
	}
	h := quorum.Heard{
		At: at, Peer: f.Node, Path: pkt.Path, Epoch: f.Epoch, Seq: f.Seq,
		Interval: f.Interval, Fingerprint: f.Fingerprint,
	}
	for _, v := range f.Views {
		h.Views = append(h.Views, quorum.View{Peer: v.Peer, Path: v.Path, Up: v.Up})
	}
	for _, sv := range f.Services {
		h.Services = append(h.Services, quorum.ServiceState{Name: sv.Name, State: quorum.State(sv.State), Priority: int(sv.Priority)})
	}
	if f.Control != nil {
		c := quorum.Control{Op: quorum.ControlOp(f.Control.Op), Service: f.Control.Service, Target: f.Control.Target, Ref: f.Control.Ref}
		h.Control = &c
		if s.shutdown && c.Op == quorum.CtlAck && (c.Target == "" || c.Target == s.cfg.Node) {
			s.ackSeen = true
		}
		s.log.Debug("control heard", "peer", f.Node, "path", pkt.Path, "op", c.Op.String(), "service", c.Service, "target", c.Target)
	}
	// The edge timestamp, unless the core already saw a later event: its
	// clock must not go back.
	s.step(at, h)
}

// link handles a carrier change of one of our paths.
func (s *session) link(ev transport.LinkEvent) {
	rt := s.byName[ev.Path]
	if rt == nil || rt.carrier == ev.Up && rt.err == "" {
		return
	}
	rt.carrier = ev.Up
	now := time.Now()
	s.log.Info("link", "path", ev.Path, "up", ev.Up, "reason", ev.Reason)
	s.step(now, quorum.Link{At: now, Path: ev.Path, Up: ev.Up})
	for _, name := range s.order {
		sc := s.svcs[name].cfg
		if rt.cfg.Kind == "udp" && sc.Interface == rt.cfg.Interface {
			reason := "carrier on " + sc.Interface
			if !ev.Up {
				reason = "no carrier on " + sc.Interface
			}
			s.step(now, quorum.Health{At: now, Service: name, OK: ev.Up, Reason: reason})
		}
	}
}

// step feeds one event to the core and carries out the actions.
func (s *session) step(now time.Time, ev quorum.Event) {
	if now.Before(s.lastAt) {
		now = s.lastAt
	}
	s.lastAt = now
	switch e := ev.(type) {
	case quorum.Heard:
		e.At = now
		ev = e
	case quorum.Tick:
		ev = quorum.Tick{At: now}
	case quorum.Shutdown:
		ev = quorum.Shutdown{At: now}
	case quorum.Link:
		e.At = now
		ev = e
	case quorum.Health:
		e.At = now
		ev = e
	case quorum.Command:
		e.At = now
		ev = e
	case quorum.Probed:
		e.At = now
		ev = e
	}
	acts, err := s.core.Step(ev)
	if err != nil {
		s.log.Debug("event rejected by the core", "event", fmt.Sprintf("%T", ev), "reason", err.Error())
		return
	}
	s.do(now, acts)
}

// do carries out the core's actions, in order. After an Alarm about a
// service that we still hold once the actions are done (a split brain we won:
// the other holder must yield), the address is announced again, so clients
// that followed the other holder's ARP come back.
func (s *session) do(now time.Time, acts []quorum.Action) {
	var alarmed []string
	defer func() {
		for _, name := range alarmed {
			if rt := s.svcs[name]; rt != nil && rt.owning && rt.mgr != nil && s.serviceState(name) == quorum.StateUp {
				s.log.Info("re-announcing the VIP we keep", "service", name, "vip", rt.cfg.VIP)
				s.announceAsync(name, rt, rt.mgr, 0)
			}
		}
	}()
	for _, a := range acts {
		s.trap(a)
		switch a := a.(type) {
		case quorum.AddVIP:
			s.add(now, a.Service)
		case quorum.RemoveVIP:
			if rt := s.svcs[a.Service]; rt != nil {
				s.release(a.Service, rt)
			}
		case quorum.Announce:
			if rt := s.svcs[a.Service]; rt != nil && rt.mgr != nil {
				s.announceAsync(a.Service, rt, rt.mgr, 0)
			}
		case quorum.Probe:
			s.probe(a.Service)
		case quorum.Send:
			c := transport.Control{Op: transport.ControlOp(a.Control.Op), Service: a.Control.Service, Target: a.Control.Target, Ref: a.Control.Ref}
			s.sendAll(transport.KindControl, &c)
			s.log.Info("control sent", "op", a.Control.Op.String(), "service", c.Service, "target", c.Target, "paths", s.openPaths())
			if s.shutdown && c.Op == transport.OpRelease {
				s.releasedAt = now
			}
		case quorum.SendHeartbeat:
			s.sendAll(transport.KindHeartbeat, nil)
		case quorum.StateChanged:
			var v any
			if rt := s.svcs[a.Service]; rt != nil {
				v = rt.cfg.VIP
			}
			s.log.Info("service state", "service", a.Service, "vip", v, "from", a.From.String(), "to", a.To.String(), "reason", a.Reason)
		case quorum.PeerChanged:
			lvl := slog.LevelInfo
			if a.To == quorum.PeerDead {
				lvl = slog.LevelWarn
			}
			s.log.Log(s.ctx, lvl, "peer state", "peer", a.Peer, "from", a.From.String(), "to", a.To.String(), "reason", a.Reason)
		case quorum.PathChanged:
			s.log.Info("path state", "peer", a.Peer, "path", a.Path, "from", a.From.String(), "to", a.To.String(), "reason", a.Reason)
		case quorum.Alarm:
			s.alarm(now, a)
			if a.Service != "" {
				alarmed = append(alarmed, a.Service)
			}
		default:
			s.log.Warn("unknown action from the core", "action", fmt.Sprintf("%T", a))
		}
	}
}

// alarm logs a and keeps it for status (the last 50).
func (s *session) alarm(now time.Time, a quorum.Alarm) {
	s.log.Warn("ALARM", "service", a.Service, "peer", a.Peer, "reason", a.Text)
	s.alarms = append(s.alarms, client.Alarm{At: now, Service: a.Service, Peer: a.Peer, Text: a.Text})
	if len(s.alarms) > 50 {
		s.alarms = s.alarms[len(s.alarms)-50:]
	}
}

// watchDup raises an alarm (log, status, trap) the first time each foreign
// host claims the address of a service we own: an ARP reply or gratuitous
// ARP for our VIP from another MAC. It only reports: the heartbeats decide
// who keeps the address (a split brain is resolved by the core), and a
// re-announce here could race the core's hand-over.
func (s *session) watchDup(name string, rt *svcRT) {
	w, ok := rt.mgr.(vip.Watcher)
	if !ok || rt.stopDup != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	rt.stopDup = cancel
	vipText := fmt.Sprint(rt.cfg.VIP)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		seen := map[string]bool{} // only this goroutine's callback touches it
		err := w.Watch(ctx, func(mac net.HardwareAddr) {
			if seen[mac.String()] {
				return
			}
			seen[mac.String()] = true
			a := quorum.Alarm{Service: name, Text: fmt.Sprintf("duplicate address: %s also answers for %s", mac, vipText)}
			r := request{fn: func(s *session) { s.trap(a); s.alarm(time.Now(), a) }, done: make(chan struct{})}
			select {
			case s.d.reqs <- r:
			case <-ctx.Done():
			}
		})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("duplicate-address watch stopped", "service", name, "vip", vipText, "reason", err.Error())
		}
	}()
}

func (s *session) openPaths() int {
	n := 0
	for _, rt := range s.paths {
		if rt.p != nil {
			n++
		}
	}
	return n
}

// add takes the VIP: Ensure, one GARP pair now, the rest in the background.
func (s *session) add(now time.Time, name string) {
	rt := s.svcs[name]
	if rt == nil {
		return
	}
	delete(s.inherited, name)
	if rt.mgr == nil {
		s.log.Error("cannot add VIP: no address manager", "service", name, "vip", rt.cfg.VIP, "reason", rt.err)
		return
	}
	t0 := time.Now()
	if err := rt.mgr.Ensure(s.ctx); err != nil {
		s.log.Error("VIP add failed", "service", name, "vip", rt.cfg.VIP, "interface", rt.cfg.Interface, "reason", err.Error())
		return
	}
	rt.owning = true
	if e := ensureEvery(rt.cfg); e > 0 {
		rt.ensureAt = now.Add(e)
	}
	if rt.cfg.AnnounceRefresh > 0 {
		rt.announce = now.Add(rt.cfg.AnnounceRefresh)
	}
	if err := rt.one.Announce(s.ctx); err != nil {
		s.log.Warn("gratuitous ARP failed", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
	}
	s.log.Info("VIP added", "service", name, "vip", rt.cfg.VIP, "interface", rt.cfg.Interface, "took", time.Since(t0).Round(time.Microsecond))
	s.watchDup(name, rt)
	if rt.cfg.AnnounceCount > 1 {
		s.announceAsync(name, rt, rt.mgr, rt.cfg.AnnounceInterval)
	}
}

// announceAsync runs m.Announce after delay on its own goroutine; release
// cancels it.
func (s *session) announceAsync(name string, rt *svcRT, m vipManager, delay time.Duration) {
	if m == nil {
		return
	}
	if rt.stopAnn != nil {
		rt.stopAnn()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	rt.stopAnn = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		if err := m.Announce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("gratuitous ARP failed", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
		}
	}()
}

// release drops the VIP.
func (s *session) release(name string, rt *svcRT) {
	if rt.stopAnn != nil {
		rt.stopAnn()
		rt.stopAnn = nil
	}
	if rt.stopDup != nil {
		rt.stopDup()
		rt.stopDup = nil
	}
	rt.owning = false
	rt.ensureAt, rt.announce = time.Time{}, time.Time{}
	if rt.mgr == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rt.mgr.Release(ctx); err != nil {
		s.log.Error("VIP release failed", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
		return
	}
	s.log.Info("VIP released", "service", name, "vip", rt.cfg.VIP, "interface", rt.cfg.Interface)
}

// probe asks the segment for another owner; the answer comes back as Probed.
func (s *session) probe(name string) {
	rt := s.svcs[name]
	if rt == nil {
		return
	}
	if rt.mgr == nil {
		s.events <- quorum.Probed{At: time.Now(), Service: name}
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		mac, err := rt.mgr.Probe(s.ctx)
		if err != nil {
			s.log.Warn("probe failed; treating as no answer", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
		}
		ev := quorum.Probed{At: time.Now(), Service: name, Conflict: mac != nil}
		if mac != nil {
			ev.By = mac.String()
		}
		select {
		case s.events <- ev:
		case <-s.ctx.Done():
		}
	}()
}

func (s *session) serviceState(name string) quorum.State {
	for _, st := range s.core.Status().Services {
		if st.Name == name {
			return st.State
		}
	}
	return 0
}

// shutdownDone reports whether a planned shutdown may end: nothing held and
// the peer acknowledged (or nobody is left to hand to), or the wait is over.
func (s *session) shutdownDone(now, deadline time.Time) bool {
	if !now.Before(deadline) {
		return true
	}
	for _, rt := range s.svcs {
		if rt.owning {
			return false
		}
	}
	if s.ackSeen || s.releasedAt.IsZero() {
		return true
	}
	for _, p := range s.core.Status().Peers {
		if p.State == quorum.PeerAlive || p.State == quorum.PeerDegraded {
			return false
		}
	}
	return true
}

// held lists the services whose VIP this session holds.
func (s *session) held() map[string]bool {
	m := map[string]bool{}
	for name, rt := range s.svcs {
		if rt.owning {
			m[name] = true
		}
	}
	return m
}

// reload re-reads the config; it returns *errReload when the core must
// restart with the new one.
func (s *session) reload() error {
	file := s.cfg.File
	s.log.Info("reloading config", "config", file)
	nc, err := config.Load(file)
	if err != nil {
		s.log.Error("config not reloaded; keeping the running one", "config", file, "reason", err.Error())
		return nil
	}
	if nc.Node != s.cfg.Node || nc.ControlSocket != s.cfg.ControlSocket {
		s.log.Error("config not reloaded: node and control_socket need a restart; keeping the running one", "config", file)
		return nil
	}
	if nc.LogFormat != s.cfg.LogFormat {
		s.log.Warn("log_format changes take effect at the next start", "log_format", nc.LogFormat)
	}
	if configsEquivalent(s.cfg, nc) {
		s.d.mu.Lock()
		s.d.cfg = nc
		s.d.mu.Unlock()
		s.d.opts.Level.Set(nc.Level())
		s.cfg = nc
		s.log.Info("config reloaded", "config", file, "log_level", nc.LogLevel)
		return nil
	}
	return &errReload{cfg: nc}
}

// close stops the session's goroutines, closes paths and, unless the VIPs
// are kept for a reload, releases them.
func (s *session) close() {
	if s.shutdown {
		for _, name := range s.order {
			if rt := s.svcs[name]; rt.owning {
				s.release(name, rt)
			}
		}
		// One last heartbeat so peers see our final states.
		s.sendAll(transport.KindHeartbeat, nil)
	}
	s.cancel()
	for _, rt := range s.paths {
		if rt.p != nil {
			rt.p.Close()
		}
	}
	s.wg.Wait()
	for _, rt := range s.svcs {
		if rt.mgr != nil {
			rt.mgr.Close()
		}
		if rt.one != nil && rt.one != rt.mgr {
			rt.one.Close()
		}
	}
}

// vipManager is vip.Manager plus Close.
type vipManager interface {
	vip.Manager
	Close() error
}
