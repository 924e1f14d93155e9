package rig

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// ReadUsage of this process sees its threads, some CPU, its RSS, and the
// context switches it makes by sleeping.
func TestReadUsage(t *testing.T) {
	a, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // the sleeps below switch this thread out
	for i := 0; i < 20; i++ {
		time.Sleep(time.Millisecond)
	}
	runtime.UnlockOSThread()
	b, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if b.Threads < 1 || b.CPU <= 0 || b.RSS <= 0 {
		t.Errorf("usage %+v: want threads, CPU and RSS", b)
	}
	if b.Voluntary-a.Voluntary < 20 {
		t.Errorf("%d voluntary switches over 20 sleeps, want at least 20", b.Voluntary-a.Voluntary)
	}
	if _, err := ReadUsage(-1); err == nil {
		t.Error("ReadUsage(-1) succeeded")
	}
}

func TestRateOf(t *testing.T) {
	a := Usage{CPU: time.Second, Voluntary: 100, Involuntary: 10}
	b := Usage{CPU: time.Second + 40*time.Millisecond, Voluntary: 500, Involuntary: 50, Threads: 6, RSS: 1 << 20}
	got := RateOf(a, b, 4*time.Second)
	want := Rate{CPUms: 10, Wakeups: 110, Voluntary: 100, Involuntary: 10, Threads: 6, RSS: 1 << 20}
	if got != want {
		t.Errorf("RateOf = %+v, want %+v", got, want)
	}
}
