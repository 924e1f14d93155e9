package quorum

import (
	"math"
	"slices"
	"time"
)

// window is how many inter-arrival samples the adaptive detector keeps.
const window = 32

// minSamples is how many samples the adaptive detector needs before it
// trusts its estimate; until then the fixed deadtime applies.
const minSamples = 4

// Phi accrual, reduced to two thresholds. With arrivals modelled as normal
// with mean m and deviation s, phi(t) = -log10(1 - F(t)); phi 3 (suspect)
// and phi 9 (down) are reached at about m + 3.1s and m + 6s.
const (
	zSuspect = 3.1
	zDown    = 6.0
)

// detector estimates the inter-arrival distribution of one path.
type detector struct {
	samples [window]time.Duration
	n, next int
	typical time.Duration // median gap once minSamples are in: the interval the sender uses
}

func (d *detector) add(gap time.Duration) {
	d.samples[d.next] = gap
	d.next = (d.next + 1) % window
	if d.n < window {
		d.n++
	}
	if d.n >= minSamples {
		s := d.samples // a copy
		sorted := s[:d.n]
		slices.Sort(sorted)
		d.typical = sorted[d.n/2]
	}
}

func (d *detector) reset() { *d = detector{} }

// timeouts returns after how long without a frame the path is suspect and
// down. Floor 0 means a fixed deadtime: suspect at half (but not before one
// and a half intervals, so a slow serial path does not turn suspect between
// two regular frames), down at Deadtime. The interval is the one the sender
// actually uses (the median gap), if that is longer than the configured
// one: a sender whose frames come just past our threshold would otherwise
// make the path hover between up and suspect at every frame.
func (d *detector) timeouts(spec PathSpec) (suspect, down time.Duration) {
	iv := max(spec.Interval, d.typical)
	if spec.Floor <= 0 || d.n < minSamples {
		return clamp(spec.Deadtime/2, iv*3/2, spec.Deadtime), spec.Deadtime
	}
	var sum float64
	for i := 0; i < d.n; i++ {
		sum += float64(d.samples[i])
	}
	mean := sum / float64(d.n)
	var sq float64
	for i := 0; i < d.n; i++ {
		x := float64(d.samples[i]) - mean
		sq += x * x
	}
	sd := math.Sqrt(sq / float64(d.n))
	// A perfectly regular path would give sd 0 and a hair trigger; assume
	// at least a tenth of the mean of scheduling noise.
	sd = math.Max(sd, mean/10)
	down = clamp(time.Duration(mean+zDown*sd), spec.Floor, spec.Deadtime)
	// Never suspect a path before one and a half intervals of silence.
	suspect = clamp(time.Duration(mean+zSuspect*sd), max(down/2, iv*3/2), down)
	return suspect, down
}

// clamp bounds v to lo..hi; hi wins if lo > hi (suspect never after down).
func clamp(v, lo, hi time.Duration) time.Duration {
	return min(hi, max(lo, v))
}
