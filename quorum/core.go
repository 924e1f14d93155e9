package quorum

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Step, wrapped with the event's details. When Step
// returns an error the event was rejected and the core's state is unchanged.
var (
	// ErrUnknownPeer: a Heard names a node that is not a configured peer.
	ErrUnknownPeer = errors.New("unknown peer")
	// ErrUnknownPath: a Heard or Link names a path that is not configured
	// (for that peer).
	ErrUnknownPath = errors.New("unknown path")
	// ErrUnknownService: a Health, Command or Probed names an unknown service.
	ErrUnknownService = errors.New("unknown service")
	// ErrTimeBackwards: the event is older than one already stepped.
	ErrTimeBackwards = errors.New("time went backwards")
	// ErrStale: a Heard carries an older boot epoch than one already seen.
	ErrStale = errors.New("stale epoch")
	// ErrTooOld: a Heard reached the core more than its path's deadtime
	// after it was received (Heard.Received): what it says is out of date.
	ErrTooOld = errors.New("frame too old")
	// ErrUnexpected: the event is impossible in the current state (a Probed
	// without a Probe, an unknown operator command, a nil event).
	ErrUnexpected = errors.New("unexpected event")
)

// idleDeadline is what NextDeadline returns past now when no timer runs.
const idleDeadline = time.Second

// Core is the pure decision core of one node. See the package doc.
type Core struct {
	cfg      Config
	start    time.Time
	now      time.Time
	ref      uint64 // last Ref used on a Control we sent
	shutdown bool
	isolated bool
	// listenUntil: no claims before this (startup). Carrier coming back
	// sets a listen per path (localPath.listenUntil).
	listenUntil time.Time

	paths  map[string]*localPath
	peers  []*peer // config order
	byPeer map[string]*peer
	svcs   []*service // config order
	bySvc  map[string]*service

	out []Action
}

type localPath struct {
	spec    PathSpec
	carrier bool
	upAt    time.Time // carrier up since (zero: since start)
	flaps   flaps     // carrier losses
	// Carrier just back (or we were stalled): listen until every peer on
	// the path is heard on it after backAt, or until listenUntil.
	backAt, listenUntil time.Time
}

type peer struct {
	name   string
	state  PeerState
	reason string
	links  []*link // config order
	byPath map[string]*link

	heard       bool
	epoch, seq  uint64
	restarts    int
	interval    time.Duration
	fingerprint uint32
	timers      *Timers   // the peer's, last sent in this epoch with this fingerprint
	fpSince     time.Time // its fingerprint differs from ours since (zero: it agrees)
	mismatches  []Mismatch
	alarmed     []Mismatch // what the last mismatch alarm named
	sig         uint64     // the link kinds the reason was made from (verdict)
	services    map[string]ServiceState
	hearsUs     map[string]bool // path -> the peer's view of us
	refs        map[uint64]bool // control refs seen in this epoch
	maxRef      uint64
}

type link struct {
	lp        *localPath
	state     PathState // from frames and carrier; see shown for the reported one
	lastHeard time.Time
	upSince   time.Time
	lastSeq   uint64
	det       detector
	oneWay    bool
	owSince   time.Time // the peer says it does not hear us since (zero: it does)
	owAlarm   time.Time // last one-way alarm
	recv, exp float64   // frames received / expected, decayed
	flaps     flaps     // moves to down (not by our carrier)
	hover     flaps     // moves from up to suspect
	held      bool      // held down (flapping), as last reported
	// Our carrier on the path was lost while the peer was still heard on
	// it: the silence that follows is ours, not the peer's, so the peer is
	// not declared dead on its account before lossUntil.
	lossUntil time.Time
}

type service struct {
	spec   Service
	state  State
	reason string
	since  time.Time

	opFail     bool
	drop       int // priority lowered by failing weight checks (Weight)
	healthBad  bool
	healthWhy  string
	carrierBad bool   // service NIC: no carrier, flapping or settling (nics)
	carrierWhy string // which of those
	clearWhy   string // why the last failure cause went away

	probeOut      bool      // a Probe awaits its Probed
	probeClear    bool      // indoubt: a probe of this stay came back unanswered
	conflictBy    string    // indoubt: who answered our last probe ("" none)
	holdUntil     time.Time // indoubt: claim at or after this
	failbackSince time.Time // recover: outranking the holder since
	reclaimFrom   string
	reclaimResend time.Time
	lastHolder    string
	splitAlarmed  map[string]bool
	// inherited: the address is on our NIC from an earlier run of ours
	// (Inherited) and this core has not decided about it yet.
	inherited bool
}

// New validates cfg and returns a core that starts at now with every
// service in recover and every peer unknown.
func New(cfg Config, now time.Time) (*Core, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Core{
		cfg:    cfg,
		start:  now,
		now:    now,
		paths:  map[string]*localPath{},
		byPeer: map[string]*peer{},
		bySvc:  map[string]*service{},
	}
	c.listenUntil = now.Add(cfg.Startup)
	for _, p := range cfg.Paths {
		c.paths[p.Name] = &localPath{spec: p, carrier: true}
	}
	for _, pc := range cfg.Peers {
		p := &peer{
			name:     pc.Name,
			state:    PeerUnknown,
			reason:   "not heard since start",
			byPath:   map[string]*link{},
			services: map[string]ServiceState{},
			hearsUs:  map[string]bool{},
			refs:     map[uint64]bool{},
		}
		for _, name := range pc.Paths {
			l := &link{lp: c.paths[name], state: PathDown}
			p.links = append(p.links, l)
			p.byPath[name] = l
		}
		c.peers = append(c.peers, p)
		c.byPeer[p.name] = p
	}
	for _, sc := range cfg.Services {
		s := &service{spec: sc, state: StateRecover, reason: "starting", since: now, splitAlarmed: map[string]bool{}}
		c.svcs = append(c.svcs, s)
		c.bySvc[sc.Name] = s
	}
	return c, nil
}

