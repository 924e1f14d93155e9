package quorum

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Config is the core's view of the cluster. All durations are real time; the
// core compares them with the At of the events it is fed.
type Config struct {
	Self     string
	Peers    []Peer
	Paths    []PathSpec
	Services []Service
	// Interval is this node's heartbeat interval (advertised; compared with
	// the peers' for the mismatch warning).
	Interval time.Duration
	// Fingerprint summarises timing and service config; a peer advertising a
	// different one is reported as a mismatch.
	Fingerprint uint32
	// Startup is how long after start the core listens before it may claim a
	// service nobody announces (avoids double-claim at simultaneous boot).
	// The listen ends earlier once every peer has been heard: each frame
	// says what its sender holds.
	Startup time.Duration
	// Damping holds paths that keep changing state (damping.go). The zero
	// value turns it off.
	Damping Damping
	// Timers are what our fingerprint covers besides the interval, as
	// configured. The core advertises them (Advert.SendTimers) while some
	// peer's fingerprint differs from ours, and compares them with the
	// ones such a peer sends (Heard.Timers) to name each difference.
	Timers Timers
}

// Timers are what a node's fingerprint covers besides its heartbeat
// interval: the config file's timers, each service's failback settings,
// and a hash of the rest. Field by field they name a config mismatch
// (Mismatch.Key "timers.deadtime", "services.web.failback_delay").
type Timers struct {
	Deadtime      time.Duration
	AdaptiveFloor time.Duration
	Startup       time.Duration
	IndoubtHold   time.Duration
	Damping       time.Duration
	FlapLimit     int
	CarrierSettle time.Duration
	Services      []ServiceTimers
	// Rest is a hash of what else the fingerprint covers (the cluster and
	// the services' names, addresses and priorities). When it differs and
	// no advertised priority explains it, the mismatch keeps its
	// "fingerprint" entry.
	Rest uint32
}

// ServiceTimers is one service's failback settings.
type ServiceTimers struct {
	Name          string
	Failback      bool
	FailbackDelay time.Duration
}

func (t *Timers) equal(u *Timers) bool {
	if t == nil || u == nil {
		return t == u
	}
	return t.Deadtime == u.Deadtime && t.AdaptiveFloor == u.AdaptiveFloor && t.Startup == u.Startup &&
		t.IndoubtHold == u.IndoubtHold && t.Damping == u.Damping && t.FlapLimit == u.FlapLimit &&
		t.CarrierSettle == u.CarrierSettle && t.Rest == u.Rest && slices.Equal(t.Services, u.Services)
}

// Damping keeps a flapping link from flapping the services.
type Damping struct {
	// Period and Flaps: a path that went down Flaps times within Period
	// (its carrier lost, or its frames silent past the suspicion threshold)
	// is flapping: it is held down until Period has passed without another
	// down. Period 0 turns this off.
	Period time.Duration
	Flaps  int
	// Settle: a service NIC whose carrier came back counts as back for its
	// service only once the carrier has stayed up for Settle.
	Settle time.Duration
}

// DefaultDamping returns the damping the daemon uses unless configured.
func DefaultDamping() Damping {
	return Damping{
		// 10s: flaps of a bad cable or a failing switch port come every
		// 0.1-3s; a window of 10s catches three of them, and a path quiet
		// for 10s has stopped flapping (docs/benchmarks.md, "Flapping").
		Period: 10 * time.Second,
		// 3: one down is a fault, two can be a replug; the third within
		// the period is a pattern.
		Flaps: 3,
		// 1s: longer than the up phase of the flaps measured (150-200ms),
		// so the service leaves once and does not come back between two
		// flaps; a planned return waits 1s more, while the backup serves.
		Settle: time.Second,
	}
}

// Peer is another node and the paths on which we expect to hear it.
type Peer struct {
	Name  string
	Paths []string
}

// PathSpec is one local path and its failure detector bounds.
type PathSpec struct {
	Name     string
	Interval time.Duration // expected inter-arrival of the peers' frames
	Deadtime time.Duration // fixed deadtime (k x interval) or adaptive ceiling
	Floor    time.Duration // adaptive detector floor (0 = fixed deadtime only)
}

// Service is one floating address (or any service) and who may run it.
type Service struct {
	Name          string
	Priorities    map[string]int // node name -> priority (higher wins; 0 = never)
	Failback      bool           // a returning higher-priority node reclaims
	FailbackDelay time.Duration  // wait this long after it returns
	IndoubtHold   time.Duration  // wait in indoubt before claiming
	Path          string         // the service NIC's path name ("" = none)
}

// MaxNodes is the largest cluster the core accepts (self included).
const MaxNodes = 16

