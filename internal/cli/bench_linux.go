package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/internal/rig"
)

// benchTimerFlag is a timer flag of "lab bench" and the [timers] key it
// sets.
type benchTimerFlag struct{ flag, key, usage string }

// benchTimerFlags are the timer flags of "lab bench".
func benchTimerFlags() []benchTimerFlag {
	return []benchTimerFlag{
		{"interval", "interval", "heartbeat `interval` (failoverd's default when not given)"},
		{"deadtime", "deadtime", "`silence` after which a path is down"},
		{"adaptive-floor", "adaptive_floor", "adaptive detector `floor` (0: fixed deadtime)"},
		{"indoubt-hold", "indoubt_hold", "`wait` in indoubt before claiming"},
		{"startup", "startup", "how `long` a starting daemon listens before claiming"},
		{"damping", "damping", "flap `hold` (0s: off; repeated power pulls count as flaps)"},
		{"preset", "preset", "timers preset `name` (if this failoverd knows presets)"},
	}
}

// benchFlags are the parsed flags of "lab bench".
type benchFlags struct {
	opts      rig.BenchOptions
	scenarios string
	out       string
	failoverd string
	procs     int
	keep      bool
}

// parseBench parses and checks the flags of "lab bench"; every refusal is
// a usage error naming the flag and the valid choices.
func (r *runner) parseBench(c *command, args []string) (*benchFlags, error) {
	fs := r.flags(c)
	bf := &benchFlags{}
	o := &bf.opts
	fs.IntVar(&o.Runs, "runs", 20, "runs of each scenario (1.."+strconv.Itoa(rig.MaxBenchRuns)+")")
	fs.IntVar(&o.Runs, "n", 20, "same as --runs")
	fs.StringVar(&bf.scenarios, "scenario", "all", "comma-separated `list` of "+strings.Join(rig.BenchScenarios(), ", ")+", or all")
	fs.BoolVar(&o.IdleOnly, "idle", false, "measure only the idle cost (no scenarios)")
	fs.DurationVar(&o.IdleWindow, "window", 20*time.Second, "how long to sample the settled, idle daemons first (0: no idle sample)")
	fs.IntVar(&bf.procs, "gomaxprocs", 0, "run the daemons with GOMAXPROCS=`n` (0: failoverd's default)")
	fs.BoolVar(&o.Rig.NoSerial, "no-serial", false, "no serial cable between the hosts (UDP paths only)")
	fs.StringVar(&bf.out, "out", "", "also write the results as Markdown to `file`")
	fs.StringVar(&bf.failoverd, "failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	fs.DurationVar(&o.Timeout, "timeout", 20*time.Second, "bound of every wait")
	fs.BoolVar(&bf.keep, "keep-logs", false, "keep the daemons' logs and configs (their directory is named on stderr)")
	fs.BoolVar(&r.json, "json", r.json, "print the results as JSON")
	timers := map[string]*string{}
	for _, t := range benchTimerFlags() {
		timers[t.flag] = fs.String(t.flag, "", t.usage)
	}
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	const name = "failover lab bench"
	if !o.IdleOnly && (o.Runs < 1 || o.Runs > rig.MaxBenchRuns) {
		flagName := "--runs"
		if set["n"] && !set["runs"] {
			flagName = "-n"
		}
		return nil, usageErrorf("%s: %s %d: want 1..%d runs of each scenario", name, flagName, o.Runs, rig.MaxBenchRuns)
	}
	sc, err := rig.ParseScenarios(bf.scenarios)
	if err != nil {
		return nil, usageErrorf("%s: --scenario: %s", name, strings.TrimPrefix(err.Error(), rig.ErrBenchOptions.Error()+": "))
	}
	o.Scenarios = sc
	switch {
	case o.IdleWindow < 0 || (o.IdleWindow > 0 && o.IdleWindow < time.Second):
		return nil, usageErrorf("%s: --window %s: want 0 (no idle sample) or at least 1s", name, o.IdleWindow)
	case o.IdleOnly && o.IdleWindow == 0:
		return nil, usageErrorf("%s: --idle with --window 0 measures nothing: give a window of at least 1s", name)
	case bf.procs < 0:
		return nil, usageErrorf("%s: --gomaxprocs %d: want 0 (failoverd's default) or more", name, bf.procs)
	case o.Timeout <= 0:
		return nil, usageErrorf("%s: --timeout %s: want a positive duration", name, o.Timeout)
	}
	if bf.procs > 0 {
		o.Rig.Env = append(o.Rig.Env, "GOMAXPROCS="+strconv.Itoa(bf.procs))
	}
	for _, t := range benchTimerFlags() {
		if !set[t.flag] {
			continue
		}
		v := strings.TrimSpace(*timers[t.flag])
		if t.flag != "preset" {
			if _, err := time.ParseDuration(v); err != nil {
				return nil, usageErrorf("%s: --%s %q is not a duration (write it like 20ms or 1.5s)", name, t.flag, v)
			}
		}
		if o.Rig.TimerKeys == nil {
			o.Rig.TimerKeys = map[string]string{}
		}
		o.Rig.TimerKeys[t.key] = v
	}
	if err := o.Check(); err != nil {
		return nil, usageErrorf("%s: %s", name, timerRefusal(err, set, timers))
	}
	return bf, nil
}

// timerRefusal says which timer flag made the config failoverd refuses:
// one line per problem, naming the flag (or the default to override) and
// the key.
func timerRefusal(err error, set map[string]bool, values map[string]*string) string {
	var lines []string
	for _, p := range problemsIn(err) {
		key := strings.TrimPrefix(p.Key, "timers.")
		who := p.Key
		for _, t := range benchTimerFlags() {
			if t.key != key {
				continue
			}
			if set[t.flag] {
				who = fmt.Sprintf("--%s %s (%s)", t.flag, *values[t.flag], p.Key)
			} else {
				who = fmt.Sprintf("%s (failoverd's default; set it with --%s)", p.Key, t.flag)
			}
		}
		lines = append(lines, who+": "+p.What)
	}
	if len(lines) == 0 {
		return strings.TrimPrefix(err.Error(), rig.ErrBenchOptions.Error()+": ")
	}
	return "the timers are refused by failoverd's config check: " + strings.Join(lines, "; ")
}

// problemsIn are the *config.Problem values anywhere in err's tree.
func problemsIn(err error) []*config.Problem {
	if p, ok := err.(*config.Problem); ok {
		return []*config.Problem{p}
	}
	var out []*config.Problem
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, problemsIn(e)...)
		}
	case interface{ Unwrap() error }:
		out = problemsIn(u.Unwrap())
	}
	return out
}

