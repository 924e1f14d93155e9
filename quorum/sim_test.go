package quorum

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sim runs several cores connected by simulated paths. It plays the shell:
// it sends each node's heartbeat every interval on every path, delivers
// Send actions at once as frames carrying a Control, answers Probes, keeps
// track of who holds which address, and ticks each core at its deadline.
type sim struct {
	t        testing.TB
	now      time.Time
	paths    []PathSpec
	services []Service
	startup  time.Duration
	interval time.Duration
	latency  time.Duration
	jitter   map[string]time.Duration // per path, uniform extra delay
	loss     map[string]float64       // per path, fraction dropped
	rng      *rand.Rand
	damping  Damping
	lifetime time.Duration // a stalled node's VIP expires after this (0: never)

	nodes  []*node
	byName map[string]*node
	cut    map[cutKey]bool
	queue  []delivery
	order  uint64

	// safety: when each pair last became connected both ways
	connectedSince map[[2]string]time.Time
	trace          []string
	violations     []string
	// holders of each service as it changed since the last expect block:
	// "n1", "-", "n1+n2"
	holderLog map[string][]string
}

type cutKey struct{ path, from, to string }

type node struct {
	name     string
	core     *Core
	interval time.Duration
	fp       uint32
	// timers overrides its Config.Timers ("deadtime" -> "200ms",
	// "vip1.failback" -> "off"); noTimers: it never sends them (a node
	// of an earlier version).
	timers   map[string]string
	noTimers bool
	epoch    uint64
	seq      uint64
	nextHB   time.Time
	carrier  map[string]bool
	vip      map[string]bool
	state    map[string]State
	conflict map[string]bool // next probe answers conflict
	window   []string        // actions since the last expect
	changes  map[string][]State
	// A stalled node's process does not run: frames for it wait in its
	// backlog (stamped when they arrived), it sends nothing, its VIPs
	// stay until the lifetime ends; resume plays the shell's stall guard.
	stalled    bool
	stallStart time.Time
	backlog    []delivery
	// A crashed node's daemon was killed (SIGKILL): it runs no core and
	// sends nothing, but its kernel keeps its VIPs (and answers probes for
	// them) until the lifetime since its last refresh (crashAt) ends. A
	// boot finds what is left and steps Inherited for it.
	crashed bool
	crashAt time.Time
}

type delivery struct {
	at    time.Time
	order uint64
	to    string
	epoch uint64 // the receiver's epoch when sent; dropped if it rebooted
	ev    Event
	recv  time.Time // when it reached a stalled node's backlog
}

func newSim(t testing.TB) *sim {
	return &sim{
		t:              t,
		now:            t0,
		startup:        ms(500),
		interval:       ms(100),
		latency:        ms(1),
		jitter:         map[string]time.Duration{},
		loss:           map[string]float64{},
		rng:            rand.New(rand.NewPCG(1, 2)),
		byName:         map[string]*node{},
		cut:            map[cutKey]bool{},
		connectedSince: map[[2]string]time.Time{},
		holderLog:      map[string][]string{},
	}
}

func (s *sim) addNode(name string) *node {
	n := &node{name: name, interval: s.interval, carrier: map[string]bool{}, vip: map[string]bool{}, timers: map[string]string{},
		state: map[string]State{}, conflict: map[string]bool{}, changes: map[string][]State{}}
	s.nodes = append(s.nodes, n)
	s.byName[name] = n
	return n
}

func (s *sim) config(n *node) Config {
	cfg := Config{Self: n.name, Paths: s.paths, Interval: n.interval, Fingerprint: n.fp, Startup: s.startup, Damping: s.damping}
	var names []string
	for _, p := range s.paths {
		names = append(names, p.Name)
	}
	for _, o := range s.nodes {
		if o != n {
			cfg.Peers = append(cfg.Peers, Peer{Name: o.name, Paths: names})
		}
	}
	cfg.Services = s.services
	cfg.Timers = s.timers(n)
	return cfg
}

