package daemon

import "time"

// wakeup is the loop's one timer: wake delivers once the instant last
// given to Reset has passed. A wake-up may come late, or once more after a
// Reset (the loop recomputes what is due either way). Reset with the
// instant already armed does nothing, unless fired was called since.
type wakeup interface {
	Reset(at time.Time)
	fired() // the loop took a wake-up from wake()
	Stop()
	wake() <-chan struct{}
}

// runtimeTimer is a wakeup on a Go runtime timer.
type runtimeTimer struct {
	t     *time.Timer
	c     chan struct{}
	armed time.Time
	stop  chan struct{}
}

func newRuntimeTimer() *runtimeTimer {
	r := &runtimeTimer{c: make(chan struct{}, 1), stop: make(chan struct{})}
	r.t = time.AfterFunc(time.Hour, func() {
		select {
		case r.c <- struct{}{}:
		default:
		}
	})
	r.t.Stop()
	return r
}

func (r *runtimeTimer) Reset(at time.Time) {
	if at.Equal(r.armed) {
		return
	}
	r.armed = at
	r.t.Reset(time.Until(at))
}

func (r *runtimeTimer) fired()                { r.armed = time.Time{} }
func (r *runtimeTimer) Stop()                 { r.t.Stop() }
func (r *runtimeTimer) wake() <-chan struct{} { return r.c }