// DefaultPath returns the detector settings for a path named name.
func DefaultPath(name string) PathSpec {
	return PathSpec{
		Name: name,
		// 100ms: ten frames a second is cheap on any medium we use
		// (a 115200 baud serial line carries it with room to spare).
		Interval: 100 * time.Millisecond,
		// 5 x interval: four frames in a row may be lost before we call the
		// path down; the adaptive detector may only shorten this.
		Deadtime: 500 * time.Millisecond,
		// 250ms: a clean path is declared down after half the fixed
		// deadtime at best; never faster, so one scheduling hiccup on a
		// busy host does not flap.
		Floor: 250 * time.Millisecond,
	}
}

// DefaultService returns the service settings for name with no priorities.
func DefaultService(name string) Service {
	return Service{
		Name:       name,
		Priorities: map[string]int{},
		// Failback on: the original moved the address back to the master.
		Failback: true,
		// 10s: a returning master must stay reachable a while before it
		// pulls the address back, so a flapping host does not bounce it.
		FailbackDelay: 10 * time.Second,
		// 200ms: a last chance for a late heartbeat of the old owner
		// before we probe; short because the deadtime has passed already.
		IndoubtHold: 200 * time.Millisecond,
	}
}

// Validate reports every problem in the config at once (errors.Join), each
// naming its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("quorum: config: "+format, args...))
	}
	if c.Self == "" {
		bad("self: empty node name")
	}
	if c.Interval <= 0 {
		bad("interval: %v, want > 0", c.Interval)
	}
	if c.Startup < 0 {
		bad("startup: %v, want >= 0", c.Startup)
	}
	if d := c.Damping; d.Period < 0 {
		bad("damping.period: %v, want >= 0", d.Period)
	} else if d.Period > 0 && d.Flaps < 2 {
		bad("damping.flaps: %d, want >= 2 (one down is a fault, not a flap)", d.Flaps)
	}
	if c.Damping.Settle < 0 {
		bad("damping.settle: %v, want >= 0", c.Damping.Settle)
	}
	paths := map[string]bool{}
	if len(c.Paths) == 0 {
		bad("paths: none configured")
	}
	for i, p := range c.Paths {
		key := fmt.Sprintf("paths[%d]", i)
		if p.Name == "" {
			bad("%s.name: empty", key)
		} else if paths[p.Name] {
			bad("%s.name: duplicate path %q", key, p.Name)
		}
		paths[p.Name] = true
		if p.Interval <= 0 {
			bad("%s.interval: %v, want > 0", key, p.Interval)
		}
		if p.Deadtime <= p.Interval {
			bad("%s.deadtime: %v, want > interval %v", key, p.Deadtime, p.Interval)
		}
		if p.Floor < 0 || p.Floor > p.Deadtime {
			bad("%s.floor: %v, want 0..deadtime %v", key, p.Floor, p.Deadtime)
		} else if p.Floor > 0 && p.Floor <= p.Interval {
			bad("%s.floor: %v, want > interval %v (or 0 for a fixed deadtime)", key, p.Floor, p.Interval)
		}
	}
	nodes := map[string]bool{c.Self: true}
	if len(c.Peers) == 0 {
		bad("peers: none configured")
	}
	if len(c.Peers)+1 > MaxNodes {
		bad("peers: %d peers, at most %d nodes in all", len(c.Peers), MaxNodes)
	}
	for i, p := range c.Peers {
		key := fmt.Sprintf("peers[%d]", i)
		switch {
		case p.Name == "":
			bad("%s.name: empty", key)
		case p.Name == c.Self:
			bad("%s.name: %q is ourselves", key, p.Name)
		case nodes[p.Name]:
			bad("%s.name: duplicate peer %q", key, p.Name)
		}
		nodes[p.Name] = true
		if len(p.Paths) == 0 {
			bad("%s.paths: none", key)
		}
		seen := map[string]bool{}
		for j, name := range p.Paths {
			if !paths[name] {
				bad("%s.paths[%d]: unknown path %q", key, j, name)
			}
			if seen[name] {
				bad("%s.paths[%d]: duplicate path %q", key, j, name)
			}
			seen[name] = true
		}
	}
	svcs := map[string]bool{}
	for i, s := range c.Services {
		key := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			bad("%s.name: empty", key)
		} else if svcs[s.Name] {
			bad("%s.name: duplicate service %q", key, s.Name)
		}
		svcs[s.Name] = true
		for n, p := range s.Priorities {
			if !nodes[n] {
				bad("%s.priorities: unknown node %q", key, n)
			}
			if p < 0 {
				bad("%s.priorities[%s]: %d, want >= 0", key, n, p)
			}
		}
		if s.FailbackDelay < 0 {
			bad("%s.failback_delay: %v, want >= 0", key, s.FailbackDelay)
		}
		if s.IndoubtHold < 0 {
			bad("%s.indoubt_hold: %v, want >= 0", key, s.IndoubtHold)
		}
		if s.Path != "" && !paths[s.Path] {
			bad("%s.path: unknown path %q", key, s.Path)
		}
	}
	return errors.Join(errs...)
}
