// Package viptest provides a recording fake vip.Manager for tests of other
// packages: it keeps a "present" flag instead of a kernel address, records
// every call in order, returns errors and probe conflicts set by the test,
// and lets the test inject duplicate-address events into the
// running watcher. It is safe for concurrent use and never blocks except
// in Watch, which waits for its context like the real one.
package viptest

import (
	"context"
	"net"
	"slices"
	"sync"

	"github.com/failover-ha/failover/vip"
)

// Op names a manager method.
type Op int

// The recorded operations.
const (
	OpEnsure Op = iota + 1
	OpRelease
	OpPresent
	OpAnnounce
	OpProbe
	OpCleanup
	OpWatch
)

func (o Op) String() string {
	switch o {
	case OpEnsure:
		return "ensure"
	case OpRelease:
		return "release"
	case OpPresent:
		return "present"
	case OpAnnounce:
		return "announce"
	case OpProbe:
		return "probe"
	case OpCleanup:
		return "cleanup"
	case OpWatch:
		return "watch"
	}
	return "unknown"
}

// Fake is a recording vip.Manager. The zero value is not usable; call New.
type Fake struct {
	mu       sync.Mutex
	present  bool
	calls    []Op
	errs     map[Op]error
	conflict net.HardwareAddr
	hook     func(Op)
	dups     map[int]func(net.HardwareAddr)
	nextID   int
}

var (
	_ vip.Manager = (*Fake)(nil)
	_ vip.Cleaner = (*Fake)(nil)
	_ vip.Watcher = (*Fake)(nil)
)

// New returns a fake with the address absent, no errors and no conflict.
func New() *Fake {
	return &Fake{
		errs: map[Op]error{},
		dups: map[int]func(net.HardwareAddr){},
	}
}

// Calls returns the operations recorded so far, in order.
func (f *Fake) Calls() []Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Count returns how many times op was called.
func (f *Fake) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

// Reset forgets the recorded calls (errors, conflict and presence stay).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// SetErr makes every later call of op return err (nil clears it). A failing
// Ensure or Release leaves the presence flag unchanged.
func (f *Fake) SetErr(op Op, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.errs, op)
		return
	}
	f.errs[op] = err
}

// SetConflict makes Probe report mac as another owner (nil: no owner).
func (f *Fake) SetConflict(mac net.HardwareAddr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conflict = slices.Clone(mac)
}

// SetPresent sets the presence flag, e.g. to simulate a stale address for
// Cleanup or an address expired behind the daemon's back.
func (f *Fake) SetPresent(present bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.present = present
}

// IsPresent reports the presence flag without recording a call.
func (f *Fake) IsPresent() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.present
}

// SetHook sets a function called after each recorded operation, outside the
// fake's lock; tests use it to signal a channel instead of sleeping.
func (f *Fake) SetHook(hook func(Op)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = hook
}

// Duplicate delivers mac to every running Watch, as if another host had
// claimed the address. It returns how many watchers got it.
func (f *Fake) Duplicate(mac net.HardwareAddr) int {
	f.mu.Lock()
	fns := make([]func(net.HardwareAddr), 0, len(f.dups))
	for _, fn := range f.dups {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(slices.Clone(mac))
	}
	return len(fns)
}

// record notes op and returns the error set for it.
func (f *Fake) record(op Op, apply func()) error {
	f.mu.Lock()
	f.calls = append(f.calls, op)
	err := f.errs[op]
	if err == nil && apply != nil {
		apply()
	}
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(op)
	}
	return err
}

// Ensure records the call and marks the address present.
func (f *Fake) Ensure(ctx context.Context) error {
	return f.record(OpEnsure, func() { f.present = true })
}

// Release records the call and marks the address absent.
func (f *Fake) Release(ctx context.Context) error {
	return f.record(OpRelease, func() { f.present = false })
}

// Present records the call and returns the presence flag.
func (f *Fake) Present(ctx context.Context) (bool, error) {
	var p bool
	err := f.record(OpPresent, func() { p = f.present })
	return p, err
}

// Announce records the call. Like the real manager it fails with
// vip.ErrNotPresent when the address is absent.
func (f *Fake) Announce(ctx context.Context) error {
	var absent bool
	err := f.record(OpAnnounce, func() { absent = !f.present })
	if err == nil && absent {
		return vip.ErrNotPresent
	}
	return err
}

// Probe records the call and returns the conflict set with SetConflict.
func (f *Fake) Probe(ctx context.Context) (net.HardwareAddr, error) {
	var mac net.HardwareAddr
	err := f.record(OpProbe, func() { mac = slices.Clone(f.conflict) })
	return mac, err
}

// Cleanup records the call, removes the address and reports whether it was
// present.
func (f *Fake) Cleanup(ctx context.Context) (bool, error) {
	var removed bool
	err := f.record(OpCleanup, func() { removed, f.present = f.present, false })
	return removed, err
}

// Watch registers dup, records the call (the hook runs once Duplicate can
// reach dup), and delivers Duplicate events to dup until ctx ends; it then
// returns nil. A set error is returned at once.
func (f *Fake) Watch(ctx context.Context, dup func(net.HardwareAddr)) error {
	id := f.register(dup)
	defer f.unregister(id)
	if err := f.record(OpWatch, nil); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func (f *Fake) register(dup func(net.HardwareAddr)) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextID
	f.nextID++
	f.dups[id] = dup
	return id
}

func (f *Fake) unregister(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.dups, id)
}
