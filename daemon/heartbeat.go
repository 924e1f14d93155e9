package daemon

import (
	"errors"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

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
	traffic  traffic
}

// traffic holds a path's byte counters once a second over the last
// trafficSpan, for the bytes per second shown in status. Loop only.
type traffic struct {
	at         [trafficSpan + 1]time.Time
	sent, recv [trafficSpan + 1]uint64
	n, next    int
}

const trafficSpan = 10 // samples (seconds) a rate spans

// sample records c at now if a second has passed since the last sample.
func (t *traffic) sample(now time.Time, c *transport.Counters) {
	if t.n > 0 {
		last := (t.next + len(t.at) - 1) % len(t.at)
		if now.Sub(t.at[last]) < time.Second {
			return
		}
	}
	snap := c.Snapshot()
	t.at[t.next], t.sent[t.next], t.recv[t.next] = now, snap.BytesSent, snap.BytesRecv
	t.next = (t.next + 1) % len(t.at)
	t.n = min(t.n+1, len(t.at))
}

// rates is bytes per second sent and received from the oldest sample to c
// now; 0, 0 before the first second.
func (t *traffic) rates(now time.Time, c *transport.Counters) (sent, recv float64) {
	if t.n == 0 {
		return 0, 0
	}
	old := (t.next + len(t.at) - t.n) % len(t.at)
	dt := now.Sub(t.at[old]).Seconds()
	if dt < 1 {
		return 0, 0
	}
	snap := c.Snapshot()
	return float64(snap.BytesSent-t.sent[old]) / dt, float64(snap.BytesRecv-t.recv[old]) / dt
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

// openPaths opens every heartbeat path; one that fails is reported and the
// rest run.
func (s *session) openPaths() {
	cfg, nw := s.cfg, s.nw
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
}

// startReaders starts a reader per open path and the link watcher: carrier
// of each NIC -> Link; the service NIC's also -> Health.
func (s *session) startReaders() {
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
}

// linkEvent is called from watcher goroutines.
func (s *session) linkEvent(ev transport.LinkEvent) {
	select {
	case s.links <- ev:
	case <-s.ctx.Done():
	}
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
	for _, rt := range s.paths {
		if rt.ctr != nil {
			rt.traffic.sample(now, rt.ctr)
		}
	}
}

// beatEarly is beat on a peer's arrival. The next heartbeat is then due a
// little over an interval later, so that it stays behind the peer's next
// frame and goes out on its arrival too instead of racing it: of two nodes,
// one sends on its timer and the other in phase with it, each send sharing
// a wake-up with a read. Sends stay at least half an interval apart, and at
// most interval + interval/8 apart (once, after the peer stops).
func (s *session) beatEarly(now time.Time) {
	s.beat(now)
	s.nextBeat = now.Add(s.cfg.Timers.Interval + s.cfg.Timers.Interval/8)
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

// seal builds our frame from the core's advert. The frame's lists and the
// sealed bytes are the session's, reused by the next seal: the paths copy
// or send them before Send returns.
func (s *session) seal(kind transport.Kind, c *transport.Control) ([]byte, error) {
	adv := s.core.Advert()
	now := time.Now()
	s.seq++
	f := &s.out
	*f = transport.Frame{
		Kind:        kind,
		Node:        s.cfg.Node,
		Epoch:       s.epoch,
		Seq:         s.seq,
		SentAt:      now.UnixMicro(),
		Interval:    s.cfg.Timers.Interval,
		Fingerprint: s.fingerprint,
		Control:     c,
		Views:       f.Views[:0],
		Services:    f.Services[:0],
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
	if adv.SendTimers && !s.timersBig {
		f.Timers = &s.ourTimers // a peer's fingerprint differs: let it name each difference
	}
	b, err := s.sealer.AppendSeal(s.sealed[:0], *f)
	if err != nil && f.Timers != nil {
		// Only a config at the frame limit gets here: the heartbeat goes
		// out without them, and the peers name the fingerprint.
		s.timersBig = true
		s.log.Warn("timers not sent to peers whose config differs: the frame would be too long", "reason", err.Error())
		f.Timers = nil
		b, err = s.sealer.AppendSeal(s.sealed[:0], *f)
	}
	if err == nil {
		s.sealed = b
	}
	return b, err
}

// wireTimers is t as a frame carries it: the services' in config order,
// which is the order of the frame's services (the core's Advert).
func wireTimers(t quorum.Timers) transport.Timers {
	w := transport.Timers{
		Deadtime: t.Deadtime, AdaptiveFloor: t.AdaptiveFloor, Startup: t.Startup, IndoubtHold: t.IndoubtHold,
		Damping: t.Damping, FlapLimit: t.FlapLimit, CarrierSettle: t.CarrierSettle, Rest: t.Rest,
	}
	for _, st := range t.Services {
		w.Services = append(w.Services, transport.ServiceTimers{Failback: st.Failback, FailbackDelay: st.FailbackDelay})
	}
	return w
}

// heardTimers is the timers f carries in the core's terms: the services
// are named by the frame's list (the codec checks that they match).
func heardTimers(f *transport.Frame) *quorum.Timers {
	w := f.Timers
	t := &quorum.Timers{
		Deadtime: w.Deadtime, AdaptiveFloor: w.AdaptiveFloor, Startup: w.Startup, IndoubtHold: w.IndoubtHold,
		Damping: w.Damping, FlapLimit: w.FlapLimit, CarrierSettle: w.CarrierSettle, Rest: w.Rest,
		Services: make([]quorum.ServiceTimers, 0, len(w.Services)),
	}
	for i, st := range w.Services {
		t.Services = append(t.Services, quorum.ServiceTimers{Name: f.Services[i].Name, Failback: st.Failback, FailbackDelay: st.FailbackDelay})
	}
	return t
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
			s.logs.reject(s.log, rt.cfg.Name, pkt, err)
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
	s.peerFrame = true
	at := pkt.At
	if at.IsZero() {
		at = time.Now()
	}
	s.echo[[2]string{f.Node, pkt.Path}] = echo{seq: f.Seq, sentAt: f.SentAt, at: at}
	changed := false // the peer's advertised states moved: an owner may have changed
	if r, ok := s.remote[f.Node]; !ok || f.Epoch > r.epoch || f.Epoch == r.epoch && f.Seq > r.seq {
		changed = advertChanged(r.svcs, f.Services)
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
		Views:    make([]quorum.View, 0, len(f.Views)),
		Services: make([]quorum.ServiceState, 0, len(f.Services)),
	}
	for _, v := range f.Views {
		h.Views = append(h.Views, quorum.View{Peer: v.Peer, Path: v.Path, Up: v.Up})
	}
	for _, sv := range f.Services {
		h.Services = append(h.Services, quorum.ServiceState{Name: sv.Name, State: quorum.State(sv.State), Priority: int(sv.Priority)})
	}
	if f.Timers != nil {
		h.Timers = heardTimers(&f)
	}
	if f.Control != nil {
		c := quorum.Control{Op: quorum.ControlOp(f.Control.Op), Service: f.Control.Service, Target: f.Control.Target, Ref: f.Control.Ref}
		h.Control = &c
		if s.shutdown && c.Op == quorum.CtlAck && (c.Target == "" || c.Target == s.cfg.Node) {
			s.ackSeen = true
		}
		s.log.Debug("control heard", "peer", f.Node, "path", pkt.Path, "op", c.Op.String(), "service", c.Service, "target", c.Target)
	}
	// Stepped now; the edge timestamp is the frame's time for liveness, and
	// a frame that waited longer than the deadtime (we stood still) is
	// refused by the core.
	h.Received = at
	s.step(time.Now(), h)
	if changed {
		s.trackOwners(s.lastAt)
	}
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
	s.linkChanged(rt, ev.Up)
	s.step(now, quorum.Link{At: now, Path: ev.Path, Up: ev.Up})
	for _, name := range s.order {
		sc := s.svcs[name].cfg
		if rt.cfg.Kind == "udp" && sc.Interface == rt.cfg.Interface {
			reason := "carrier on " + sc.Interface
			if !ev.Up {
				reason = "no carrier on " + sc.Interface
			}
			s.carrierChanged(now, name, ev.Up, reason)
		}
	}
}

// openCount is how many paths are open.
func (s *session) openCount() int {
	n := 0
	for _, rt := range s.paths {
		if rt.p != nil {
			n++
		}
	}
	return n
}
