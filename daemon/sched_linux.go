package daemon

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// rtRecheck is how often new threads are looked for: the Go runtime starts
// few after the first seconds, and each pass is a directory read.
const rtRecheck = time.Second

// startRealtime puts every thread of this process on SCHED_RR at prio and
// keeps new ones there until the returned stop is called. A process that
// already runs SCHED_RR or SCHED_FIFO (systemd's CPUSchedulingPolicy) is
// kept as it is. Failure (no CAP_SYS_NICE, a user namespace, a seccomp
// filter) is one warning; the daemon runs on at the normal policy.
func (d *Daemon) startRealtime(prio int) (stop func()) {
	nothing := func() {}
	if prio == 0 {
		d.log.Info("realtime scheduling off (realtime_priority = 0)")
		return nothing
	}
	if cur, err := unix.SchedGetAttr(os.Getpid(), 0); err == nil && (cur.Policy == unix.SCHED_RR || cur.Policy == unix.SCHED_FIFO) {
		// Without reset-on-fork (systemd's CPUSchedulingResetOnFork=no,
		// needed there: its filters keep us from setting new threads)
		// the health checks and hooks run at this policy too.
		children := "normal policy (reset on fork)"
		if cur.Flags&unix.SCHED_FLAG_RESET_ON_FORK == 0 {
			children = "inherit it"
		}
		d.log.Info("already running realtime: kept", "policy", policyName(cur.Policy), "priority", cur.Priority,
			"realtime_priority", prio, "checks_and_hooks", children)
		return nothing
	}
	rt := newRTThreads(func(tid int) error {
		return unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR,
			Priority: uint32(prio), Flags: unix.SCHED_FLAG_RESET_ON_FORK}, 0)
	})
	warn := func(err error) {
		d.log.Warn("realtime_priority not applied: heartbeats may be late on a saturated host",
			"realtime_priority", prio, "err", err)
	}
	tids, err := taskIDs()
	if err == nil {
		var n int
		n, err = rt.pass(tids)
		if err == nil {
			d.log.Info("realtime scheduling applied", "policy", "SCHED_RR", "realtime_priority", prio, "threads", n)
		}
	}
	if err != nil {
		warn(err)
		return nothing
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(rtRecheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			tids, err := taskIDs()
			if err == nil {
				_, err = rt.pass(tids)
			}
			if err != nil {
				warn(err) // once: it worked at the start, so this is new
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// taskIDs lists the threads of this process.
func taskIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if t, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, t)
		}
	}
	return tids, nil
}

// policyName names a scheduling policy as chrt does.
func policyName(p uint32) string {
	switch p {
	case unix.SCHED_RR:
		return "SCHED_RR"
	case unix.SCHED_FIFO:
		return "SCHED_FIFO"
	case unix.SCHED_NORMAL:
		return "SCHED_OTHER"
	}
	return "policy " + strconv.Itoa(int(p))
}
