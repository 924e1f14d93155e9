package rig

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// SweepOptions say what RunSweep measures.
type SweepOptions struct {
	// Rig is the cluster as for RunBench and RunDrill (Failoverd
	// required); Interval and Deadtime are set per point.
	Rig Options
	// Points are the settings, measured in order.
	Points []SweepPoint
	// Runs of the power pull per point (RunBench).
	Runs int
	// IdleWindow samples the idle daemons first at each point (0: not).
	IdleWindow time.Duration
	// Drill are the drill's scenarios run at each point, DrillRuns times
	// each (Quick: short holds).
	Drill     []string
	DrillRuns int
	Quick     bool
	// Target is the outage the recommendation must meet.
	TargetP50, TargetP99 time.Duration
	// Progress narrates (nil: silent).
	Progress func(format string, args ...any)
}

// DefaultSweepDrill is the drill of each sweep point: every scenario in
// which the owner stays healthy (where a false failover can happen), and
// the power pull and kill of the owner (where an orphan or a split brain
// can).
func DefaultSweepDrill() []string {
	var out []string
	for _, s := range DrillScenarios() {
		if s.OwnerHealthy || s.Name == "power-pull" || s.Name == "kill-owner" {
			out = append(out, s.Name)
		}
	}
	return out
}

// Check reports options RunSweep would refuse, naming what is wrong; it
// checks every point's timers as failoverd checks its config.
func (o SweepOptions) Check() error {
	var errs []error
	if len(o.Points) == 0 {
		errs = append(errs, errors.New("no points"))
	}
	if o.DrillRuns < 0 || o.DrillRuns > MaxDrillRuns {
		errs = append(errs, fmt.Errorf("drill runs %d: want 0..%d", o.DrillRuns, MaxDrillRuns))
	}
	if _, err := SelectScenarios(o.Drill); err != nil && len(o.Drill) > 0 {
		errs = append(errs, err)
	}
	for _, p := range o.Points {
		bo := o.bench(p)
		if err := bo.Check(); err != nil {
			errs = append(errs, fmt.Errorf("point %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func (o SweepOptions) rig(p SweepPoint) Options {
	ro := o.Rig
	ro.Interval, ro.Deadtime = p.Interval, p.Deadtime
	return ro
}

func (o SweepOptions) bench(p SweepPoint) BenchOptions {
	return BenchOptions{Rig: o.rig(p), Scenarios: []string{ScenarioPowerPull}, Runs: o.Runs, IdleWindow: o.IdleWindow, Progress: o.Progress}
}

// RunSweep measures every point: the power pull's outage (RunBench, with
// the idle cost first) and the drill's verdicts (RunDrill) under the same
// timers. A point that could not be measured at all is reported in its
// row's notes; the sweep goes on.
func RunSweep(ctx context.Context, o SweepOptions) (*SweepReport, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	say := o.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	rep := &SweepReport{When: time.Now().UTC(), Machine: fmt.Sprintf("%s, %d CPUs, Linux %s", CPUModel(), runtime.NumCPU(), Kernel()), Load: []string{LoadAvg()},
		Runs: o.Runs, Drill: o.Drill, Quick: o.Quick, TargetP50: Millis(o.TargetP50), TargetP99: Millis(o.TargetP99)}
	for i, p := range o.Points {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		say("sweep point %d/%d: interval %s, deadtime %s: power pull x %d", i+1, len(o.Points), p.Interval, p.Deadtime, o.Runs)
		row := SweepRow{Point: p}
		br, err := RunBench(ctx, o.bench(p))
		if err != nil {
			row.Notes = append(row.Notes, "bench: "+err.Error())
		} else {
			for _, sc := range br.Scenarios {
				if sc.Name != ScenarioPowerPull {
					continue
				}
				row.Outage, row.Unmeasured = sc.Outage, sc.Unmeasured
				for _, r := range sc.Runs {
					if !r.Measured {
						row.Notes = append(row.Notes, fmt.Sprintf("power pull run %d not measured: %s", r.Run, r.Reason))
					}
				}
			}
			if br.Idle != nil && len(br.Idle.Hosts) > 0 {
				var sum float64
				for _, h := range br.Idle.Hosts {
					sum += h.CPUms
				}
				row.CPUms = sum / float64(len(br.Idle.Hosts))
			}
		}
		if len(o.Drill) > 0 && o.DrillRuns > 0 {
			say("sweep point %d/%d: interval %s, deadtime %s: drill (%d scenarios x %d)", i+1, len(o.Points), p.Interval, p.Deadtime, len(o.Drill), o.DrillRuns)
			dr, err := RunDrill(ctx, DrillOptions{Rig: o.rig(p), Scenarios: o.Drill, Runs: o.DrillRuns, Quick: o.Quick,
				Progress: func(msg string) { say("%s", msg) }})
			if err != nil {
				row.Notes = append(row.Notes, "drill: "+err.Error())
			}
			if dr != nil {
				for _, sc := range dr.Scenarios {
					row.DrillRuns += len(sc.Runs)
				}
				row.FalseFailovers, row.SplitBrains, row.Orphans, row.FailedRuns = dr.FalseFailovers, dr.SplitBrains, dr.Orphans, dr.FailedRuns
				row.Failures = dr.Failures()
			}
		}
		say("sweep point %s: power pull p50 %s p99 %s (%d measured), %d of %d drill runs failed (%d false failovers)",
			p, row.Outage.P50, row.Outage.P99, row.Outage.N, row.FailedRuns, row.DrillRuns, row.FalseFailovers)
		rep.Rows = append(rep.Rows, row)
	}
	rep.Load = append(rep.Load, LoadAvg())
	return rep, nil
}
