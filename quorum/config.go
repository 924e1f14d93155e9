package quorum

import (
	"errors"
	"fmt"
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
	Startup time.Duration
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
