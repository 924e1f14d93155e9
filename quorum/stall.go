package quorum

import (
	"fmt"
	"time"
)

// stalled handles a Stalled event: we were away longer than a deadtime, so
// a peer may have declared us dead and taken over what we held. Our claims
// are stale: every service we hold is removed (RemoveVIP) and goes to
// recover, as do services indoubt or reclaiming, and every path listens as
// after carrier returns, so nothing is claimed before the peers have been
// heard again. A service comes back only through the normal path: reclaim
// from the holder, or indoubt and probe if nobody holds it.
func (c *Core) stalled(e Stalled) {
	why := "stalled for " + roundStall(e.For) + ": dropping claims"
	c.emit(Alarm{Text: why})
	for _, s := range c.svcs {
		if s.inherited {
			s.inherited = false
			c.emit(RemoveVIP{Service: s.spec.Name})
		}
		switch s.state {
		case StateUp:
			c.emit(RemoveVIP{Service: s.spec.Name})
			c.setState(s, StateRecover, why)
			c.emit(SendHeartbeat{})
		case StateIndoubt, StateReclaim:
			c.setState(s, StateRecover, why)
			c.emit(SendHeartbeat{})
		}
	}
	for _, lp := range c.paths {
		if lp.carrier {
			lp.backAt = c.now
			lp.listenUntil = c.now.Add(lp.spec.Deadtime)
		}
	}
}

// roundStall prints a stall the way an operator reads it: "3.2s", "450ms".
func roundStall(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Millisecond).String()
}