// Step feeds one event and returns the actions the shell must carry out, in
// order. On error the event is rejected and nothing changed.
func (c *Core) Step(ev Event) ([]Action, error) {
	if err := c.check(ev); err != nil {
		return nil, err
	}
	c.now = ev.at()
	c.out = nil
	switch e := ev.(type) {
	case Tick:
	case Heard:
		c.heard(e)
	case Link:
		c.link(e)
	case Health:
		s := c.bySvc[e.Service]
		s.healthBad = !e.OK
		s.healthWhy = e.Reason
		if e.OK {
			s.clearWhy = "health: ok"
			if e.Reason != "" {
				s.clearWhy += ": " + e.Reason
			}
		}
	case Weight:
		s := c.bySvc[e.Service]
		if e.Drop != s.drop {
			s.drop = e.Drop
			c.emit(SendHeartbeat{}) // our advertised priority changed
		}
	case Command:
		s := c.bySvc[e.Service]
		s.opFail = e.Op == OpFail
		s.clearWhy = "operator: recover"
	case Probed:
		c.probed(e)
	case Shutdown:
		c.shutdownAll()
	case Stalled:
		c.stalled(e)
	case Inherited:
		s := c.bySvc[e.Service]
		if s.state != StateUp {
			s.inherited = true
		}
		if s.state == StateRecover {
			s.reason = "keeping the address an earlier run of ours left until the peers are heard"
		}
	}
	c.timers()
	c.nics()
	for _, s := range c.svcs {
		c.evaluate(s)
	}
	out := c.out
	c.out = nil
	return out, nil
}

// StepAt is Step with ev's time set to at: the shell stamps every event
// with its clock here, whatever the event's kind. A nil ev is rejected as
// Step rejects it.
func (c *Core) StepAt(at time.Time, ev Event) ([]Action, error) {
	if ev == nil {
		return c.Step(nil)
	}
	return c.Step(ev.stamped(at))
}

// check validates ev against the current state without changing anything.
func (c *Core) check(ev Event) error {
	if ev == nil {
		return fmt.Errorf("quorum: nil event: %w", ErrUnexpected)
	}
	if ev.at().Before(c.now) {
		return fmt.Errorf("quorum: %T at %v before %v: %w", ev, ev.at().Format(time.RFC3339Nano), c.now.Format(time.RFC3339Nano), ErrTimeBackwards)
	}
	svc := func(name string) error {
		if c.bySvc[name] == nil {
			return fmt.Errorf("quorum: %T for service %q: %w", ev, name, ErrUnknownService)
		}
		return nil
	}
	switch e := ev.(type) {
	case Tick, Shutdown, Stalled:
		return nil
	case Heard:
		p := c.byPeer[e.Peer]
		if p == nil {
			return fmt.Errorf("quorum: heard %q on %q: %w", e.Peer, e.Path, ErrUnknownPeer)
		}
		if p.byPath[e.Path] == nil {
			return fmt.Errorf("quorum: heard %q on %q: %w", e.Peer, e.Path, ErrUnknownPath)
		}
		if p.heard && e.Epoch < p.epoch {
			return fmt.Errorf("quorum: heard %q on %q with epoch %d, have %d: %w", e.Peer, e.Path, e.Epoch, p.epoch, ErrStale)
		}
		if dt := c.paths[e.Path].spec.Deadtime; !e.Received.IsZero() && e.At.Sub(e.Received) > dt {
			return fmt.Errorf("quorum: heard %q on %q %v after it was received, deadtime %v: %w",
				e.Peer, e.Path, e.At.Sub(e.Received), dt, ErrTooOld)
		}
		return nil
	case Link:
		if c.paths[e.Path] == nil {
			return fmt.Errorf("quorum: link %q: %w", e.Path, ErrUnknownPath)
		}
		return nil
	case Health:
		return svc(e.Service)
	case Weight:
		if err := svc(e.Service); err != nil {
			return err
		}
		if e.Drop < 0 {
			return fmt.Errorf("quorum: weight %d for %q: negative drop: %w", e.Drop, e.Service, ErrUnexpected)
		}
		return nil
	case Command:
		if err := svc(e.Service); err != nil {
			return err
		}
		if e.Op != OpFail && e.Op != OpRecover {
			return fmt.Errorf("quorum: command %v for %q: %w", e.Op, e.Service, ErrUnexpected)
		}
		return nil
	case Inherited:
		return svc(e.Service)
	case Probed:
		if err := svc(e.Service); err != nil {
			return err
		}
		if !c.bySvc[e.Service].probeOut {
			return fmt.Errorf("quorum: probed %q with no probe outstanding: %w", e.Service, ErrUnexpected)
		}
		return nil
	}
	return fmt.Errorf("quorum: event %T: %w", ev, ErrUnexpected)
}

func (c *Core) emit(a Action) { c.out = append(c.out, a) }

// --- liveness ---------------------------------------------------------

