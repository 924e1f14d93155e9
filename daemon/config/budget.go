package config

import (
	"strconv"
	"time"

	"github.com/failover-ha/failover/transport"
)

// budget refuses timer settings whose heartbeats would need more than a
// serial line can carry in time or more CPU than the daemon may spend
// (transport.MaxSerialInterval, transport.CPUBudget), naming what they would
// cost. It runs only on timers that passed their own checks.
func (p *parser) budget(c *Config) {
	t := c.Timers
	if t.Interval <= 0 || t.Deadtime <= 2*t.Interval {
		return // reported by validate
	}
	bound := transport.SealedBound(c.frameShape())
	if bound > transport.MaxFrameLen+transport.TagLen {
		p.problem("peer", "the largest heartbeat of this config would be %d bytes, over the frame limit of %d: fewer peers, paths or services, or shorter names",
			bound, transport.MaxFrameLen+transport.TagLen)
		return
	}
	for i, pc := range c.Paths {
		if pc.Kind != "serial" || pc.Baud <= 0 {
			continue
		}
		iv := c.SendInterval(pc)
		if iv <= transport.MaxSerialInterval {
			continue
		}
		fix := "fewer peers or services, or no serial path"
		// The send interval is rounded up to whole ticks: the frame must
		// fit in the whole ticks within the limit.
		if b := transport.MinSerialBaud(bound, transport.MaxSerialInterval/t.Interval*t.Interval); b > 0 {
			fix = strconv.Itoa(b) + " baud or more, " + fix
		}
		p.problem("path."+strconv.Itoa(i)+".baud",
			"%d baud cannot carry this cluster's heartbeats often enough: the largest frame (%d bytes sealed, %d on the wire) takes %s on the line, "+
				"and one must fit within a send interval, so the path sends every %s and its deadtime becomes %s (timers.deadtime %s); "+
				"a peer on this cable would be declared dead only after that much silence; the limit is a send interval of %s: use %s",
			pc.Baud, bound, transport.SerialWireLen(bound), round(transport.SerialWireTime(pc.Baud, bound)),
			round(iv), round(c.PathDeadtime(iv)), t.Deadtime, transport.MaxSerialInterval, fix)
	}
	if cost := frameCost(c); cost > transport.CPUBudget {
		fix := "a longer interval"
		for iv := t.Interval + 500*time.Microsecond; iv <= time.Second; iv += 500 * time.Microsecond {
			c2 := *c
			c2.Timers.Interval = iv
			if frameCost(&c2) <= transport.CPUBudget {
				fix = "an interval of " + iv.String() + " or more"
				break
			}
		}
		p.problem("timers.interval",
			"%s would cost about %s of CPU a second (%.1f%% of a core): %.0f heartbeat frames a second sent and received on %d paths at ~%s each, "+
				"over the budget of %s; use %s",
			t.Interval, round(cost), 100*cost.Seconds(), c.FrameRate(), len(c.Paths), transport.FrameCPU, transport.CPUBudget, fix)
	}
}

// frameCost is the CPU a second c's heartbeats cost by transport.FrameCPU.
func frameCost(c *Config) time.Duration {
	return time.Duration(c.FrameRate() * float64(transport.FrameCPU))
}

// round shows d to 3 significant-ish digits (1.51s, 81ms, 480ms).
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}