func labBench(ctx context.Context, r *runner, c *command, args []string) error {
	bf, err := r.parseBench(c, args)
	if err != nil {
		return err
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-bench-")
	if err != nil {
		return fmt.Errorf("failover lab bench: %w", err)
	}
	defer func() {
		if bf.keep {
			fmt.Fprintf(r.env.Stderr, "logs and configs kept in %s\n", filepath.Join(tmp, "rack"))
			return
		}
		os.RemoveAll(tmp)
	}()
	bin, err := r.measuringFailoverd(ctx, bf.failoverd, tmp)
	if err != nil {
		return err
	}
	o := bf.opts
	o.Rig.Failoverd, o.Rig.Dir, o.Rig.Logf = bin, filepath.Join(tmp, "rack"), r.narrate
	o.Progress = r.narrate
	res, err := rig.RunBench(ctx, o)
	if res == nil {
		if errors.Is(err, rig.ErrBenchOptions) {
			return usageErrorf("failover lab bench: %v", err)
		}
		return err
	}
	if err != nil {
		r.narrate("stopped early: the results below are what was measured until then")
	}
	if r.json {
		if perr := r.printJSON(res); perr != nil {
			return perr
		}
	} else {
		fmt.Fprint(r.env.Stdout, res.Text())
	}
	if bf.out != "" {
		cmd := "sudo failover lab " + strings.Join(append([]string{c.name[len("lab "):]}, args...), " ")
		if werr := os.WriteFile(bf.out, []byte(res.Markdown(cmd)), 0o644); werr != nil {
			return fmt.Errorf("failover lab bench: --out: %w", werr)
		}
		r.narrate("wrote %s", bf.out)
	}
	return err
}
