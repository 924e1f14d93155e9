package daemon

import (
	"errors"
	"fmt"
	"sort"
	"syscall"
)

// rtThreads keeps the threads of this process at a realtime policy: each
// pass sets the threads it has not set yet and forgets the ones that are
// gone, so a thread the Go runtime starts later (which the kernel's
// reset-on-fork starts at the normal policy) is caught by the next pass.
// Not safe for concurrent use: one goroutine owns it.
type rtThreads struct {
	set  func(tid int) error // makes one thread realtime
	done map[int]bool        // threads set and still alive
}

func newRTThreads(set func(tid int) error) *rtThreads {
	return &rtThreads{set: set, done: map[int]bool{}}
}

// pass sets every thread of tids not set yet. A thread that exited in the
// meantime (ESRCH) is skipped. It returns how many it set and the first
// error of the others, naming the thread; threads that failed are tried
// again at the next pass.
func (r *rtThreads) pass(tids []int) (int, error) {
	alive := make(map[int]bool, len(tids))
	for _, t := range tids {
		alive[t] = true
	}
	for t := range r.done {
		if !alive[t] {
			delete(r.done, t) // a later thread may get its id
		}
	}
	sort.Ints(tids)
	n := 0
	var first error
	for _, t := range tids {
		if r.done[t] {
			continue
		}
		err := r.set(t)
		switch {
		case err == nil:
			r.done[t] = true
			n++
		case errors.Is(err, syscall.ESRCH):
		case first == nil:
			first = fmt.Errorf("thread %d: %w", t, err)
		}
	}
	return n, first
}
