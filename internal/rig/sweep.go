package rig

import (
	"fmt"
	"strings"
	"time"
)

// SweepPoint is one timer setting a sweep measures: the heartbeat interval
// and the deadtime (every other timer at failoverd's default, the startup
// listen at 3 x deadtime).
type SweepPoint struct {
	Interval time.Duration `json:"interval"`
	Deadtime time.Duration `json:"deadtime"`
}

func (p SweepPoint) String() string { return p.Interval.String() + "/" + p.Deadtime.String() }

// DefaultSweepPoints are the settings "lab sweep" measures when none are
// given: from the WAN-ish 50/250 ms down to 10/40 ms, with 20/100 ms (the
// lan preset before the sweep) and the neighbours of the chosen default.
func DefaultSweepPoints() []SweepPoint {
	ms := func(i, d int) SweepPoint {
		return SweepPoint{Interval: time.Duration(i) * time.Millisecond, Deadtime: time.Duration(d) * time.Millisecond}
	}
	return []SweepPoint{ms(50, 250), ms(20, 100), ms(20, 80), ms(15, 60), ms(10, 50), ms(10, 40)}
}

// ParseSweepPoints reads "INTERVAL/DEADTIME,..." ("20ms/80ms,15ms/60ms").
// Each must be two positive durations with the deadtime more than twice the
// interval (failoverd refuses less); the error names the item and says what
// is wanted. failoverd's own checks run later, on the generated config.
func ParseSweepPoints(s string) ([]SweepPoint, error) {
	var out []SweepPoint
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		iv, dt, ok := strings.Cut(item, "/")
		if !ok {
			return nil, fmt.Errorf("%q: want INTERVAL/DEADTIME, like 20ms/80ms", item)
		}
		i, err := time.ParseDuration(strings.TrimSpace(iv))
		if err != nil || i <= 0 {
			return nil, fmt.Errorf("%q: interval %q is not a positive duration like 20ms", item, iv)
		}
		d, err := time.ParseDuration(strings.TrimSpace(dt))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q: deadtime %q is not a positive duration like 80ms", item, dt)
		}
		if d <= 2*i {
			return nil, fmt.Errorf("%q: deadtime must be more than 2 x interval (%s)", item, 2*i)
		}
		p := SweepPoint{Interval: i, Deadtime: d}
		for _, q := range out {
			if q == p {
				return nil, fmt.Errorf("%q: given twice", item)
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no points: want INTERVAL/DEADTIME,... like 20ms/80ms,15ms/60ms")
	}
	return out, nil
}

