package hwtest

import (
	"math"
	"testing"
	"time"
)

func TestRecommend(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	healthy := PathSample{Name: "eth0", Sent: 100, P50: 50 * us, P99: 200 * us, Jitter: 20 * us}
	tests := []struct {
		name         string
		paths        []PathSample
		wantInterval time.Duration
		wantK        int
		wantDead     time.Duration
	}{
		// 0/100 lost → bound 3/103; one path alone: 1.58e9 beats a year at
		// 20ms, k = ceil(log(1e-6/1.58e9)/log(0.0291)) = 10; margin
		// 150µs + 80µs rounds up to 10ms.
		{"one healthy path", []PathSample{healthy}, 20 * ms, 10, 210 * ms},
		// Two such paths: p = 0.0291² → k = 5.
		{"two healthy paths", []PathSample{healthy, {Name: "eth1", Sent: 100, P50: 50 * us, P99: 200 * us, Jitter: 20 * us}}, 20 * ms, 5, 110 * ms},
		// 30 % loss beside a clean path: p = 0.0291 × 33/103 → k = 8.
		{"one lossy path", []PathSample{healthy, {Name: "eth1", Sent: 100, Lost: 30, P50: 50 * us, P99: 300 * us, Jitter: 30 * us}}, 20 * ms, 8, 170 * ms},
		// Slow serial line: the medium's floor sets the interval; margin
		// 10ms + 8ms → 20ms.
		{"serial floor", []PathSample{{Name: "ttyS0", Sent: 100, P50: 20 * ms, P99: 30 * ms, Jitter: 2 * ms, MinInterval: 250 * ms}}, 250 * ms, 10, 2520 * ms},
		// High jitter: 5 × p99 = 300ms → the 500ms step; margin 55 + 60 → 120ms.
		{"jittery", []PathSample{{Name: "eth0", Sent: 1000, P50: 5 * ms, P99: 60 * ms, Jitter: 15 * ms}}, 500 * ms, 6, 3000*ms + 120*ms},
		{"dead path ignored", []PathSample{healthy, {Name: "eth1", Sent: 100, Lost: 100}}, 20 * ms, 10, 210 * ms},
		{"nothing usable", []PathSample{{Name: "eth1", Sent: 100, Lost: 100}}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Recommend(tt.paths, DefaultPolicy())
			if r.Interval != tt.wantInterval || r.Misses != tt.wantK || r.Deadtime != tt.wantDead {
				t.Errorf("interval %s k %d deadtime %s, want %s %d %s", r.Interval, r.Misses, r.Deadtime, tt.wantInterval, tt.wantK, tt.wantDead)
			}
			if r.Interval == 0 {
				return
			}
			if r.FalsePerYear > 1e-6 {
				t.Errorf("false failovers %.3g per year > 1e-6", r.FalsePerYear)
			}
			// k-1 would miss the target: k is the smallest.
			if k := r.Misses - 1; k >= 3 && float64(year/r.Interval)*math.Pow(r.LossAll, float64(k)) <= 1e-6 {
				t.Errorf("k=%d would do", k)
			}
			want := "[timers]\ninterval = \"" + r.Interval.String() + "\"\ndeadtime = \"" + r.Deadtime.String() + "\"\n"
			if r.TOML != want {
				t.Errorf("toml %q, want %q", r.TOML, want)
			}
		})
	}
}

func TestAssess(t *testing.T) {
	ms := time.Millisecond
	r := Recommendation{Interval: 20 * ms, Margin: 10 * ms, LossAll: 0.01}
	tests := []struct {
		interval, deadtime time.Duration
		k                  int
		rate               float64
	}{
		{20 * ms, 100 * ms, 4, float64(year/(20*ms)) * 1e-8},
		{20 * ms, 210 * ms, 10, float64(year/(20*ms)) * 1e-20},
		{200 * ms, 1000 * ms, 4, float64(year/(200*ms)) * 1e-8},
		{20 * ms, 10 * ms, 0, math.Inf(1)},
	}
	for _, tt := range tests {
		k, rate := r.Assess(tt.interval, tt.deadtime)
		if k != tt.k || math.Abs(rate-tt.rate) > 1e-9*tt.rate && !math.IsInf(tt.rate, 1) || math.IsInf(tt.rate, 1) != math.IsInf(rate, 1) {
			t.Errorf("Assess(%s, %s) = %d, %g; want %d, %g", tt.interval, tt.deadtime, k, rate, tt.k, tt.rate)
		}
	}
}