func (c *Core) heard(e Heard) {
	p := c.byPeer[e.Peer]
	l := p.byPath[e.Path]
	at := e.At // liveness time: when the frame was read
	if !e.Received.IsZero() && e.Received.Before(at) {
		at = e.Received
	}
	fresh := !p.heard || e.Seq > p.seq || e.Epoch > p.epoch
	if p.heard && e.Epoch > p.epoch {
		c.emit(PeerChanged{Peer: p.name, From: p.state, To: p.state,
			Reason: fmt.Sprintf("restarted: epoch %d -> %d", p.epoch, e.Epoch)})
		p.restarts++
		p.seq = 0
		p.refs = map[uint64]bool{}
		p.maxRef = 0
		p.services = map[string]ServiceState{}
		p.hearsUs = map[string]bool{}
		p.alarmed = nil
		p.timers, p.fpSince = nil, time.Time{}
		for _, o := range p.links {
			o.lastSeq = 0
			o.oneWay = false
		}
	}
	if p.heard && c.silentEverywhere(p, at) {
		// Back after a deadtime of silence on every path (it was dead to
		// us, or we were stalled): it may have claimed what we hold
		// meanwhile and the segment learnt its MAC. Take the address back.
		for _, s := range c.svcs {
			if s.state == StateUp {
				c.emit(Announce{Service: s.spec.Name})
			}
		}
	}
	p.heard = true
	p.epoch = e.Epoch

	if l.lp.carrier {
		newer := e.Seq > l.lastSeq
		if newer && l.state != PathDown && !l.lastHeard.IsZero() {
			gap := at.Sub(l.lastHeard)
			if gap > 0 && gap <= l.lp.spec.Deadtime {
				l.det.add(gap)
			}
			// Loss from time, not from seq: the sender's seq counts
			// frames on all paths, and a slow path skips some by design.
			l.exp += max(1, math.Round(float64(gap)/float64(l.lp.spec.Interval)))
			l.recv++
			if l.exp > 100 {
				l.exp /= 2
				l.recv /= 2
			}
		}
		if newer {
			l.lastSeq = e.Seq
		}
		prev := l.lastHeard
		if at.After(l.lastHeard) || l.lastHeard.IsZero() {
			l.lastHeard = at
		}
		l.lossUntil = time.Time{}
		if l.state != PathUp {
			why := "heard"
			if !prev.IsZero() {
				why = "heard again after " + at.Sub(prev).String() + " silent"
			}
			// A frame read a while ago (it waited while we were stalled)
			// makes the path only as live as its age says.
			to := PathUp
			if sus, down := l.det.timeouts(l.lp.spec); c.now.Sub(l.lastHeard) >= down {
				to = l.state
			} else if c.now.Sub(l.lastHeard) >= sus {
				to = PathSuspect
			}
			if l.state == PathDown && to != PathDown {
				// The peer's views can tell about us only from now on: it
				// could not hear us while the path was down (or we were
				// stalled and its frames waited).
				l.upSince = c.now
				l.det.reset()
			}
			c.setPath(p, l, to, why)
		}
	}

	if fresh {
		p.seq = e.Seq
		p.interval = e.Interval
		if e.Fingerprint != p.fingerprint {
			p.timers = nil // they were for another config
		}
		p.fingerprint = e.Fingerprint
		if e.Timers != nil && !p.timers.equal(e.Timers) {
			t := *e.Timers
			t.Services = slices.Clone(t.Services)
			p.timers = &t
		}
		for _, s := range e.Services {
			p.services[s.Name] = s
		}
		for _, v := range e.Views {
			if v.Peer == c.cfg.Self {
				if _, ok := p.byPath[v.Path]; ok {
					p.hearsUs[v.Path] = v.Up
				}
			}
		}
		c.mismatch(p)
	}
	c.verdict(p)
	c.oneWay(p)
	if e.Control != nil {
		c.control(p, *e.Control)
	}
}

// silentEverywhere reports whether p is dead to us or, at t, has been
// silent for at least the deadtime on each of its paths.
func (c *Core) silentEverywhere(p *peer, t time.Time) bool {
	if p.state == PeerDead {
		return true
	}
	for _, l := range p.links {
		if !l.lastHeard.IsZero() && t.Sub(l.lastHeard) < l.lp.spec.Deadtime {
			return false
		}
	}
	return true
}

// mismatch names every config difference p's frames show. The interval
// travels in every frame; what else the fingerprint covers only while the
// fingerprints differ (Advert.SendTimers), so the first frames of a
// differing peer may show nothing but the fingerprint. The alarm waits up
// to a deadtime for the peer's timers (a peer that does not send them, of
// an earlier version, gets one naming the fingerprint), and is raised again
// only when what it would name changes.
func (c *Core) mismatch(p *peer) {
	var ms []Mismatch
	add := func(key, ours, theirs string) {
		ms = append(ms, Mismatch{Peer: p.name, Key: key, Ours: ours, Theirs: theirs})
	}
	differs := p.fingerprint != c.cfg.Fingerprint
	named := false // a difference the fingerprint covers is named
	if p.interval != c.cfg.Interval {
		add("interval", c.cfg.Interval.String(), p.interval.String())
		named = true
	}
	if differs && p.timers != nil {
		named = c.timerMismatches(p.timers, add) || named
	}
	prio := false
	for _, s := range c.svcs {
		// Weights only lower a priority: a peer advertising less than we
		// configured may have failing weight checks (a different config is
		// caught by the fingerprint); more is a mismatch.
		if adv, ok := p.services[s.spec.Name]; ok {
			if want := s.spec.Priorities[p.name]; adv.Priority > want {
				add("services."+s.spec.Name+".priority", fmt.Sprint(want), fmt.Sprint(adv.Priority))
				prio = true
			}
		}
		if differs && p.timers != nil {
			named = c.serviceMismatches(s.spec.Name, p.timers, add) || named
		}
	}
	// The fingerprint stays listed unless the named differences explain
	// it: with the peer's timers known, they cover all but Rest, which an
	// advertised priority explains.
	explained := false
	if t := p.timers; t != nil {
		explained = t.Rest == c.cfg.Timers.Rest && named || t.Rest != c.cfg.Timers.Rest && prio
	}
	if differs && !explained {
		add("fingerprint", fmt.Sprintf("%08x", c.cfg.Fingerprint), fmt.Sprintf("%08x", p.fingerprint))
	}
	p.mismatches = ms
	switch {
	case !differs:
		p.fpSince = time.Time{}
	case p.fpSince.IsZero():
		p.fpSince = c.now
	}
	if len(ms) == 0 {
		p.alarmed = nil
		return
	}
	if differs && p.timers == nil && c.now.Sub(p.fpSince) < c.maxDeadtime() {
		return // its timers are on their way
	}
	if slices.Equal(ms, p.alarmed) {
		return
	}
	p.alarmed = ms
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s ours %s theirs %s", m.Key, m.Ours, m.Theirs))
	}
	c.emit(Alarm{Peer: p.name, Text: "config mismatch with " + p.name + ": " + strings.Join(parts, "; ")})
}

