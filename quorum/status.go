package quorum

import "time"

// Status is a snapshot of the core for status and watch output.
type Status struct {
	Self       string          `json:"self"`
	At         time.Time       `json:"at"`
	Started    time.Time       `json:"started"`
	Starting   bool            `json:"starting"` // still in the startup listen
	Isolated   bool            `json:"isolated"` // carrier lost on every path
	Shutdown   bool            `json:"shutdown"`
	Peers      []PeerStatus    `json:"peers"`
	Paths      []LocalPath     `json:"paths"` // our own end of each path
	Services   []ServiceStatus `json:"services"`
	Mismatches []Mismatch      `json:"mismatches,omitempty"`
}

// PeerStatus is the verdict on one peer.
type PeerStatus struct {
	Name     string       `json:"name"`
	State    PeerState    `json:"state"`
	Reason   string       `json:"reason"`
	Epoch    uint64       `json:"epoch"`
	Restarts int          `json:"restarts"` // new epochs seen since we started
	Paths    []PathStatus `json:"paths"`
}

// LocalPath is our own end of one path.
type LocalPath struct {
	Name     string    `json:"name"`
	Carrier  bool      `json:"carrier"`
	UpSince  time.Time `json:"up_since,omitempty"` // carrier back at (zero: up since start)
	Flapping bool      `json:"flapping"`           // carrier lost Damping.Flaps times within Damping.Period: held down
	Until    time.Time `json:"until,omitempty"`    // held down until then, if no other loss comes
}

// PathStatus is one path to one peer.
type PathStatus struct {
	Name      string        `json:"name"`
	State     PathState     `json:"state"`    // down while held (Flapping)
	Flapping  bool          `json:"flapping"` // held down: it, or our NIC under it, flaps
	Carrier   bool          `json:"carrier"`  // our side of the path
	LastHeard time.Time     `json:"last_heard"`
	Loss      float64       `json:"loss"`     // recent fraction of expected frames (one per Interval) not heard, 0..1
	Deadtime  time.Duration `json:"deadtime"` // current (adaptive) deadtime
	OneWay    bool          `json:"one_way"`  // we hear the peer, it does not hear us
}

// ServiceStatus is one service on this node.
type ServiceStatus struct {
	Name     string    `json:"name"`
	State    State     `json:"state"`
	Owner    string    `json:"owner"`          // who holds it as far as we know; "" = nobody
	Priority int       `json:"priority"`       // ours, lowered by Drop
	Drop     int       `json:"drop,omitempty"` // lowered by failing weight checks (Weight)
	Reason   string    `json:"reason"`
	Since    time.Time `json:"since"`
}

// Mismatch is a config difference between us and a peer. Key is
// "interval"; "timers.deadtime" and the other keys of [timers];
// "services.NAME.priority", "services.NAME.failback" or
// "services.NAME.failback_delay"; or "fingerprint" when nothing of these
// explains that the fingerprints differ.
type Mismatch struct {
	Peer   string `json:"peer"`
	Key    string `json:"key"`
	Ours   string `json:"ours"`
	Theirs string `json:"theirs"`
}

// Status returns a snapshot; it shares no memory with the core.
func (c *Core) Status() Status {
	st := Status{
		Self:     c.cfg.Self,
		At:       c.now,
		Started:  c.start,
		Starting: c.starting(),
		Isolated: c.isolated,
		Shutdown: c.shutdown,
	}
	for _, p := range c.peers {
		ps := PeerStatus{Name: p.name, State: p.state, Reason: p.reason, Epoch: p.epoch, Restarts: p.restarts}
		for _, l := range p.links {
			_, down := l.det.timeouts(l.lp.spec)
			loss := 0.0
			if l.exp > 0 {
				loss = max(0, 1-l.recv/l.exp)
			}
			ps.Paths = append(ps.Paths, PathStatus{
				Name: l.lp.spec.Name, State: l.shown(), Flapping: l.held, Carrier: l.lp.carrier,
				LastHeard: l.lastHeard, Loss: loss, Deadtime: down, OneWay: l.oneWay,
			})
		}
		st.Peers = append(st.Peers, ps)
		st.Mismatches = append(st.Mismatches, p.mismatches...)
	}
	for _, pc := range c.cfg.Paths {
		lp := c.paths[pc.Name]
		x := LocalPath{Name: pc.Name, Carrier: lp.carrier, UpSince: lp.upAt, Flapping: lp.flaps.held(c.now)}
		if x.Flapping {
			x.Until = lp.flaps.until
		}
		st.Paths = append(st.Paths, x)
	}
	for _, s := range c.svcs {
		ss := ServiceStatus{Name: s.spec.Name, State: s.state, Priority: c.prio(s, c.cfg.Self), Drop: s.drop, Reason: s.reason, Since: s.since}
		if s.state == StateUp {
			ss.Owner = c.cfg.Self
		} else if hs := c.holders(s); len(hs) > 0 {
			ss.Owner = hs[0].name
		}
		st.Services = append(st.Services, ss)
	}
	return st
}
