package quorum

import (
	"fmt"
	"time"
)

// flaps counts the recent downs of one path (a local NIC's carrier, or one
// link to one peer) and holds it down while it flaps: Damping.Flaps downs
// within Damping.Period start a hold that lasts until Period has passed
// without another down.
type flaps struct {
	downs []time.Time // the last downs within Period, oldest first, at most Flaps
	until time.Time   // held down until then; zero or past = not held
}

// down records a down at t and reports whether it started a hold (a down
// during a hold extends it and reports false).
func (f *flaps) down(d Damping, t time.Time) bool {
	if d.Period <= 0 || d.Flaps < 2 {
		return false
	}
	keep := f.downs[:0]
	for _, x := range f.downs {
		if t.Sub(x) < d.Period {
			keep = append(keep, x)
		}
	}
	f.downs = append(keep, t)
	if len(f.downs) > d.Flaps {
		f.downs = f.downs[len(f.downs)-d.Flaps:]
	}
	if f.held(t) {
		f.until = t.Add(d.Period)
		return false
	}
	if len(f.downs) >= d.Flaps {
		f.until = t.Add(d.Period)
		return true
	}
	return false
}

// held reports whether the path is held down at t.
func (f *flaps) held(t time.Time) bool { return t.Before(f.until) }

// flapText says why a path is held, for reasons and alarms.
func flapText(d Damping, what string) string {
	return fmt.Sprintf("flapping: %d %s within %v; held down until stable for %v", d.Flaps, what, d.Period, d.Period)
}

// hoverFactor: a link that turns suspect hoverFactor times as often as
// Damping.Flaps within the period hovers at its threshold: it is held down
// as if it flapped. A busy host's scheduling delays make a healthy path
// suspect now and then; only a sustained rate is a fault.
const hoverFactor = 4

func hoverDamping(d Damping) Damping {
	d.Flaps *= hoverFactor
	return d
}

// linkHeld reports whether l is held down: it flaps or hovers itself, or
// the NIC under it flaps.
func (c *Core) linkHeld(l *link) bool {
	return l.flaps.held(c.now) || l.hover.held(c.now) || l.lp.flaps.held(c.now)
}

// shown is the state l is reported and judged in: its own state, or down
// while held. (Liveness still reads l.state: a held link that hears the
// peer keeps the peer from being declared dead.)
func (l *link) shown() PathState {
	if l.held {
		return PathDown
	}
	return l.state
}

// updateHeld reports the start or the end of l's hold, once each.
func (c *Core) updateHeld(p *peer, l *link) bool {
	held := c.linkHeld(l)
	if held == l.held {
		return false
	}
	from := l.shown()
	l.held = held
	why := "stable for " + c.cfg.Damping.Period.String() + ": no longer held down"
	if held {
		switch {
		case l.lp.flaps.held(c.now):
			why = flapText(c.cfg.Damping, "carrier losses on "+l.lp.spec.Name)
		case l.hover.held(c.now):
			why = flapText(hoverDamping(c.cfg.Damping), "suspicions")
		default:
			why = flapText(c.cfg.Damping, "downs")
		}
	}
	if from != l.shown() {
		c.emit(PathChanged{Peer: p.name, Path: l.lp.spec.Name, From: from, To: l.shown(), Reason: why})
	}
	return true
}

// nicBad reports whether a service NIC cannot carry its service now, and
// why: no carrier, flapping, or carrier back for less than Damping.Settle.
func (c *Core) nicBad(lp *localPath) (bool, string) {
	name := lp.spec.Name
	switch {
	case !lp.carrier:
		return true, "carrier lost on service path " + name
	case lp.flaps.held(c.now):
		return true, "service path " + name + " " + flapText(c.cfg.Damping, "carrier losses")
	case c.now.Before(lp.upAt.Add(c.cfg.Damping.Settle)):
		return true, fmt.Sprintf("carrier back on %s; settling for %v", name, c.cfg.Damping.Settle)
	}
	return false, ""
}

// nics brings each service's NIC verdict up to date.
func (c *Core) nics() {
	for _, s := range c.svcs {
		if s.spec.Path == "" {
			continue
		}
		lp := c.paths[s.spec.Path]
		bad, why := c.nicBad(lp)
		if bad {
			s.carrierBad = true
			s.carrierWhy = why
			if s.state == StateFail && c.failReason(s) == why {
				s.reason = why // the status says what it waits for now
			}
			continue
		}
		if s.carrierBad {
			s.carrierBad = false
			s.clearWhy = "carrier back on " + lp.spec.Name
			if c.cfg.Damping.Settle > 0 {
				s.clearWhy += ", stable for " + c.cfg.Damping.Settle.String()
			}
		}
	}
}