// timerMismatches adds each of t's timers that differs from ours and
// reports whether there was one.
func (c *Core) timerMismatches(t *Timers, add func(key, ours, theirs string)) (named bool) {
	o := &c.cfg.Timers
	dur := func(key string, ours, theirs time.Duration) {
		if ours != theirs {
			add("timers."+key, ours.String(), theirs.String())
			named = true
		}
	}
	dur("deadtime", o.Deadtime, t.Deadtime)
	dur("adaptive_floor", o.AdaptiveFloor, t.AdaptiveFloor)
	dur("startup", o.Startup, t.Startup)
	dur("indoubt_hold", o.IndoubtHold, t.IndoubtHold)
	dur("damping", o.Damping, t.Damping)
	if o.FlapLimit != t.FlapLimit {
		add("timers.flap_limit", strconv.Itoa(o.FlapLimit), strconv.Itoa(t.FlapLimit))
		named = true
	}
	dur("carrier_settle", o.CarrierSettle, t.CarrierSettle)
	return named
}

// serviceMismatches adds the failback settings of service name that differ
// between ours and t; a service only one side has is left to Rest.
func (c *Core) serviceMismatches(name string, t *Timers, add func(key, ours, theirs string)) (named bool) {
	i := slices.IndexFunc(c.cfg.Timers.Services, func(s ServiceTimers) bool { return s.Name == name })
	j := slices.IndexFunc(t.Services, func(s ServiceTimers) bool { return s.Name == name })
	if i < 0 || j < 0 {
		return false
	}
	o, th := c.cfg.Timers.Services[i], t.Services[j]
	if o.Failback != th.Failback {
		add("services."+name+".failback", strconv.FormatBool(o.Failback), strconv.FormatBool(th.Failback))
		named = true
	}
	if o.FailbackDelay != th.FailbackDelay {
		add("services."+name+".failback_delay", o.FailbackDelay.String(), th.FailbackDelay.String())
		named = true
	}
	return named
}

// maxDeadtime is the longest deadtime of our paths.
func (c *Core) maxDeadtime() time.Duration {
	var d time.Duration
	for _, p := range c.cfg.Paths {
		d = max(d, p.Deadtime)
	}
	return d
}

// oneWay marks paths on which we hear p but p reports not hearing us.
func (c *Core) oneWay(p *peer) {
	for _, l := range p.links {
		up, known := p.hearsUs[l.lp.spec.Name]
		dt := l.lp.spec.Deadtime
		if l.held {
			l.oneWay, l.owSince = false, time.Time{} // quiet while held down
			continue
		}
		// Give the peer one deadtime to hear us before calling it one-way:
		// its first frames were sent before ours reached it. And it must
		// last a deadtime: a peer that lost carrier says so on its other
		// paths before this one has gone quiet here.
		deaf := known && !up && c.now.Sub(l.upSince) >= dt
		switch {
		case !deaf || l.state != PathUp:
			l.owSince = time.Time{}
		case l.owSince.IsZero():
			l.owSince = c.now
		}
		ow := !l.owSince.IsZero() && c.now.Sub(l.owSince) >= dt
		if l.oneWay {
			ow = deaf && l.state != PathDown // a suspect path stays one-way
		}
		if ow == l.oneWay {
			continue
		}
		l.oneWay = ow
		why := fmt.Sprintf("one-way: %s does not hear us on %s", p.name, l.lp.spec.Name)
		if !ow {
			why = fmt.Sprintf("two-way again: %s hears us on %s", p.name, l.lp.spec.Name)
		}
		c.emit(PathChanged{Peer: p.name, Path: l.lp.spec.Name, From: l.shown(), To: l.shown(), Reason: why})
		// One alarm per episode: a path that hovers between one-way and
		// two-way alarms again only after a quiet period.
		if quiet := max(c.cfg.Damping.Period, l.lp.spec.Deadtime); ow && (l.owAlarm.IsZero() || c.now.Sub(l.owAlarm) >= quiet) {
			l.owAlarm = c.now
			c.emit(Alarm{Peer: p.name, Text: why})
		}
	}
}

// setPath moves l to state to. A move to down counts as a flap, and so
// does a move from up to suspect, against a higher limit (hoverFactor);
// while l is held down (flapping) its moves are not reported, and the move
// that starts the hold is reported as the move to down.
func (c *Core) setPath(p *peer, l *link, to PathState, why string) {
	c.movePath(p, l, to, why, true)
}

// movePath is setPath; count false leaves the flap counts alone (our own
// carrier went: the NIC's own count has it).
func (c *Core) movePath(p *peer, l *link, to PathState, why string, count bool) {
	if l.state == to {
		return
	}
	from := l.shown()
	d := c.cfg.Damping
	switch {
	case !count:
	case to == PathDown && l.flaps.down(d, c.now) && !l.held:
		l.held = true
		why = flapText(d, "downs")
	case l.state == PathUp && to == PathSuspect && l.hover.down(hoverDamping(d), c.now) && !l.held:
		l.held = true
		why = flapText(hoverDamping(d), "suspicions")
	}
	l.state = to
	if to == PathDown {
		l.oneWay = false
	}
	if from != l.shown() {
		c.emit(PathChanged{Peer: p.name, Path: l.lp.spec.Name, From: from, To: l.shown(), Reason: why})
	}
}

