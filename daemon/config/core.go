package config

import (
	"time"

	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

// PathPeers is the peers expected on path p: those it names, or every
// configured peer when it names none.
func (c *Config) PathPeers(p PathConfig) []string {
	if p.Peers != nil {
		return p.Peers
	}
	peers := make([]string, 0, len(c.Peers))
	for _, pe := range c.Peers {
		peers = append(peers, pe.Name)
	}
	return peers
}

// SendInterval is how often path p carries a heartbeat: every tick for UDP;
// for serial, transport.SerialInterval for the largest frame this config
// makes us send (transport.SealedBound), so that one such frame fits within
// a send interval on the wire, rounded up to whole ticks (frames are only
// sent on ticks). The lab's two nodes at 115200 baud: 217 bytes sealed, 224
// on the wire, 19.4 ms, so every tick (20 ms).
func (c *Config) SendInterval(p PathConfig) time.Duration {
	tick := c.Timers.Interval
	if p.Kind != "serial" || tick <= 0 {
		return tick
	}
	d := transport.SerialInterval(p.Baud, transport.SealedBound(c.frameShape()), tick)
	n := (d + tick - 1) / tick
	return n * tick
}

// PathDeadtime is the silence after which a path sending every iv is down:
// the configured deadtime, but at least 2.5 send intervals, so that a serial
// line stretched for a slow baud rate still survives one lost frame (the
// rule validation enforces for timers.deadtime against timers.interval). At
// 115200 baud a two-node serial path sends every tick (20 ms) and keeps
// timers.deadtime down to 50 ms; at 9600 it sends every 240 ms and gets
// 600 ms, so a cluster left with only its cable never flaps.
func (c *Config) PathDeadtime(iv time.Duration) time.Duration {
	return max(c.Timers.Deadtime, iv*5/2)
}

// Core is the core's view of the config.
func (c *Config) Core() quorum.Config {
	qc := quorum.Config{
		Self:        c.Node,
		Interval:    c.Timers.Interval,
		Fingerprint: c.Fingerprint(),
		Startup:     c.Timers.Startup,
		Damping:     quorum.Damping{Period: c.Timers.Damping, Flaps: c.Timers.FlapLimit, Settle: c.Timers.CarrierSettle},
		Timers:      c.CoreTimers(),
	}
	peerPaths := map[string][]string{}
	for _, p := range c.Paths {
		iv := c.SendInterval(p)
		qc.Paths = append(qc.Paths, quorum.PathSpec{
			Name: p.Name, Interval: iv, Deadtime: c.PathDeadtime(iv), Floor: c.Timers.AdaptiveFloor,
		})
		for _, n := range c.PathPeers(p) {
			peerPaths[n] = append(peerPaths[n], p.Name)
		}
	}
	for _, pe := range c.Peers {
		qc.Peers = append(qc.Peers, quorum.Peer{Name: pe.Name, Paths: peerPaths[pe.Name]})
	}
	for _, sc := range c.Services {
		svc := quorum.Service{
			Name: sc.Name, Priorities: map[string]int{}, Failback: sc.Failback,
			FailbackDelay: sc.FailbackDelay, IndoubtHold: c.Timers.IndoubtHold,
		}
		for n, p := range sc.Priority {
			svc.Priorities[n] = p
		}
		for _, p := range c.Paths {
			if p.Kind == "udp" && p.Interface == sc.Interface {
				svc.Path = p.Name
			}
		}
		qc.Services = append(qc.Services, svc)
	}
	return qc
}

// CoreTimers is what the fingerprint covers besides the interval, in the
// core's terms: the timers, each service's failback settings (config
// order) and a hash of the rest. The flap limit counts only while damping
// is on.
func (c *Config) CoreTimers() quorum.Timers {
	t := c.Timers
	qt := quorum.Timers{
		Deadtime: t.Deadtime, AdaptiveFloor: t.AdaptiveFloor, Startup: t.Startup, IndoubtHold: t.IndoubtHold,
		Damping: t.Damping, CarrierSettle: t.CarrierSettle, Rest: c.rest(),
	}
	if t.Damping > 0 {
		qt.FlapLimit = t.FlapLimit
	}
	for _, sc := range c.Services {
		qt.Services = append(qt.Services, quorum.ServiceTimers{Name: sc.Name, Failback: sc.Failback, FailbackDelay: sc.FailbackDelay})
	}
	return qt
}

// FrameRate is how many heartbeat frames a second this node sends and
// receives at idle: on each path one per send interval out, and one per
// send interval in from every peer on it.
func (c *Config) FrameRate() float64 {
	var n float64
	for _, p := range c.Paths {
		iv := c.SendInterval(p)
		if iv <= 0 {
			continue
		}
		n += float64(1+len(c.PathPeers(p))) * float64(time.Second) / float64(iv)
	}
	return n
}

// frameShape is the shape of the largest frame this node sends.
func (c *Config) frameShape() transport.FrameShape {
	shape := transport.FrameShape{Node: c.Node}
	for _, pc := range c.Paths {
		for _, n := range c.PathPeers(pc) {
			shape.Views = append(shape.Views, [2]string{n, pc.Name})
		}
	}
	for _, sc := range c.Services {
		shape.Services = append(shape.Services, sc.Name)
	}
	for _, pe := range c.Peers {
		shape.Targets = append(shape.Targets, pe.Name)
	}
	return shape
}
