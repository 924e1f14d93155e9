package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/failover-ha/failover/daemon/check"
	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
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

	fingerprint uint32           // cfg.Fingerprint(), sent in every frame
	ourTimers   transport.Timers // cfg.CoreTimers(), sent while a peer's fingerprint differs
	timersBig   bool             // a frame with them was over the limit (logged once)
	out         transport.Frame  // the frame seal builds (lists reused)
	sealed      []byte           // the bytes seal returns (reused)

	rx     chan rxFrame      // from path readers
	events chan quorum.Event // probe results
	links  chan transport.LinkEvent
	ctx    context.Context // ends when the session ends (not on shutdown)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	nextBeat   time.Time
	peerFrame  bool // a peer's frame was fed to the core since the last timers()
	alarms     []client.Alarm
	shutdown   bool
	ackSeen    bool
	releasedAt time.Time
	inherited  map[string]time.Time // VIPs kept from an earlier run (reload, killed daemon), released at the time unless claimed
	ready      func()               // called once the loop runs (first session only)
	lastAt     time.Time            // time of the last event fed to the core
	stall      stallState           // the loop's absences (stall.go)
	logs       logLimits            // rate limits of repeating log lines (lograte.go)

	checks *check.Scheduler      // the services' health checks (health.go)
	health map[string]*svcHealth // per service: carrier and checks, summed for the core
}

func newSession(d *Daemon, cfg *config.Config, nw *Net, inherited map[string]bool, first bool) (*session, error) {
	now := time.Now()
	s := &session{
		d: d, cfg: cfg, log: d.log, nw: nw,
		byName:      map[string]*pathRT{},
		svcs:        map[string]*svcRT{},
		echo:        map[[2]string]echo{},
		remote:      map[string]remoteSvcs{},
		rx:          make(chan rxFrame, 256),
		events:      make(chan quorum.Event, 64),
		links:       make(chan transport.LinkEvent, 64),
		epoch:       uint64(now.UnixMicro()),
		fingerprint: cfg.Fingerprint(),
		ourTimers:   wireTimers(cfg.CoreTimers()),
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

	s.openServices(inherited, now)
	if err := s.openChecks(); err != nil {
		return nil, err
	}
	s.openPaths()
	return s, nil
}

// run is the loop: the only goroutine that touches the core.
func (s *session) run(ctx context.Context) (err error) {
	defer s.close()
	s.stepInherited(time.Now())
	s.startReaders()
	s.startChecks()

	timer := newWakeTimer()
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
		timer.Reset(wake)
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
			s.drain()
		case ev := <-s.links:
			s.link(ev)
		case ev := <-s.events:
			s.step(time.Now(), ev)
		case r := <-s.d.reqs:
			r.fn(s)
			close(r.done)
		case <-s.d.opts.Reload:
			if err := s.reload(); err != nil {
				return err
			}
		case <-timer.wake():
			timer.fired()
			s.drain()
		}
		now = time.Now()
		if !now.Before(s.core.NextDeadline()) {
			s.step(now, quorum.Tick{At: now})
		}
		s.timers(now)
		s.d.systemd.turn(now, s.core, s.cfg.Timers.Startup, s.shutdown)
	}
}

// drain feeds every frame the readers have queued to the core, so that
// frames that arrived together cost one pass of the loop.
func (s *session) drain() {
	for {
		select {
		case r := <-s.rx:
			s.heard(r)
		default:
			return
		}
	}
}

// nextWake is the earliest of the next heartbeat, the core's deadline and the
// VIP refresh timers.
func (s *session) nextWake(now time.Time) time.Time {
	w := s.nextBeat
	if dl := s.core.NextDeadline(); dl.Before(w) {
		w = dl
	}
	w = s.vipWake(w)
	if w.Before(now) {
		w = now
	}
	return w
}

// timers sends due heartbeats and refreshes owned VIPs. A heartbeat due
// within half an interval goes out early when a peer's frame was just read:
// the send shares the read's wake-up, and the peer's next frames, a whole
// interval later, pull the next one along (see beatEarly).
func (s *session) timers(now time.Time) {
	s.guardStall()
	s.flushLogs(now)
	early := s.peerFrame && now.Before(s.nextBeat) && !now.Before(s.nextBeat.Add(-s.cfg.Timers.Interval/2))
	s.peerFrame = false
	switch {
	case early:
		s.beatEarly(now)
	case !now.Before(s.nextBeat):
		s.beat(now)
	}
	s.refresh(now)
}

// step feeds one event to the core and carries out the actions.
func (s *session) step(now time.Time, ev quorum.Event) {
	s.guardStall()
	if now.Before(s.lastAt) {
		now = s.lastAt
	}
	s.lastAt = now
	acts, err := s.core.StepAt(now, ev)
	if err != nil {
		s.rejected(ev, err)
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
		s.d.systemd.saw(a)
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
			sent := time.Now()
			s.sendAll(transport.KindControl, &c)
			// Stamped when the send began: the peer may act on it before
			// this line is written.
			s.logAt(sent, slog.LevelInfo, "control sent", "op", a.Control.Op.String(), "service", c.Service, "target", c.Target, "paths", s.openCount())
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
			// Stamped with the time of the step that decided it: an
			// AddVIP before it in the same step is logged first.
			s.logAt(now, slog.LevelInfo, "service state", "service", a.Service, "vip", v, "from", a.From.String(), "to", a.To.String(), "reason", a.Reason)
		case quorum.PeerChanged:
			lvl := slog.LevelInfo
			if a.To == quorum.PeerDead {
				lvl = slog.LevelWarn
			}
			s.logAt(now, lvl, "peer state", "peer", a.Peer, "from", a.From.String(), "to", a.To.String(), "reason", a.Reason)
		case quorum.PathChanged:
			s.logPath(now, a)
		case quorum.Alarm:
			s.alarm(now, a)
			if a.Service != "" {
				alarmed = append(alarmed, a.Service)
			}
		default:
			s.log.Warn("unknown action from the core", "action", fmt.Sprintf("%T", a))
		}
	}
	s.observe(now, acts)
}

// alarm logs a and keeps it for status (the last 50).
func (s *session) alarm(now time.Time, a quorum.Alarm) {
	s.log.Warn("ALARM", "service", a.Service, "peer", a.Peer, "reason", a.Text)
	s.alarms = append(s.alarms, client.Alarm{At: now, Service: a.Service, Peer: a.Peer, Text: a.Text})
	if len(s.alarms) > 50 {
		s.alarms = s.alarms[len(s.alarms)-50:]
	}
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
		s.fingerprint = nc.Fingerprint()
		s.ourTimers = wireTimers(nc.CoreTimers())
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
