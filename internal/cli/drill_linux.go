package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// timerFlag is one timer override of "lab drill": the flag and the config
// key it sets.
type timerFlag struct {
	flag, key string
	dst       *time.Duration
}

func labDrill(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	runs := fs.Int("runs", 1, "runs of each scenario (1.."+fmt.Sprint(rig.MaxDrillRuns)+")")
	scen := fs.String("scenario", "", "comma-separated `names` of the scenarios to run (default all; --list shows them)")
	list := fs.Bool("list", false, "list the scenarios and exit")
	quick := fs.Bool("quick", false, "short holds (CI): cpu-hog 5s, flapping 4s, other faults 1s")
	out := fs.String("out", "", "also write the summary as Markdown to `file`")
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	timeout := fs.Duration("timeout", 0, "bound of every wait for the cluster to settle (default 30s + damping + carrier settle)")
	keep := fs.String("keep", "", "keep every run's configs and daemon logs in `dir`/SCENARIO-RUN (failed runs are kept anyway)")
	fs.BoolVar(&r.json, "json", r.json, "print the report as JSON")
	var ro rig.Options
	timers := []timerFlag{
		{"interval", "timers.interval", &ro.Interval},
		{"deadtime", "timers.deadtime", &ro.Deadtime},
		{"startup", "timers.startup", &ro.Startup},
		{"indoubt-hold", "timers.indoubt_hold", &ro.IndoubtHold},
		{"damping", "timers.damping", &ro.Damping},
		{"carrier-settle", "timers.carrier_settle", &ro.CarrierSettle},
		{"lifetime", "service.lifetime", &ro.Lifetime},
		{"probe-window", "service.probe_window", &ro.ProbeWindow},
	}
	for _, t := range timers {
		fs.DurationVar(t.dst, t.flag, 0, "sets "+t.key+" in every host's config (default: failoverd's)")
	}
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *list {
		return printScenarios(r)
	}
	if *runs < 1 || *runs > rig.MaxDrillRuns {
		return usageErrorf("failover lab drill: --runs %d: want 1..%d", *runs, rig.MaxDrillRuns)
	}
	var names []string
	if *scen != "" {
		for _, n := range strings.Split(*scen, ",") {
			names = append(names, strings.TrimSpace(n))
		}
	}
	if _, err := rig.SelectScenarios(names); err != nil {
		return usageErrorf("failover lab drill: --scenario: %v", err)
	}
	for _, t := range timers {
		if *t.dst < 0 {
			return usageErrorf("failover lab drill: --%s %s: a timer cannot be negative", t.flag, *t.dst)
		}
	}
	if *timeout < 0 {
		return usageErrorf("failover lab drill: --timeout %s: cannot be negative", *timeout)
	}
	if _, _, err := rig.DrillTimers(ro); err != nil {
		var flags []string
		for _, t := range timers {
			flags = append(flags, "--"+t.flag+" sets "+t.key)
		}
		return usageErrorf("failover lab drill: the timers are refused by failoverd's config validation: %v\n(%s)", err, strings.Join(flags, ", "))
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-drill-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := r.measuringFailoverd(ctx, *failoverd, tmp)
	if err != nil {
		return err
	}
	ro.Failoverd = bin
	progress := func(msg string) { r.narrate("%s", msg) }
	rep, runErr := rig.RunDrill(ctx, rig.DrillOptions{
		Rig: ro, Scenarios: names, Runs: *runs, Quick: *quick, Timeout: *timeout, KeepDir: *keep, Progress: progress,
	})
	if rep == nil {
		return runErr
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("failover lab drill: --out: %w", err)
		}
		writeDrillMarkdown(f, rep)
		if err := f.Close(); err != nil {
			return fmt.Errorf("failover lab drill: --out: %w", err)
		}
	}
	if r.json {
		if err := r.printJSON(rep); err != nil {
			return err
		}
	} else {
		writeDrillTable(r.env.Stdout, rep)
	}
	if runErr != nil {
		return runErr
	}
	if rep.Failed() {
		return silentExit(ExitFailure)
	}
	return nil
}

