package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

func labSweep(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	points := fs.String("points", "", "comma-separated INTERVAL/DEADTIME `settings` (default "+strings.Join(sweepPointsText(rig.DefaultSweepPoints()), ", ")+")")
	runs := fs.Int("runs", 20, "power pulls per setting (1.."+fmt.Sprint(rig.MaxBenchRuns)+")")
	drill := fs.String("drill", "", "comma-separated drill `scenarios` per setting (default: every scenario in which the owner stays healthy, and power-pull and kill-owner; \"none\" for no drill)")
	drillRuns := fs.Int("drill-runs", 1, "runs of each drill scenario per setting")
	quick := fs.Bool("quick", true, "short drill holds (cpu-hog 5s, other faults 1s)")
	idle := fs.Duration("idle", 5*time.Second, "idle window sampled before the power pulls at each setting (0: none)")
	p50 := fs.Duration("target-p50", 100*time.Millisecond, "the power-pull p50 the recommendation must meet")
	p99 := fs.Duration("target-p99", 150*time.Millisecond, "the power-pull p99 the recommendation must meet")
	out := fs.String("out", "", "also write the table as Markdown to `file`")
	plot := fs.String("plot", "", "write the trade-off plot (PNG) to `file`")
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	from := fs.String("from", "", "print and plot an earlier --json report from `file` instead of measuring")
	fs.BoolVar(&r.json, "json", r.json, "print the report as JSON")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			return fmt.Errorf("failover lab sweep: %w", err)
		}
		var rep rig.SweepReport
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("failover lab sweep: %s: not a sweep report (--json): %w", *from, err)
		}
		if len(rep.Rows) == 0 {
			return fmt.Errorf("failover lab sweep: %s: the report has no rows", *from)
		}
		return r.sweepOutput(&rep, *out, *plot, nil)
	}
	o := rig.SweepOptions{Runs: *runs, IdleWindow: *idle, DrillRuns: *drillRuns, Quick: *quick, TargetP50: *p50, TargetP99: *p99}
	var err error
	o.Points = rig.DefaultSweepPoints()
	if *points != "" {
		if o.Points, err = rig.ParseSweepPoints(*points); err != nil {
			return usageErrorf("failover lab sweep: --points: %v", err)
		}
	}
	switch *drill {
	case "":
		o.Drill = rig.DefaultSweepDrill()
	case "none":
		o.DrillRuns = 0
	default:
		for _, n := range strings.Split(*drill, ",") {
			o.Drill = append(o.Drill, strings.TrimSpace(n))
		}
		if _, err := rig.SelectScenarios(o.Drill); err != nil {
			return usageErrorf("failover lab sweep: --drill: %v", err)
		}
	}
	if *runs < 1 || *runs > rig.MaxBenchRuns {
		return usageErrorf("failover lab sweep: --runs %d: want 1..%d", *runs, rig.MaxBenchRuns)
	}
	if *drillRuns < 0 || *drillRuns > rig.MaxDrillRuns {
		return usageErrorf("failover lab sweep: --drill-runs %d: want 0..%d", *drillRuns, rig.MaxDrillRuns)
	}
	if *idle < 0 {
		return usageErrorf("failover lab sweep: --idle %s: want 0 or more", *idle)
	}
	o.Rig.Failoverd = "failoverd" // checked, not run
	if err := o.Check(); err != nil {
		return usageErrorf("failover lab sweep: %v", err)
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-sweep-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.Rig.Failoverd, err = r.measuringFailoverd(ctx, *failoverd, tmp); err != nil {
		return err
	}
	o.Rig.Dir = filepath.Join(tmp, "rack")
	o.Progress = r.narrate
	rep, err := rig.RunSweep(ctx, o)
	if err != nil && rep == nil {
		return err
	}
	return r.sweepOutput(rep, *out, *plot, err)
}

// sweepOutput prints rep (table or JSON), writes the Markdown to out and
// the plot to plot when set, and returns runErr (what stopped the sweep
// early, if anything) after them.
func (r *runner) sweepOutput(rep *rig.SweepReport, out, plot string, runErr error) error {
	text := rep.Markdown()
	if r.json {
		if err := r.printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(r.env.Stdout, text)
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			return fmt.Errorf("failover lab sweep: %w", err)
		}
		fmt.Fprintf(r.env.Stderr, "wrote %s\n", out)
	}
	if plot != "" {
		title := fmt.Sprintf("power pull outage per setting (%d runs each), false failovers in the drill", rep.Runs)
		if err := rig.PlotTradeoff(rep.Tradeoff(), title, plot); err != nil {
			return fmt.Errorf("failover lab sweep: %w", err)
		}
		fmt.Fprintf(r.env.Stderr, "wrote %s\n", plot)
	}
	return runErr
}

func sweepPointsText(ps []rig.SweepPoint) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return s
}