// timers is n's Config.Timers: the services' failback settings, the
// startup and damping of the sim, and n's overrides.
func (s *sim) timers(n *node) Timers {
	t := Timers{Startup: s.startup, Damping: s.damping.Period, FlapLimit: s.damping.Flaps, CarrierSettle: s.damping.Settle}
	for _, sv := range s.services {
		t.Services = append(t.Services, ServiceTimers{Name: sv.Name, Failback: sv.Failback, FailbackDelay: sv.FailbackDelay})
	}
	for k, v := range n.timers {
		d, _ := time.ParseDuration(v)
		switch k {
		case "deadtime":
			t.Deadtime = d
		case "adaptive_floor":
			t.AdaptiveFloor = d
		case "startup":
			t.Startup = d
		case "indoubt_hold":
			t.IndoubtHold = d
		case "damping":
			t.Damping = d
		case "flap_limit":
			t.FlapLimit, _ = strconv.Atoi(v)
		case "carrier_settle":
			t.CarrierSettle = d
		case "rest":
			x, _ := strconv.ParseUint(v, 16, 32)
			t.Rest = uint32(x)
		default:
			svc, key, _ := strings.Cut(k, ".")
			i := slices.IndexFunc(t.Services, func(st ServiceTimers) bool { return st.Name == svc })
			if i < 0 {
				s.t.Fatalf("%s: timers: unknown key %q", n.name, k)
			}
			switch key {
			case "failback":
				t.Services[i].Failback = v == "on"
			case "failback_delay":
				t.Services[i].FailbackDelay = d
			default:
				s.t.Fatalf("%s: timers: unknown key %q", n.name, k)
			}
		}
	}
	return t
}

func (s *sim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("%8v ", s.now.Sub(t0))+fmt.Sprintf(format, args...))
}

func (s *sim) boot(n *node) {
	if n.core != nil {
		s.t.Fatalf("boot %s: already running", n.name)
	}
	c, err := New(s.config(n), s.now)
	if err != nil {
		s.t.Fatalf("boot %s: %v", n.name, err)
	}
	n.core = c
	n.epoch++
	n.seq = 0
	n.nextHB = s.now
	if !n.crashed {
		clear(n.vip)
	}
	n.crashed = false
	for _, sv := range s.services {
		n.state[sv.Name] = StateRecover
	}
	// The shell finds the addresses a killed run left and keeps them for
	// the core to decide, before any frame or link event.
	for _, sv := range s.services {
		if n.vip[sv.Name] {
			s.logf("%s: %s found on the NIC (left by the earlier run)", n.name, sv.Name)
			s.step(n, Inherited{At: s.now, Service: sv.Name})
		}
	}
	for _, p := range s.paths {
		if _, ok := n.carrier[p.Name]; !ok {
			n.carrier[p.Name] = true
		}
		if !n.carrier[p.Name] {
			s.step(n, Link{At: s.now, Path: p.Name, Up: false})
		}
	}
	s.logf("%s boots (epoch %d)", n.name, n.epoch)
	s.updateConnectivity()
}

func (s *sim) kill(n *node) {
	n.core = nil
	n.stalled = false
	n.crashed = false
	n.backlog = nil
	clear(n.vip)
	clear(n.state)
	s.logf("%s killed", n.name)
	s.updateConnectivity()
}

// crash kills n's daemon (SIGKILL): see node.crashed. A stalled node's
// addresses were last refreshed when it stalled.
func (s *sim) crash(n *node) {
	if n.core == nil {
		s.t.Fatalf("crash %s: not running", n.name)
	}
	n.crashAt = s.now
	if n.stalled {
		n.crashAt = n.stallStart
	}
	n.core = nil
	n.stalled = false
	n.backlog = nil
	n.crashed = true
	clear(n.state)
	s.logf("%s crashed (its addresses stay until their lifetime ends)", n.name)
	s.updateConnectivity()
}

// expire drops the addresses of a stalled or crashed node whose lifetime
// ran out since since.
func (s *sim) expire(n *node, since time.Time) {
	if s.lifetime <= 0 || s.now.Before(since.Add(s.lifetime)) {
		return
	}
	for sv, held := range n.vip {
		if held {
			n.vip[sv] = false
			s.logf("%s: %s expired (lifetime %v)", n.name, sv, s.lifetime)
		}
	}
}

