package quorum

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDetectorTimeouts(t *testing.T) {
	fixed := PathSpec{Name: "eth0", Interval: ms(100), Deadtime: ms(500)}
	adaptive := fixed
	adaptive.Floor = ms(200)
	tests := []struct {
		name              string
		spec              PathSpec
		gaps              []time.Duration
		wantSus, wantDown time.Duration
	}{
		{"fixed ignores samples", fixed, []time.Duration{ms(100), ms(100), ms(100), ms(100)}, ms(250), ms(500)},
		{"adaptive needs samples", adaptive, []time.Duration{ms(100), ms(100)}, ms(250), ms(500)},
		{"clean path hits the floor", adaptive, []time.Duration{ms(100), ms(100), ms(100), ms(100)}, ms(150), ms(200)},
		// mean 100ms, sd 50ms: down at 100+6*50 = 400ms, suspect at 255ms.
		{"jitter widens", adaptive, []time.Duration{ms(50), ms(150), ms(50), ms(150)}, ms(255), ms(400)},
		{"ceiling caps", adaptive, []time.Duration{ms(10), ms(400), ms(10), ms(400)}, ms(500), ms(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d detector
			for _, g := range tt.gaps {
				d.add(g)
			}
			sus, down := d.timeouts(tt.spec)
			got := [2]time.Duration{sus.Round(time.Millisecond), down.Round(time.Millisecond)}
			if diff := cmp.Diff([2]time.Duration{tt.wantSus, tt.wantDown}, got); diff != "" {
				t.Errorf("timeouts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLossEstimate(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	// Every other frame on eth0 is lost: 20 frames heard over 40 intervals.
	for i := range 21 {
		mustStep(t, c, heard(time.Duration(2*i)*ms(100), "eth0", uint64(2*i+1), StateRecover))
	}
	got := c.Status().Peers[0].Paths[0].Loss
	if got < 0.45 || got > 0.55 {
		t.Errorf("loss %.2f, want about 0.5", got)
	}
}
