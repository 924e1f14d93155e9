package hwtest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// PathSample is what a measurement says about one heartbeat path, the input
// of Recommend.
type PathSample struct {
	Name   string
	Sent   int
	Lost   int
	P50    time.Duration
	P99    time.Duration
	Jitter time.Duration
	// MinInterval is a floor the medium imposes (a serial line must carry
	// the largest frame within one interval); 0 when none.
	MinInterval time.Duration
}

// Policy holds the targets of a recommendation.
type Policy struct {
	// MaxFalsePerYear is the accepted expected number of false failovers per
	// year caused by lost heartbeats. 1e-6: a cluster should essentially
	// never fail over because of loss alone.
	MaxFalsePerYear float64
	// MinInterval is the smallest interval recommended. 20ms: the daemon's
	// default; shorter heartbeats cost CPU for little gain.
	MinInterval time.Duration
	// MinMisses is the smallest k (missed heartbeats before dead). 3: the
	// daemon requires deadtime > 2 × interval.
	MinMisses int
}

// DefaultPolicy returns the policy hwtest uses unless told otherwise.
func DefaultPolicy() Policy {
	return Policy{MaxFalsePerYear: 1e-6, MinInterval: 20 * time.Millisecond, MinMisses: 3}
}

// Recommendation is a timer proposal derived from measured loss and jitter.
type Recommendation struct {
	Interval time.Duration `json:"interval_ns"`
	Deadtime time.Duration `json:"deadtime_ns"`
	// Misses is k: heartbeats lost in a row on every path before the peer
	// is declared dead.
	Misses int `json:"misses"`
	// Margin is the jitter allowance added to k × interval.
	Margin time.Duration `json:"margin_ns"`
	// LossAll is the probability that one heartbeat is lost on every path at
	// once, from the per-path upper loss bounds, assuming independent paths.
	LossAll float64 `json:"loss_all"`
	// FalsePerYear is the expected number of false failovers per year:
	// heartbeats per year × LossAll^k.
	FalsePerYear float64      `json:"false_failovers_per_year"`
	Paths        []PathAdvice `json:"paths"`
	TOML         string       `json:"toml"`
	Notes        []string     `json:"notes,omitempty"`
}

// PathAdvice is the per-path part of a Recommendation.
type PathAdvice struct {
	Name string `json:"name"`
	// LossBound is the loss probability used: a rough 95 % upper bound,
	// (lost+3)/(sent+3), so that 0 lost of 100 counts as 3 %, not 0.
	LossBound float64 `json:"loss_bound"`
	// MissesAlone is k if this path were the only one left.
	MissesAlone int  `json:"misses_alone"`
	Usable      bool `json:"usable"`
}

const year = 365 * 24 * time.Hour

// intervalSteps are the intervals Recommend chooses from.
func intervalSteps() []time.Duration {
	return []time.Duration{
		20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second,
	}
}

// lossBound is the loss probability Recommend assumes for a path.
func lossBound(sent, lost int) float64 {
	if sent <= 0 {
		return 1
	}
	return math.Min(1, float64(lost+3)/float64(sent+3))
}

// missesFor returns the smallest k ≥ minK with n·p^k ≤ target (n heartbeats a
// year), or 0 when no k up to 10000 reaches it (p == 1).
func missesFor(p, n, target float64, minK int) int {
	if p <= 0 {
		return minK
	}
	if p >= 1 {
		return 0
	}
	k := int(math.Ceil(math.Log(target/n) / math.Log(p)))
	k = max(k, minK)
	if k > 10000 {
		return 0
	}
	return k
}

