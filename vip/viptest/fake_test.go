package viptest

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/vip"
)

func TestFakeRecordsAndFails(t *testing.T) {
	ctx := context.Background()
	f := New()
	if err := f.Announce(ctx); !errors.Is(err, vip.ErrNotPresent) {
		t.Errorf("Announce before Ensure = %v, want ErrNotPresent", err)
	}
	if err := f.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Announce(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.Present(ctx); !p {
		t.Error("Present after Ensure = false")
	}
	boom := errors.New("boom")
	f.SetErr(OpRelease, boom)
	if err := f.Release(ctx); !errors.Is(err, boom) {
		t.Errorf("Release = %v, want boom", err)
	}
	if !f.IsPresent() {
		t.Error("a failed Release removed the address")
	}
	f.SetErr(OpRelease, nil)
	if err := f.Release(ctx); err != nil {
		t.Fatal(err)
	}
	mac := net.HardwareAddr{2, 0x18, 1, 0, 0, 1}
	f.SetConflict(mac)
	if got, _ := f.Probe(ctx); got.String() != mac.String() {
		t.Errorf("Probe = %v, want %v", got, mac)
	}
	f.SetPresent(true)
	if removed, _ := f.Cleanup(ctx); !removed {
		t.Error("Cleanup of a present address reported nothing removed")
	}
	if removed, _ := f.Cleanup(ctx); removed {
		t.Error("second Cleanup reported a removal")
	}
	want := []Op{OpAnnounce, OpEnsure, OpAnnounce, OpPresent, OpRelease, OpRelease, OpProbe, OpCleanup, OpCleanup}
	if diff := cmp.Diff(want, f.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := f.Count(OpRelease); got != 2 {
		t.Errorf("Count(release) = %d, want 2", got)
	}
	f.Reset()
	if len(f.Calls()) != 0 {
		t.Error("Reset left calls")
	}
}

func TestFakeWatch(t *testing.T) {
	f := New()
	started := make(chan Op, 2)
	f.SetHook(func(op Op) {
		if op == OpWatch {
			started <- op
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	dups := make(chan net.HardwareAddr, 1)
	errc := make(chan error, 2)
	go func() { errc <- f.Watch(ctx, func(m net.HardwareAddr) { dups <- m }) }()
	<-started
	mac := net.HardwareAddr{2, 0x18, 1, 0, 0, 2}
	if n := f.Duplicate(mac); n != 1 {
		t.Errorf("Duplicate reached %d watchers, want 1", n)
	}
	if got := <-dups; got.String() != mac.String() {
		t.Errorf("dup = %v, want %v", got, mac)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Error(err)
	}
	if n := f.Duplicate(mac); n != 0 {
		t.Errorf("Duplicate after the watcher ended reached %d", n)
	}
}

func TestOpString(t *testing.T) {
	for op := OpEnsure; op <= OpWatch; op++ {
		if op.String() == "unknown" {
			t.Errorf("Op(%d) has no name", op)
		}
	}
}