func (c *Core) link(e Link) {
	lp := c.paths[e.Path]
	if lp.carrier == e.Up {
		return
	}
	lp.carrier = e.Up
	if e.Up {
		// The peers we could not hear on this path may be there: hear them
		// before we claim anything they might hold. Once each has been
		// heard on it we know what they hold; else wait one deadtime.
		lp.upAt = c.now
		lp.backAt = c.now
		lp.listenUntil = c.now.Add(lp.spec.Deadtime)
	} else {
		if lp.flaps.down(c.cfg.Damping, c.now) {
			c.emit(Alarm{Text: e.Path + " " + flapText(c.cfg.Damping, "carrier losses")})
		}
		for _, p := range c.peers {
			if l := p.byPath[e.Path]; l != nil {
				// Our end went away: this path can no longer hear, which
				// says nothing about the peer. It is not dead on this
				// path's account before its last frame here is a deadtime
				// old.
				if _, down := l.det.timeouts(lp.spec); !l.lastHeard.IsZero() && c.now.Before(l.lastHeard.Add(down)) {
					l.lossUntil = l.lastHeard.Add(down)
				}
				c.movePath(p, l, PathDown, "carrier lost on "+e.Path, false)
				c.updateHeld(p, l)
				c.verdict(p)
			}
		}
	}
	iso := true
	for _, p := range c.paths {
		iso = iso && !p.carrier
	}
	if iso != c.isolated {
		c.isolated = iso
		text := "isolated: carrier lost on every path; not taking over anything"
		if !iso {
			text = "no longer isolated: carrier back on " + e.Path
		}
		c.emit(Alarm{Text: text})
	}
}

// timers moves links whose silence crossed a threshold, and ends holds
// and own-side losses whose time is over.
func (c *Core) timers() {
	for _, p := range c.peers {
		changed := false
		for _, l := range p.links {
			if !l.lossUntil.IsZero() && !c.now.Before(l.lossUntil) {
				l.lossUntil = time.Time{}
				changed = true
			}
			if c.updateHeld(p, l) {
				changed = true
			}
			if l.state == PathDown {
				continue
			}
			sus, down := l.det.timeouts(l.lp.spec)
			silent := c.now.Sub(l.lastHeard)
			switch {
			case silent >= down:
				c.setPath(p, l, PathDown, "silent for "+silent.String())
				changed = true
			case silent >= sus && l.state == PathUp:
				c.setPath(p, l, PathSuspect, "silent for "+silent.String())
				changed = true
			}
		}
		if changed {
			c.verdict(p)
		}
		c.oneWay(p)
	}
}