// Recommend proposes interval and deadtime. The peer is declared dead only
// when every path is silent, so a false failover needs k heartbeats in a row
// lost on every path: with independent paths that happens in one slot with
// probability Π p_i, and over a year of n heartbeats about n·(Π p_i)^k times.
// k is the smallest value that keeps this below the policy target. The
// deadtime adds a jitter margin, max over paths of (p99 − p50) + 4 × jitter,
// rounded up to 10 ms. Paths that lost every probe are left out (and
// reported); with none usable the recommendation is the zero value with a
// note.
func Recommend(paths []PathSample, pol Policy) Recommendation {
	var r Recommendation
	interval := pol.MinInterval
	var margin time.Duration
	pAll := 1.0
	usable := 0
	for _, ps := range paths {
		p := lossBound(ps.Sent, ps.Lost)
		ok := ps.Sent > 0 && ps.Lost < ps.Sent
		r.Paths = append(r.Paths, PathAdvice{Name: ps.Name, LossBound: p, Usable: ok})
		if !ok {
			r.Notes = append(r.Notes, fmt.Sprintf("path %s answered no probe: left out of the recommendation", ps.Name))
			continue
		}
		usable++
		pAll *= p
		interval = max(interval, ps.MinInterval, 5*ps.P99, 10*ps.Jitter)
		margin = max(margin, ps.P99-ps.P50+4*ps.Jitter)
	}
	if usable == 0 {
		r.Notes = append(r.Notes, "no usable path: no recommendation")
		return r
	}
	steps := intervalSteps()
	for _, step := range steps {
		if step >= interval {
			interval = step
			break
		}
	}
	if interval > steps[len(steps)-1] {
		interval = interval.Round(time.Second)
	}
	n := float64(year / interval)
	r.Interval = interval
	r.LossAll = pAll
	r.Misses = missesFor(pAll, n, pol.MaxFalsePerYear, pol.MinMisses)
	r.Margin = roundUp(margin, 10*time.Millisecond)
	r.Deadtime = time.Duration(r.Misses)*interval + r.Margin
	r.FalsePerYear = n * math.Pow(pAll, float64(r.Misses))
	for i := range r.Paths {
		if r.Paths[i].Usable {
			r.Paths[i].MissesAlone = missesFor(r.Paths[i].LossBound, n, pol.MaxFalsePerYear, pol.MinMisses)
		}
	}
	if usable > 1 {
		r.Notes = append(r.Notes, "assumes the paths lose heartbeats independently; paths sharing a switch or a power feed are not independent")
	}
	r.TOML = fmt.Sprintf("[timers]\ninterval = %q\ndeadtime = %q\n", r.Interval, r.Deadtime)
	return r
}

// Assess returns the expected false failovers per year with the given
// timers under the loss r was computed from: k = ⌊(deadtime − margin) /
// interval⌋ heartbeats must be lost in a row on every path. It returns k = 0
// and +Inf when the deadtime does not even cover the margin.
func (r Recommendation) Assess(interval, deadtime time.Duration) (int, float64) {
	if interval <= 0 || r.Interval == 0 {
		return 0, math.Inf(1)
	}
	k := int((deadtime - r.Margin) / interval)
	if k < 1 {
		return 0, math.Inf(1)
	}
	return k, float64(year/interval) * math.Pow(r.LossAll, float64(k))
}

// noteConfigured adds a note comparing the configured timers with r.
func (r *Recommendation) noteConfigured(interval, deadtime time.Duration) {
	if interval <= 0 || deadtime <= 0 || r.Interval == 0 {
		return
	}
	k, rate := r.Assess(interval, deadtime)
	r.Notes = append(r.Notes, fmt.Sprintf("configured interval %s, deadtime %s: k=%d, expected false failovers from loss %.2g per year", interval, deadtime, k, rate))
}

func roundUp(d, to time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + to - 1) / to * to
}

// writeRecommendation renders r for people.
func writeRecommendation(b *strings.Builder, r Recommendation) {
	if r.Interval == 0 {
		fmt.Fprintf(b, "recommendation: none (%s)\n", strings.Join(r.Notes, "; "))
		return
	}
	fmt.Fprintf(b, "recommendation: interval %s, deadtime %s (k=%d missed heartbeats + %s jitter margin)\n",
		r.Interval, r.Deadtime, r.Misses, r.Margin)
	fmt.Fprintf(b, "  P(one heartbeat lost on every path) ≤ %.3g; expected false failovers from loss: %.2g per year\n",
		r.LossAll, r.FalsePerYear)
	for _, p := range r.Paths {
		if p.Usable {
			fmt.Fprintf(b, "  path %s: loss bound %.3g; alone it would need k=%d (deadtime %s)\n",
				p.Name, p.LossBound, p.MissesAlone, time.Duration(p.MissesAlone)*r.Interval+r.Margin)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "  note: %s\n", n)
	}
	b.WriteString("\n" + r.TOML)
}
