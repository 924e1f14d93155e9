package daemon

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// wakeTimer is the loop's one timer on a timerfd read through the poller.
// The Go runtime sleeps until its own timers in whole milliseconds
// (epoll_wait), so a runtime timer wakes a thread up to a millisecond early
// and then once more, and its monitor thread wakes at every runtime timer
// too; a timerfd expires once, to the microsecond, and leaves both asleep.
// Reset is a no-op when the instant is unchanged. Loop goroutine only,
// except the reader started by newWakeTimer.
type wakeTimer struct {
	c     chan struct{}
	f     *os.File
	rc    syscall.RawConn
	armed time.Time
	spec  unix.ItimerSpec
	buf   [8]byte
	errno syscall.Errno
	read  func(fd uintptr) bool
	set   func(fd uintptr)
	done  chan struct{}
}

// newWakeTimer returns a stopped timer, or a runtime timer where timerfd is
// not available.
func newWakeTimer() wakeup {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newRuntimeTimer()
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return newRuntimeTimer()
	}
	t := &wakeTimer{c: make(chan struct{}, 1), f: f, rc: rc, done: make(chan struct{})}
	// Raw calls: neither can block, and the runtime's syscall bookkeeping
	// would wake its monitor thread.
	t.read = func(fd uintptr) bool {
		_, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&t.buf[0])), uintptr(len(t.buf)))
		if e == unix.EAGAIN {
			return false
		}
		t.errno = e
		return true
	}
	t.set = func(fd uintptr) {
		unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&t.spec)), 0, 0, 0)
	}
	go t.run()
	return t
}

// run turns expiries into sends on c until Stop.
func (t *wakeTimer) run() {
	defer close(t.done)
	for {
		t.errno = 0
		if err := t.rc.Read(t.read); err != nil {
			return // closed
		}
		if t.errno != 0 && t.errno != unix.EINTR {
			if t.errno == unix.ECANCELED {
				continue
			}
			return
		}
		select {
		case t.c <- struct{}{}:
		default: // one pending wake is enough
		}
	}
}

// Reset arms the timer for at (at once if at has passed).
func (t *wakeTimer) Reset(at time.Time) {
	if at.Equal(t.armed) {
		return
	}
	t.armed = at
	d := time.Until(at)
	if d <= 0 {
		d = time.Microsecond // a zero value would disarm it
	}
	t.spec.Value = unix.NsecToTimespec(int64(d))
	t.rc.Control(t.set)
}

// Stop ends the reader; the timer is not used again.
func (t *wakeTimer) Stop() {
	t.f.Close()
	<-t.done
}

func (t *wakeTimer) wake() <-chan struct{} { return t.c }

func (t *wakeTimer) fired() { t.armed = time.Time{} }