func printScenarios(r *runner) error {
	if r.json {
		return r.printJSON(rig.DrillScenarios())
	}
	tw := tabwriter.NewWriter(r.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tOWNER HEALTHY\tMOVES ALLOWED\tWHAT")
	for _, s := range rig.DrillScenarios() {
		fmt.Fprintf(tw, "%s\t%v\t%d\t%s\n", s.Name, s.OwnerHealthy, s.MaxMoves, s.Description)
	}
	return tw.Flush()
}

// drillRow is one scenario's line of the summary.
type drillRow struct {
	name, runs, split, ff, orphan, moves, gap, verdict string
}

func drillRows(rep *rig.DrillReport) []drillRow {
	var rows []drillRow
	for _, s := range rep.Scenarios {
		n := len(s.Runs)
		maxMoves, maxGap := 0, time.Duration(0)
		for _, run := range s.Runs {
			maxMoves = max(maxMoves, run.Moves)
			maxGap = max(maxGap, time.Duration(run.LongestGap))
		}
		frac := func(v string) string { return fmt.Sprintf("%d/%d", s.Count(v), n) }
		row := drillRow{
			name: s.Scenario.Name, runs: fmt.Sprint(n),
			split: frac(rig.VerdictSplitBrain), ff: frac(rig.VerdictFalseFailover), orphan: frac(rig.VerdictOrphan),
			moves:   fmt.Sprintf("%d (≤%d)", maxMoves, s.Scenario.MaxMoves),
			gap:     fmt.Sprintf("%d ms", maxGap.Milliseconds()),
			verdict: "PASS",
		}
		if !s.Scenario.OwnerHealthy {
			row.ff = "n/a"
		}
		if s.Failed() {
			row.verdict = "FAIL"
		}
		rows = append(rows, row)
	}
	return rows
}

func writeDrillTable(w io.Writer, rep *rig.DrillReport) {
	fmt.Fprintf(w, "drill: detection window %d ms (timers: %s); load %s → %s; took %.0fs\n\n",
		time.Duration(rep.Window).Milliseconds(), timerLine(rep), rep.Load[0], rep.Load[len(rep.Load)-1], time.Duration(rep.Took).Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRUNS\tSPLIT-BRAIN\tFALSE FAILOVER\tORPHAN\tMOVES (MAX)\tLONGEST GAP (MAX)\tVERDICT")
	for _, row := range drillRows(rep) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.name, row.runs, row.split, row.ff, row.orphan, row.moves, row.gap, row.verdict)
	}
	tw.Flush()
	writeFailures(w, rep, "")
}

func writeDrillMarkdown(w io.Writer, rep *rig.DrillReport) {
	fmt.Fprintf(w, "Drill of %s: detection window %d ms (timers: %s); load %s → %s; took %.0fs.\n\n",
		rep.Started, time.Duration(rep.Window).Milliseconds(), timerLine(rep), rep.Load[0], rep.Load[len(rep.Load)-1], time.Duration(rep.Took).Seconds())
	fmt.Fprintln(w, "| scenario | runs | split-brain | false failover | orphan | moves (max) | longest gap (max) | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, row := range drillRows(rep) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.name, row.runs, row.split, row.ff, row.orphan, row.moves, row.gap, row.verdict)
	}
	writeFailures(w, rep, "- ")
}

func writeFailures(w io.Writer, rep *rig.DrillReport, bullet string) {
	f := rep.Failures()
	if len(f) == 0 {
		fmt.Fprintf(w, "\nevery verdict passed (%d split brains, %d false failovers, %d orphans)\n", rep.SplitBrains, rep.FalseFailovers, rep.Orphans)
		return
	}
	fmt.Fprintf(w, "\n%d failed runs (%d split brains, %d false failovers, %d orphans):\n", rep.FailedRuns, rep.SplitBrains, rep.FalseFailovers, rep.Orphans)
	for _, l := range f {
		fmt.Fprintf(w, "%s%s\n", bullet, l)
	}
}

func timerLine(rep *rig.DrillReport) string {
	var parts []string
	for _, k := range []string{"interval", "deadtime", "indoubt_hold", "probe_window", "lifetime", "damping", "carrier_settle"} {
		parts = append(parts, k+" "+rep.Timers[k])
	}
	return strings.Join(parts, ", ")
}