// step feeds ev to n's core and carries out the actions.
func (s *sim) step(n *node, ev Event) {
	if n.core == nil {
		return
	}
	acts, err := n.core.Step(ev)
	if errors.Is(err, ErrStale) || errors.Is(err, ErrTooOld) {
		// A frame of a sender's previous life still in flight, or one that
		// waited in a stalled node's backlog: the shell drops it, as we do.
		s.logf("%s: dropped: %v", n.name, err)
		n.window = append(n.window, "dropped: "+err.Error())
		return
	}
	if err != nil {
		s.t.Fatalf("%v %s: Step(%T): %v", s.now.Sub(t0), n.name, ev, err)
	}
	for _, a := range acts {
		text := actionString(a)
		n.window = append(n.window, text)
		s.logf("%s: %s", n.name, text)
		switch a := a.(type) {
		case AddVIP:
			n.vip[a.Service] = true
		case RemoveVIP:
			n.vip[a.Service] = false
		case StateChanged:
			n.state[a.Service] = a.To
			n.changes[a.Service] = append(n.changes[a.Service], a.To)
		case Probe:
			s.push(delivery{at: s.now.Add(ms(1)), to: n.name, epoch: n.epoch, ev: Probed{Service: a.Service}})
		case Send:
			ctl := a.Control
			s.send(n, &ctl)
		case SendHeartbeat:
			s.send(n, nil)
		}
	}
}

func actionString(a Action) string {
	switch a := a.(type) {
	case AddVIP:
		return "AddVIP " + a.Service
	case RemoveVIP:
		return "RemoveVIP " + a.Service
	case Announce:
		return "Announce " + a.Service
	case Probe:
		return "Probe " + a.Service
	case Send:
		return fmt.Sprintf("Send %v %s ->%s", a.Control.Op, a.Control.Service, a.Control.Target)
	case SendHeartbeat:
		return "SendHeartbeat"
	case StateChanged:
		return fmt.Sprintf("StateChanged %s %v->%v: %s", a.Service, a.From, a.To, a.Reason)
	case PeerChanged:
		return fmt.Sprintf("PeerChanged %s %v->%v: %s", a.Peer, a.From, a.To, a.Reason)
	case PathChanged:
		return fmt.Sprintf("PathChanged %s %s %v->%v: %s", a.Peer, a.Path, a.From, a.To, a.Reason)
	case Alarm:
		text := "Alarm"
		for _, w := range []string{a.Service, a.Peer} {
			if w != "" {
				text += " " + w
			}
		}
		return text + ": " + a.Text
	}
	return fmt.Sprintf("%T", a)
}

func (s *sim) push(d delivery) {
	s.order++
	d.order = s.order
	s.queue = append(s.queue, d)
}

// send transmits one frame from n on every path to every other node.
func (s *sim) send(n *node, ctl *Control) {
	n.seq++
	adv := n.core.Advert()
	var timers *Timers
	if adv.SendTimers && !n.noTimers {
		t := s.timers(n)
		timers = &t
	}
	for _, p := range s.paths {
		if !n.carrier[p.Name] {
			continue
		}
		for _, m := range s.nodes {
			if m == n || m.core == nil || s.cut[cutKey{p.Name, n.name, m.name}] {
				continue
			}
			if l := s.loss[p.Name]; l > 0 && s.rng.Float64() < l {
				continue
			}
			delay := s.latency
			if j := s.jitter[p.Name]; j > 0 {
				delay += time.Duration(s.rng.Int64N(int64(j)))
			}
			s.push(delivery{at: s.now.Add(delay), to: m.name, epoch: m.epoch, ev: Heard{
				Peer: n.name, Path: p.Name, Epoch: n.epoch, Seq: n.seq, Interval: n.interval,
				Fingerprint: n.fp, Views: adv.Views, Services: adv.Services, Control: ctl, Timers: timers,
			}})
		}
	}
}

func withAt(ev Event, at time.Time) Event {
	switch e := ev.(type) {
	case Heard:
		e.At = at
		return e
	case Probed:
		e.At = at
		return e
	}
	panic(fmt.Sprintf("withAt %T", ev))
}

