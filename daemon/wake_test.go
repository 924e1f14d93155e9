package daemon

import (
	"testing"
	"time"
)

// The loop's timer delivers a wake-up for an instant in the past, for one
// in the future, and again for the same instant once the loop took the
// first wake-up (fired); Stop returns.
func TestWakeTimer(t *testing.T) {
	for name, w := range map[string]wakeup{"platform": newWakeTimer(), "runtime": newRuntimeTimer()} {
		t.Run(name, func(t *testing.T) {
			defer w.Stop()
			w.Reset(time.Now().Add(-time.Second))
			<-w.wake()
			w.fired()
			at := time.Now().Add(time.Millisecond)
			w.Reset(at)
			<-w.wake()
			if time.Now().Before(at) {
				t.Errorf("woke before the instant it was armed for")
			}
			w.fired()
			w.Reset(at) // same instant, already past: must fire again
			<-w.wake()
		})
	}
}