func (c *Core) verdict(p *peer) {
	var up, carrier, silent, never, suspect, flapping []string
	var silentLast, suspectLast time.Time
	var sig uint64 // which kind each link is: the reason changes only with it
	for i, l := range p.links {
		name := l.lp.spec.Name
		kind := uint64(0)
		switch {
		case l.held:
			flapping = append(flapping, name)
			kind = 1
		case l.state == PathUp:
			up = append(up, name)
			kind = 2
		case l.state == PathSuspect:
			suspect = append(suspect, name)
			suspectLast = latest(suspectLast, l.lastHeard)
			kind = 3
		case !l.lp.carrier:
			carrier = append(carrier, name)
			kind = 4
		case l.lastHeard.IsZero():
			never = append(never, name)
			kind = 5
		default:
			silent = append(silent, name)
			silentLast = latest(silentLast, l.lastHeard)
			kind = 6
		}
		sig ^= kind << (3 * uint(i%21))
	}
	to := PeerUnknown
	switch {
	case !p.heard:
	case len(up) == len(p.links):
		to = PeerAlive
	case p.allDown() && !p.lossPending():
		to = PeerDead
	default:
		to = PeerDegraded
	}
	if to == p.state && (to == PeerAlive || sig == p.sig) {
		return
	}
	p.sig = sig
	var parts []string
	join := func(names []string, format string, args ...any) {
		if len(names) > 0 {
			parts = append(parts, strings.Join(names, ", ")+fmt.Sprintf(format, args...))
		}
	}
	if to == PeerAlive {
		join(up, " up")
	} else {
		join(carrier, ": carrier lost (our side)")
		join(silent, " silent for %v", c.now.Sub(silentLast))
		join(never, " not heard yet")
		join(suspect, " suspect, silent for %v", c.now.Sub(suspectLast))
		join(flapping, " flapping")
		join(up, " up")
	}
	why := strings.Join(parts, "; ")
	if to == p.state {
		p.reason = why // the same verdict for a new reason
		return
	}
	c.emit(PeerChanged{Peer: p.name, From: p.state, To: to, Reason: why})
	p.state = to
	p.reason = why
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (p *peer) allDown() bool {
	for _, l := range p.links {
		if l.state != PathDown {
			return false
		}
	}
	return true
}

// lossPending reports whether a path of p went down with our own carrier
// less than its deadtime after p was last heard on it.
func (p *peer) lossPending() bool {
	for _, l := range p.links {
		if !l.lossUntil.IsZero() {
			return true
		}
	}
	return false
}

// hearsUs reports whether p says it hears us on some path, or has not told
// us yet (we give it the benefit of the doubt for one deadtime).
func (c *Core) hearsUs(p *peer) bool {
	for _, l := range p.links {
		if l.state == PathDown {
			continue
		}
		up, known := p.hearsUs[l.lp.spec.Name]
		if up || !known || c.now.Sub(l.upSince) < l.lp.spec.Deadtime {
			return true
		}
	}
	return false
}

// --- ranking ----------------------------------------------------------

func (c *Core) live(p *peer) bool {
	return p.heard && p.state != PeerDead && p.state != PeerUnknown
}

// prio is node n's priority for s as the core ranks it: ours lowered by
// our failing weight checks; a peer's as it advertises it, which its own
// weights may have lowered, but never above what we configured for it.
func (c *Core) prio(s *service, n string) int {
	base := s.spec.Priorities[n]
	if n == c.cfg.Self {
		return max(base-s.drop, 0)
	}
	if p := c.byPeer[n]; p != nil {
		if adv, ok := p.services[s.spec.Name]; ok {
			return max(min(adv.Priority, base), 0)
		}
	}
	return base
}

// outranks reports whether node a ranks above node b for s: higher priority,
// then the smaller name.
func (c *Core) outranks(s *service, a, b string) bool {
	pa, pb := c.prio(s, a), c.prio(s, b)
	if pa != pb {
		return pa > pb
	}
	return a < b
}

func (c *Core) failed(s *service) bool {
	return s.opFail || s.healthBad || s.carrierBad
}

func (c *Core) selfEligible(s *service) bool {
	return !c.failed(s) && !c.isolated && !c.shutdown && c.prio(s, c.cfg.Self) > 0
}

// best returns the highest-ranked eligible node for s, skipping skip.
func (c *Core) best(s *service, skip string) string {
	best := ""
	consider := func(n string) {
		if n != skip && (best == "" || c.outranks(s, n, best)) {
			best = n
		}
	}
	if c.selfEligible(s) {
		consider(c.cfg.Self)
	}
	for _, p := range c.peers {
		adv, ok := p.services[s.spec.Name]
		if c.live(p) && ok && adv.State != StateFail && c.prio(s, p.name) > 0 {
			consider(p.name)
		}
	}
	return best
}

// holders returns the live peers advertising s up, best first.
func (c *Core) holders(s *service) []*peer {
	var hs []*peer
	for _, p := range c.peers {
		if adv, ok := p.services[s.spec.Name]; ok && c.live(p) && adv.State == StateUp {
			hs = append(hs, p)
		}
	}
	slices.SortFunc(hs, func(a, b *peer) int {
		if c.outranks(s, a.name, b.name) {
			return -1
		}
		return 1
	})
	return hs
}

// --- service state machine --------------------------------------------

func (c *Core) setState(s *service, to State, why string) {
	if s.state == to {
		s.reason = why
		return
	}
	c.emit(StateChanged{Service: s.spec.Name, From: s.state, To: to, Reason: why})
	s.state = to
	s.reason = why
	s.since = c.now
	s.failbackSince = time.Time{}
	if to != StateReclaim {
		s.reclaimFrom = ""
	}
}

func (c *Core) send(op ControlOp, svc, target string) {
	c.ref++
	c.emit(Send{Control: Control{Op: op, Service: svc, Target: target, Ref: c.ref}})
}

func (c *Core) take(s *service, why string) {
	c.emit(AddVIP{Service: s.spec.Name})
	c.emit(Announce{Service: s.spec.Name})
	c.setState(s, StateUp, why)
}

// release gives the address up: remove first, then tell target.
func (c *Core) release(s *service, to State, why, target string) {
	c.emit(RemoveVIP{Service: s.spec.Name})
	c.setState(s, to, why)
	c.send(CtlRelease, s.spec.Name, target)
	c.emit(SendHeartbeat{})
}

func (c *Core) failReason(s *service) string {
	switch {
	case s.opFail:
		return "operator: fail"
	case s.carrierBad:
		return s.carrierWhy
	case s.healthWhy != "":
		return "health: " + s.healthWhy
	}
	return "health check failed"
}

func (c *Core) evaluate(s *service) {
	for range 4 {
		from := s.state
		c.step(s)
		if s.state == from {
			return
		}
	}
}

// starting reports whether we are still listening before any claim: after
// start until every peer has been heard (at most Config.Startup), and for
// one deadtime after carrier returns on one of our paths (until every peer
// on it has been heard there).
func (c *Core) starting() bool {
	if c.now.Before(c.listenUntil) && !c.allHeard() {
		return true
	}
	for _, lp := range c.paths {
		if c.now.Before(lp.listenUntil) && !c.heardSince(lp) {
			return true
		}
	}
	return false
}

// heardSince reports whether every peer on lp has been heard on it since its
// carrier came back.
func (c *Core) heardSince(lp *localPath) bool {
	for _, p := range c.peers {
		if l := p.byPath[lp.spec.Name]; l != nil && l.lastHeard.Before(lp.backAt) {
			return false
		}
	}
	return true
}

// allHeard reports whether every peer has been heard since we started:
// each frame names what its sender holds, so we know who holds what.
func (c *Core) allHeard() bool {
	for _, p := range c.peers {
		if !p.heard {
			return false
		}
	}
	return true
}

// inherit decides about an address an earlier run of ours left on the NIC
// (Inherited), and reports whether the step is over. The address stays
// while we listen: nobody can have claimed it cleanly while it answered
// their probes. A peer holding the service, or our not being allowed to
// run it, drops it at once; once the listen is over we keep it and are up
// again, as if the daemon had never stopped: a better-ranked node then
// asks for it back as failback says (reclaim), and with failback off it
// stays.
func (c *Core) inherit(s *service) bool {
	name := s.spec.Name
	if c.failed(s) || !c.selfEligible(s) {
		s.inherited = false
		c.emit(RemoveVIP{Service: name})
		return false // the step moves the service on (fail)
	}
	if hs := c.holders(s); len(hs) > 0 {
		s.inherited = false
		c.emit(RemoveVIP{Service: name})
		c.setState(s, StateRecover, fmt.Sprintf("%s holds %s: dropped the address an earlier run of ours left", hs[0].name, name))
		c.emit(SendHeartbeat{})
		return false
	}
	if c.starting() {
		return true
	}
	s.inherited = false
	c.take(s, fmt.Sprintf("kept the address an earlier run of ours left: nobody else holds %s", name))
	c.emit(SendHeartbeat{})
	return true
}

func (c *Core) step(s *service) {
	name := s.spec.Name
	if s.inherited && c.inherit(s) {
		return
	}
	if c.failed(s) && s.state != StateFail {
		why := c.failReason(s)
		if s.state == StateUp {
			c.release(s, StateFail, why, c.best(s, c.cfg.Self))
		} else {
			c.setState(s, StateFail, why)
			c.emit(SendHeartbeat{})
		}
		return
	}
	hs := c.holders(s)
	if len(hs) > 0 {
		s.lastHolder = hs[0].name
	}
	switch s.state {
	case StateFail:
		if !c.failed(s) {
			c.setState(s, StateRecover, s.clearWhy)
			c.emit(SendHeartbeat{})
		}
	case StateUp:
		for _, h := range hs {
			if c.outranks(s, h.name, c.cfg.Self) || !c.hearsUs(h) {
				why := fmt.Sprintf("split brain: %s also holds %s and outranks us; yielding", h.name, name)
				if !c.outranks(s, h.name, c.cfg.Self) {
					why = fmt.Sprintf("split brain: %s also holds %s and does not hear us; yielding", h.name, name)
				}
				c.emit(Alarm{Service: name, Peer: h.name, Text: why})
				c.emit(RemoveVIP{Service: name})
				c.setState(s, StateRecover, why)
				c.emit(SendHeartbeat{})
				return
			}
			if !s.splitAlarmed[h.name] {
				s.splitAlarmed[h.name] = true
				c.emit(Alarm{Service: name, Peer: h.name,
					Text: fmt.Sprintf("split brain: %s also holds %s; we outrank it, it must yield", h.name, name)})
			}
		}
		clear(s.splitAlarmed)
		for _, h := range hs {
			s.splitAlarmed[h.name] = true
		}
	case StateRecover:
		if c.starting() || !c.selfEligible(s) {
			return
		}
		if len(hs) > 0 {
			h := hs[0]
			// Only the best-ranked node reclaims: two that both outrank the
			// holder (a weight check lowered its priority) would both ask,
			// and the holder would release to whichever asked first.
			if s.spec.Failback && c.outranks(s, c.cfg.Self, h.name) && c.hearsUs(h) && c.best(s, "") == c.cfg.Self {
				if s.failbackSince.IsZero() {
					s.failbackSince = c.now
				}
				if !c.now.Before(s.failbackSince.Add(s.spec.FailbackDelay)) {
					c.setState(s, StateReclaim, fmt.Sprintf("we outrank holder %s; asking for %s back", h.name, name))
					s.reclaimFrom = h.name
					s.reclaimResend = c.now.Add(c.resendEvery())
					c.send(CtlReclaim, name, h.name)
					c.emit(SendHeartbeat{})
				}
			} else {
				s.failbackSince = time.Time{}
			}
			return
		}
		s.failbackSince = time.Time{}
		if c.best(s, "") == c.cfg.Self {
			s.holdUntil = c.now.Add(c.hold(s))
			s.probeClear = false
			s.conflictBy = ""
			c.setState(s, StateIndoubt, c.whyFree(s))
			c.emit(SendHeartbeat{})
			// The probe runs during the hold: the hold waits for rival
			// claimants' heartbeats, the probe for an owner we cannot hear;
			// neither needs the other's answer first.
			if !s.probeOut {
				s.probeOut = true
				c.emit(Probe{Service: name})
			}
		}
	case StateIndoubt:
		var why string
		switch {
		case !c.selfEligible(s):
			why = "no longer eligible"
			if c.isolated {
				why = "isolated"
			}
		case c.starting():
			why = "listening: carrier just returned"
		case len(hs) > 0:
			why = hs[0].name + " holds " + name
		case c.best(s, "") != c.cfg.Self:
			why = c.best(s, "") + " outranks us and is alive"
		}
		if why != "" {
			c.setState(s, StateRecover, why)
			c.emit(SendHeartbeat{})
			return
		}
		switch {
		case s.probeOut:
			// wait for the answer
		case !s.probeClear:
			// A conflict was reported: probe again once the hold is over.
			if !c.now.Before(s.holdUntil) {
				s.probeOut = true
				c.emit(Probe{Service: name})
			}
		case !c.now.Before(s.holdUntil):
			c.take(s, "claimed: "+s.reason)
			c.emit(SendHeartbeat{})
		}
	case StateReclaim:
		switch {
		case !c.selfEligible(s):
			c.setState(s, StateRecover, "no longer eligible")
		case len(hs) == 0:
			c.setState(s, StateRecover, fmt.Sprintf("holder %s gone without a release", s.reclaimFrom))
		case c.outranks(s, hs[0].name, c.cfg.Self):
			c.setState(s, StateRecover, hs[0].name+" outranks us")
		case !c.now.Before(s.reclaimResend):
			s.reclaimFrom = hs[0].name
			s.reclaimResend = c.now.Add(c.resendEvery())
			c.send(CtlReclaim, name, hs[0].name)
		}
		if s.state != StateReclaim {
			c.emit(SendHeartbeat{})
		}
	}
}

// hold is how long we stay indoubt before probing: the configured hold, but
// at least the shortest path interval. Our indoubt heartbeat goes out at once
// on every path, so within one interval of the fastest path any node that
// decided to claim at the same moment has heard us, and we it, before either
// probes; the lower one then stands down. A slow path (serial at low baud)
// must not slow every takeover down.
func (c *Core) hold(s *service) time.Duration {
	var fastest time.Duration
	for _, p := range c.cfg.Paths {
		if fastest == 0 || p.Interval < fastest {
			fastest = p.Interval
		}
	}
	return max(s.spec.IndoubtHold, fastest)
}

// resendEvery is how often an unanswered reclaim is repeated: the longest
// deadtime, by when a lost frame has surely been retried on every path.
func (c *Core) resendEvery() time.Duration {
	var d time.Duration
	for _, p := range c.cfg.Paths {
		d = max(d, p.Deadtime)
	}
	return d
}

// whyFree explains why nobody holds s and we are the best to take it.
func (c *Core) whyFree(s *service) string {
	if h := c.byPeer[s.lastHolder]; h != nil {
		if h.state == PeerDead {
			return fmt.Sprintf("peer %s dead: %s", h.name, h.reason)
		}
		if adv, ok := h.services[s.spec.Name]; ok {
			return fmt.Sprintf("%s reports %s %s", h.name, s.spec.Name, adv.State)
		}
	}
	return fmt.Sprintf("nobody holds %s and we rank first", s.spec.Name)
}

func (c *Core) probed(e Probed) {
	s := c.bySvc[e.Service]
	s.probeOut = false
	if s.state != StateIndoubt {
		return
	}
	if e.Conflict {
		by := e.By
		if by == "" {
			by = "another host"
		}
		// One alarm per answerer and stay: an orphaned address (a killed
		// daemon's, until its lifetime ends) answers every re-probe.
		if by != s.conflictBy {
			c.emit(Alarm{Service: s.spec.Name, Text: fmt.Sprintf("address conflict: %s answers for %s; not claiming", by, s.spec.Name)})
		}
		s.conflictBy = by
		s.probeClear = false
		s.holdUntil = c.now.Add(max(s.spec.IndoubtHold, c.resendEvery()))
		return
	}
	s.probeClear = true
	// evaluate claims once the hold is over, unless it moves us back to recover.
}

func (c *Core) control(p *peer, ctl Control) {
	if ctl.Target != "" && ctl.Target != c.cfg.Self {
		return
	}
	if p.refs[ctl.Ref] {
		return
	}
	p.refs[ctl.Ref] = true
	p.maxRef = max(p.maxRef, ctl.Ref)
	for r := range p.refs { // keep the dedupe set small
		if r+64 < p.maxRef {
			delete(p.refs, r)
		}
	}
	s := c.bySvc[ctl.Service]
	if s == nil {
		return
	}
	name := s.spec.Name
	switch ctl.Op {
	case CtlRelease:
		// Only a release addressed to us skips the hold: a broadcast one
		// could be taken by two nodes at once. Others take the normal path.
		if ctl.Target != c.cfg.Self || s.state == StateUp || s.state == StateFail || !c.selfEligible(s) {
			return
		}
		for _, h := range c.holders(s) {
			if h != p {
				return
			}
		}
		// Take only if we are the best by our own view, so two nodes that
		// see each other can never both take: the target is a hint.
		if c.best(s, p.name) != c.cfg.Self {
			return
		}
		how := "hand-over"
		if s.state == StateReclaim {
			how = "reclaim"
		}
		c.take(s, fmt.Sprintf("released by %s (%s)", p.name, how))
		c.emit(Send{Control: Control{Op: CtlAck, Service: name, Target: p.name, Ref: c.nextRef()}})
		c.emit(SendHeartbeat{})
	case CtlReclaim:
		if !c.outranks(s, p.name, c.cfg.Self) {
			c.emit(Alarm{Service: name, Peer: p.name, Text: fmt.Sprintf("%s asked for %s back but does not outrank us; ignored", p.name, name)})
			return
		}
		switch s.state {
		case StateUp:
			c.release(s, StateRecover, "reclaimed by "+p.name, p.name)
		case StateRecover, StateFail, StateIndoubt:
			// Our release was lost: say it again, we hold nothing.
			c.send(CtlRelease, name, p.name)
		}
	case CtlAck:
		// The taker has the address; nothing left to do.
	}
}

func (c *Core) nextRef() uint64 {
	c.ref++
	return c.ref
}

func (c *Core) shutdownAll() {
	if c.shutdown {
		return
	}
	c.shutdown = true
	for _, s := range c.svcs {
		switch s.state {
		case StateUp:
			c.release(s, StateRecover, "shutdown", c.best(s, c.cfg.Self))
		case StateIndoubt, StateReclaim:
			c.setState(s, StateRecover, "shutdown")
			c.emit(SendHeartbeat{})
		}
	}
}

// --- outputs ----------------------------------------------------------

// Advert returns what our next heartbeat carries: every service's state and
// our view of every path to every peer.
func (c *Core) Advert() Advert {
	var a Advert
	for _, s := range c.svcs {
		a.Services = append(a.Services, ServiceState{Name: s.spec.Name, State: s.state, Priority: c.prio(s, c.cfg.Self)})
	}
	for _, p := range c.peers {
		for _, l := range p.links {
			a.Views = append(a.Views, View{Peer: p.name, Path: l.lp.spec.Name, Up: l.state != PathDown})
		}
		if p.heard && p.fingerprint != c.cfg.Fingerprint {
			a.SendTimers = true
		}
	}
	return a
}

// NextDeadline returns the earliest time at which a Tick can change
// anything. It is never zero: with no timer running it is a second past the
// last event, so a shell may always arm its timer with it.
func (c *Core) NextDeadline() time.Time {
	next := c.now.Add(idleDeadline)
	at := func(t time.Time) {
		if t.After(c.now) && t.Before(next) {
			next = t
		}
	}
	for _, p := range c.peers {
		for _, l := range p.links {
			sus, down := l.det.timeouts(l.lp.spec)
			switch l.state {
			case PathUp:
				at(l.lastHeard.Add(sus))
			case PathSuspect:
				at(l.lastHeard.Add(down))
			}
			if l.state != PathDown && c.now.Sub(l.upSince) < l.lp.spec.Deadtime {
				at(l.upSince.Add(l.lp.spec.Deadtime))
			}
			at(l.lossUntil)
			if !l.owSince.IsZero() && !l.oneWay {
				at(l.owSince.Add(l.lp.spec.Deadtime))
			}
			if l.held {
				at(l.flaps.until)
				at(l.hover.until)
			}
		}
	}
	for _, lp := range c.paths {
		at(lp.flaps.until)
		if lp.carrier {
			at(lp.upAt.Add(c.cfg.Damping.Settle))
		}
	}
	at(c.listenUntil)
	for _, lp := range c.paths {
		if !c.heardSince(lp) {
			at(lp.listenUntil)
		}
	}
	for _, s := range c.svcs {
		switch s.state {
		case StateIndoubt:
			if !s.probeOut {
				at(s.holdUntil) // claim, or probe again after a conflict
			}
		case StateRecover:
			if !s.failbackSince.IsZero() {
				at(s.failbackSince.Add(s.spec.FailbackDelay))
			}
		case StateReclaim:
			at(s.reclaimResend)
		}
	}
	return next
}