// run advances time by d, processing everything due on the way.
func (s *sim) run(d time.Duration) {
	end := s.now.Add(d)
	for spins := 0; ; spins++ {
		if spins > 1_000_000 {
			s.t.Fatalf("sim does not advance at %v", s.now.Sub(t0))
		}
		next := end
		for _, q := range s.queue {
			if q.at.Before(next) {
				next = q.at
			}
		}
		for _, n := range s.nodes {
			if n.crashed && s.lifetime > 0 {
				if t := n.crashAt.Add(s.lifetime); t.After(s.now) {
					next = minTime(next, t)
				}
			}
			if n.core == nil {
				continue
			}
			if n.stalled {
				if s.lifetime > 0 {
					if t := n.stallStart.Add(s.lifetime); t.After(s.now) {
						next = minTime(next, t)
					}
				}
				continue
			}
			next = minTime(next, n.nextHB)
			next = minTime(next, n.core.NextDeadline())
		}
		if next.Before(s.now) {
			next = s.now
		}
		s.now = next
		s.process()
		if !s.now.Before(end) {
			return
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// process handles everything due at s.now.
func (s *sim) process() {
	sort.SliceStable(s.queue, func(i, j int) bool {
		if !s.queue[i].at.Equal(s.queue[j].at) {
			return s.queue[i].at.Before(s.queue[j].at)
		}
		return s.queue[i].order < s.queue[j].order
	})
	for len(s.queue) > 0 && !s.queue[0].at.After(s.now) {
		d := s.queue[0]
		s.queue = s.queue[1:]
		n := s.byName[d.to]
		if n.core == nil || n.epoch != d.epoch {
			continue
		}
		if n.stalled {
			d.recv = s.now
			n.backlog = append(n.backlog, d)
			continue
		}
		switch e := d.ev.(type) {
		case Heard:
			if !n.carrier[e.Path] {
				continue
			}
		case Probed:
			e.Conflict, e.By = s.probeConflict(n, e.Service)
			d.ev = e
		}
		s.step(n, withAt(d.ev, s.now))
	}
	for _, n := range s.nodes {
		if n.crashed {
			s.expire(n, n.crashAt)
		}
		if n.core == nil {
			continue
		}
		if n.stalled {
			s.expire(n, n.stallStart)
			continue
		}
		if !n.nextHB.After(s.now) {
			s.send(n, nil)
			n.nextHB = s.now.Add(n.interval)
		}
		if !n.core.NextDeadline().After(s.now) {
			s.step(n, Tick{At: s.now})
		}
		// The shell refreshes the address of every service it holds up:
		// one that expired while the process stood still comes back.
		for sv, st := range n.state {
			if st == StateUp && !n.vip[sv] {
				n.vip[sv] = true
				s.logf("%s: %s re-added by a refresh", n.name, sv)
			}
		}
	}
	s.checkSafety()
}

func (s *sim) minDeadtime() time.Duration {
	d := s.paths[0].Deadtime
	for _, p := range s.paths {
		d = min(d, p.Deadtime)
	}
	return d
}

// stall stops n's process: see node.stalled.
func (s *sim) stall(n *node) {
	if n.core == nil || n.stalled {
		s.t.Fatalf("stall %s: not running", n.name)
	}
	n.stalled, n.stallStart = true, s.now
	s.logf("%s stalls", n.name)
	s.updateConnectivity()
}

// resume lets a stalled n run again, as the shell does: the stall guard
// steps Stalled first, then the frames that waited are read, each stamped
// with the time it arrived.
func (s *sim) resume(n *node) {
	if !n.stalled {
		s.t.Fatalf("resume %s: not stalled", n.name)
	}
	n.stalled = false
	s.logf("%s resumes after %v", n.name, s.now.Sub(n.stallStart))
	s.updateConnectivity()
	// The shell's guard fires when the loop was away longer than the
	// deadtime; then nothing may stay claimed.
	if away := s.now.Sub(n.stallStart); away > s.minDeadtime() {
		s.step(n, Stalled{At: s.now, For: away})
		for sv, held := range n.vip {
			if held {
				v := fmt.Sprintf("%v: %s still holds %s after a stall of %v", s.now.Sub(t0), n.name, sv, away)
				s.violations = append(s.violations, v)
				s.logf("VIOLATION %s", v)
			}
		}
	}
	backlog := n.backlog
	n.backlog = nil
	for _, d := range backlog {
		if h, ok := d.ev.(Heard); ok {
			if !n.carrier[h.Path] {
				continue
			}
			h.At, h.Received = s.now, d.recv
			s.step(n, h)
			continue
		}
		s.step(n, withAt(d.ev, s.now))
	}
	n.nextHB = s.now
	s.process()
}

// probeConflict answers a probe by n: forced, or another running node holds
// the address and the service path carries frames from it to n.
func (s *sim) probeConflict(n *node, svc string) (bool, string) {
	if n.conflict[svc] {
		n.conflict[svc] = false
		return true, "02:00:00:00:00:99"
	}
	var spath string
	for _, sv := range s.services {
		if sv.Name == svc {
			spath = sv.Path
		}
	}
	for _, m := range s.nodes {
		if m == n || (m.core == nil && !m.crashed) || !m.vip[svc] {
			continue
		}
		// A stalled or crashed node's kernel still answers for its address.
		if spath == "" || (m.carrier[spath] && n.carrier[spath] && !s.cut[cutKey{spath, m.name, n.name}]) {
			return true, "mac-of-" + m.name
		}
	}
	return false, ""
}

// works reports whether path p carries frames both ways between a and b.
func (s *sim) works(p string, a, b *node) bool {
	return a.core != nil && b.core != nil && !a.stalled && !b.stalled && a.carrier[p] && b.carrier[p] && s.loss[p] == 0 &&
		!s.cut[cutKey{p, a.name, b.name}] && !s.cut[cutKey{p, b.name, a.name}]
}

func (s *sim) updateConnectivity() {
	for i, a := range s.nodes {
		for _, b := range s.nodes[i+1:] {
			key := [2]string{a.name, b.name}
			ok := false
			for _, p := range s.paths {
				ok = ok || s.works(p.Name, a, b)
			}
			_, was := s.connectedSince[key]
			switch {
			case ok && !was:
				s.connectedSince[key] = s.now
			case !ok:
				delete(s.connectedSince, key)
			}
		}
	}
}

// grace is how long two holders may overlap after a path between them
// starts working again: until each has had a heartbeat from the other.
func (s *sim) grace() time.Duration {
	g := s.interval
	for _, n := range s.nodes {
		g = max(g, n.interval)
	}
	var j time.Duration
	for _, v := range s.jitter {
		j = max(j, v)
	}
	return g + s.latency + j + ms(1)
}

// checkSafety records a violation if two nodes hold the same address while
// a path between them has worked both ways for longer than grace, and logs
// every change of the holders.
func (s *sim) checkSafety() {
	for _, sv := range s.services {
		if h := strings.Join(s.owners(sv.Name), "+"); true {
			if h == "" {
				h = "-"
			}
			l := s.holderLog[sv.Name]
			if len(l) == 0 || l[len(l)-1] != h {
				s.holderLog[sv.Name] = append(l, h)
			}
		}
		for i, a := range s.nodes {
			for _, b := range s.nodes[i+1:] {
				if !a.vip[sv.Name] || !b.vip[sv.Name] {
					continue
				}
				since, ok := s.connectedSince[[2]string{a.name, b.name}]
				if ok && s.now.Sub(since) > s.grace() {
					v := fmt.Sprintf("%v: %s and %s both hold %s, connected since %v", s.now.Sub(t0), a.name, b.name, sv.Name, since.Sub(t0))
					if len(s.violations) == 0 || s.violations[len(s.violations)-1] != v {
						s.violations = append(s.violations, v)
						s.logf("VIOLATION %s", v)
					}
				}
			}
		}
	}
}

// moves counts the owner changes in a holder log: each time the address
// lands on another node than the one that held it last (gaps and overlaps
// between are not changes of their own).
func moves(log []string) int {
	n, last := 0, ""
	for _, h := range log {
		if h == "-" || strings.Contains(h, "+") {
			continue
		}
		if last != "" && h != last {
			n++
		}
		last = h
	}
	return n
}

// owners returns the nodes holding svc's address.
func (s *sim) owners(svc string) []string {
	var out []string
	for _, n := range s.nodes {
		if (n.core != nil || n.crashed) && n.vip[svc] {
			out = append(out, n.name)
		}
	}
	return out
}

func (s *sim) setCut(path, from, to string, on bool) {
	var paths []string
	if path == "*" || path == "" {
		for _, p := range s.paths {
			paths = append(paths, p.Name)
		}
	} else {
		paths = []string{path}
	}
	for _, p := range paths {
		for _, a := range s.nodes {
			for _, b := range s.nodes {
				if a == b || (from != "" && a.name != from) || (to != "" && b.name != to) {
					continue
				}
				if on {
					s.cut[cutKey{p, a.name, b.name}] = true
				} else {
					delete(s.cut, cutKey{p, a.name, b.name})
				}
			}
		}
	}
	s.updateConnectivity()
}

func (s *sim) dumpTrace(tb testing.TB) {
	tb.Helper()
	start := max(0, len(s.trace)-400)
	tb.Logf("trace (last %d lines):\n%s", len(s.trace)-start, strings.Join(s.trace[start:], "\n"))
}

func stateNames(ss []State) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.String())
	}
	return out
}

var _ = slices.Contains[[]string]
