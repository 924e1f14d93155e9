package daemon

import (
	"errors"
	"fmt"
	"time"

	"github.com/failover-ha/failover/quorum"
)

// stallState is the loop's record of its own absences (loop goroutine
// only).
type stallState struct {
	judged time.Time         // the heartbeat deadline already judged a stall
	count  uint64            // stalls seen
	last   time.Duration     // how long the last one was
	lastAt time.Time         // when it ended
	stale  map[string]uint64 // per path: frames the core rejected as too old
}

// guardStall drops our claims when the loop was away longer than the
// deadtime: a stopped process (SIGSTOP, a paused or migrated VM), a long
// kernel stall, or a turn blocked in a call. The loop wakes at least at
// every heartbeat deadline (nextBeat), so a heartbeat later than the
// deadtime means nobody heard us for that long and a peer may have taken
// over. It runs before any event of the turn reaches the core and before
// any heartbeat or refresh leaves, so a stalled master never re-asserts:
// the core drops every claim (RemoveVIP, recover) and listens again. It
// reports whether it found a stall.
func (s *session) guardStall() bool {
	if s.shutdown || s.nextBeat.IsZero() || s.stall.judged.Equal(s.nextBeat) {
		return false
	}
	now := time.Now()
	late := now.Sub(s.nextBeat)
	if late <= s.cfg.Timers.Deadtime {
		return false
	}
	s.stall.judged = s.nextBeat
	away := late + s.cfg.Timers.Interval // since our last heartbeat
	s.stall.count++
	s.stall.last, s.stall.lastAt = away, now
	if now.Before(s.lastAt) {
		now = s.lastAt
	}
	s.lastAt = now
	acts, err := s.core.StepAt(now, quorum.Stalled{For: away})
	if err != nil {
		s.log.Error("stall not handled by the core", "reason", err.Error())
		return true
	}
	s.do(now, acts) // the core's Alarm is the one log line: "stalled for 3.2s: dropping claims"
	return true
}

// rejected accounts for an event the core refused: a frame too old when it
// reached the core (it waited in a reader while we stood still) is counted
// per path for status.
func (s *session) rejected(ev quorum.Event, err error) {
	if h, ok := ev.(quorum.Heard); ok && errors.Is(err, quorum.ErrTooOld) {
		if s.stall.stale == nil {
			s.stall.stale = map[string]uint64{}
		}
		s.stall.stale[h.Path]++
	}
	s.log.Debug("event rejected by the core", "event", fmt.Sprintf("%T", ev), "reason", err.Error())
}