// SweepRow is what one setting gave.
type SweepRow struct {
	Point SweepPoint `json:"point"`
	// Outage is the client-observed outage of the power pulls that were
	// measured; Unmeasured counts those that were not (and why, in
	// Notes).
	Outage     Dist `json:"outage"`
	Unmeasured int  `json:"unmeasured"`
	// CPUms is the idle CPU per daemon (mean of the hosts, ms a second),
	// over the bench's idle window; 0 when not sampled.
	CPUms float64 `json:"idle_cpu_ms_per_s"`
	// The drill's runs and the runs that failed each verdict.
	DrillRuns      int      `json:"drill_runs"`
	FalseFailovers int      `json:"false_failovers"`
	SplitBrains    int      `json:"split_brains"`
	Orphans        int      `json:"orphans"`
	FailedRuns     int      `json:"failed_runs"`
	Failures       []string `json:"failures,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// Clean reports whether the setting had no failed verdict at all.
func (r SweepRow) Clean() bool { return r.FailedRuns == 0 }

// Meets reports whether the setting meets the outage target (p50 and p99
// of the measured power pulls) with no failed verdict.
func (r SweepRow) Meets(p50, p99 time.Duration) bool {
	return r.Clean() && r.Outage.N > 0 && r.Outage.P50 <= p50 && r.Outage.P99 <= p99
}

// SweepReport is a whole sweep.
type SweepReport struct {
	When      time.Time  `json:"when"`
	Machine   string     `json:"machine"`
	Load      []string   `json:"load"` // /proc/loadavg before and after
	Runs      int        `json:"power_pull_runs"`
	Drill     []string   `json:"drill_scenarios"`
	Quick     bool       `json:"quick"`
	Rows      []SweepRow `json:"rows"`
	TargetP50 Millis     `json:"target_p50_ms"`
	TargetP99 Millis     `json:"target_p99_ms"`
}

// Best returns the row the sweep recommends: among the settings with no
// failed verdict that meet the target, the one with the longest interval
// (the least CPU and traffic), then the longest deadtime (the most margin);
// if none meets the target, the clean one with the lowest p50. ok is false
// when no setting was clean.
func (s *SweepReport) Best() (SweepRow, bool) {
	tp50, tp99 := time.Duration(s.TargetP50), time.Duration(s.TargetP99)
	better := func(r, b SweepRow) bool {
		mr, mb := r.Meets(tp50, tp99), b.Meets(tp50, tp99)
		switch {
		case mr != mb:
			return mr
		case !mr:
			return r.Outage.P50 < b.Outage.P50
		case r.Point.Interval != b.Point.Interval:
			return r.Point.Interval > b.Point.Interval
		default:
			return r.Point.Deadtime > b.Point.Deadtime
		}
	}
	var best SweepRow
	found := false
	for _, r := range s.Rows {
		if !r.Clean() || r.Outage.N == 0 {
			continue
		}
		if !found || better(r, best) {
			best, found = r, true
		}
	}
	return best, found
}

// Tradeoff turns the rows into the points of PlotTradeoff.
func (s *SweepReport) Tradeoff() []TradeoffPoint {
	var pts []TradeoffPoint
	for _, r := range s.Rows {
		if r.Outage.N == 0 {
			continue
		}
		pts = append(pts, TradeoffPoint{
			Interval: r.Point.Interval, Deadtime: r.Point.Deadtime,
			OutageP50: r.Outage.P50, OutageP99: r.Outage.P99,
			FalseFailovers: r.FalseFailovers, Runs: r.DrillRuns,
		})
	}
	return pts
}

// Markdown is the sweep as a table, with the recommendation.
func (s *SweepReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Power pull of the owner, %d runs per setting (client-observed outage, UDP probe every %s);\n", s.Runs, ProbeInterval)
	q := ""
	if s.Quick {
		q = " (--quick holds)"
	}
	fmt.Fprintf(&b, "drill over %s%s. %s; load %s.\n\n", strings.Join(s.Drill, ", "), q, s.Machine, strings.Join(s.Load, " → "))
	b.WriteString("| interval / deadtime | p50 | p90 | p99 | max | not measured | idle CPU ms/s | drill runs | false failovers | split brains | orphans | other failed |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range s.Rows {
		o := r.Outage
		cell := func(d time.Duration) string {
			if o.N == 0 {
				return "–"
			}
			return fmt.Sprintf("%d ms", d.Milliseconds())
		}
		other := r.FailedRuns - max(r.FalseFailovers, r.SplitBrains, r.Orphans)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %.1f | %d | %d | %d | %d | %d |\n", r.Point, cell(o.P50), cell(o.P90), cell(o.P99), cell(o.Max),
			r.Unmeasured, r.CPUms, r.DrillRuns, r.FalseFailovers, r.SplitBrains, r.Orphans, max(other, 0))
	}
	if best, ok := s.Best(); ok {
		verdict := "meets"
		if !best.Meets(time.Duration(s.TargetP50), time.Duration(s.TargetP99)) {
			verdict = "does NOT meet"
		}
		fmt.Fprintf(&b, "\nRecommended: %s (p50 %d ms, p99 %d ms, no failed verdict): it %s the target p50 ≤ %s, p99 ≤ %s.\n",
			best.Point, best.Outage.P50.Milliseconds(), best.Outage.P99.Milliseconds(), verdict, s.TargetP50, s.TargetP99)
	} else {
		b.WriteString("\nNo setting passed every verdict.\n")
	}
	for _, r := range s.Rows {
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "- %s: %s\n", r.Point, f)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s: %s\n", r.Point, n)
		}
	}
	return b.String()
}
