package rig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/config"
)

// BenchOptions say what RunBench measures.
type BenchOptions struct {
	// Rig is the cluster: Failoverd (required), timers (Interval,
	// Deadtime, Startup, TimerKeys), Env ("GOMAXPROCS=1"), NoSerial, Dir,
	// Logf. Hosts and Services must be left zero: the bench runs two hosts,
	// h1 (priority 2) and h2 (priority 1), and the service "web" on
	// DefaultVIP. LogJSON is set by RunBench (the stages come from the
	// logs).
	Rig Options
	// Scenarios to run (BenchScenarios names, run in that order); empty
	// means all.
	Scenarios []string
	// Runs of each scenario, 1..MaxBenchRuns.
	Runs int
	// IdleWindow, when positive, first samples the settled, idle daemons
	// this long (BenchResult.Idle).
	IdleWindow time.Duration
	// IdleOnly takes only the idle sample (IdleWindow must be positive);
	// Scenarios and Runs are ignored.
	IdleOnly bool
	// Timeout bounds every wait (for the takeover, for the cluster to
	// settle again); 20s when zero.
	Timeout time.Duration
	// Progress narrates: what is being waited for, and one line per run
	// with its figures. Nil is silent.
	Progress func(format string, args ...any)
}

// Check reports options RunBench would refuse, naming the option (or the
// config key) and the valid choices; the error wraps ErrBenchOptions. It
// builds nothing and needs no privileges.
func (o BenchOptions) Check() error {
	var errs []error
	if o.IdleOnly {
		o.Scenarios, o.Runs = nil, 1
		if o.IdleWindow <= 0 {
			errs = append(errs, fmt.Errorf("idle only with an idle window of %s: want a positive window", o.IdleWindow))
		}
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(BenchScenarios(), s) {
			errs = append(errs, fmt.Errorf("unknown scenario %q: want one or more of %s", s, strings.Join(BenchScenarios(), ", ")))
		}
	}
	if o.Runs < 1 || o.Runs > MaxBenchRuns {
		errs = append(errs, fmt.Errorf("runs %d: want 1..%d", o.Runs, MaxBenchRuns))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s: want a positive duration (0: 20s)", o.Timeout))
	}
	if o.IdleWindow < 0 {
		errs = append(errs, fmt.Errorf("idle window %s: want 0 (none) or more", o.IdleWindow))
	}
	if o.Rig.Hosts != 0 && o.Rig.Hosts != 2 {
		errs = append(errs, fmt.Errorf("hosts %d: the bench runs 2 hosts (leave Rig.Hosts zero)", o.Rig.Hosts))
	}
	if len(o.Rig.Services) != 0 {
		errs = append(errs, errors.New("services: the bench runs its own service \"web\" (leave Rig.Services empty)"))
	}
	if len(errs) == 0 {
		ro := o.Rig
		if ro.Failoverd == "" {
			ro.Failoverd = "failoverd" // not run here: only the config is checked
		}
		if _, err := parseGenerated(ro); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBenchOptions, errors.Join(errs...))
	}
	return nil
}

// BenchResult is what RunBench measured.
type BenchResult struct {
	When       time.Time         `json:"when"`
	Machine    string            `json:"machine"`
	CPUs       int               `json:"cpus"`
	Kernel     string            `json:"kernel"`
	Go         string            `json:"go"`
	GOMAXPROCS int               `json:"gomaxprocs"` // the daemons' GOMAXPROCS (0: unset, failoverd's default)
	Serial     bool              `json:"serial"`
	Timers     map[string]string `json:"timers"`     // the daemons' effective timers, and every TimerKeys key given
	LoadStart  string            `json:"load_start"` // /proc/loadavg when the cluster had settled
	LoadEnd    string            `json:"load_end"`   // and after the last run
	Runs       int               `json:"runs"`       // asked per scenario
	Idle       *IdleSample       `json:"idle,omitempty"`
	Scenarios  []ScenarioResult  `json:"scenarios"`
}

// ScenarioResult is one scenario over all its runs.
type ScenarioResult struct {
	Name string `json:"name"`
	// What happens, in one line.
	What string `json:"what"`
	// Detection says which log line ends the detection stage here.
	Detection string `json:"detection"`
	// Measured and Unmeasured count the runs; an unmeasured run says why
	// in its Reason and is left out of every Dist.
	Measured   int `json:"measured"`
	Unmeasured int `json:"unmeasured"`
	// Outage is the client-observed outage of the measured runs (UDP
	// probes); OutageICMP the same seen by ICMP echo, over the runs in
	// which the new owner answered a ping.
	Outage     Dist `json:"outage"`
	OutageICMP Dist `json:"outage_icmp"`
	// Stages are the offsets from t0 of each stage found in the measured
	// runs, in stage order; a stage found in no run is left out.
	Stages []StageDist `json:"stages"`
	Runs   []BenchRun  `json:"runs"`
}

// StageDist is one stage's distribution.
type StageDist struct {
	Stage string `json:"stage"`
	Dist  Dist   `json:"dist"`
}

// Stage returns the distribution of stage (ok false if it was not found).
func (s *ScenarioResult) Stage(stage string) (Dist, bool) {
	for _, sd := range s.Stages {
		if sd.Stage == stage {
			return sd.Dist, true
		}
	}
	return Dist{}, false
}

// BenchRun is one run of a scenario. In JSON the durations are
// milliseconds, and a run not measured has no outage or stages.
type BenchRun struct {
	Run      int
	Measured bool
	Reason   string // why it was not measured
	// Outage is the longest stretch the client went without an answer
	// after t0: from the last answered probe before the gap to the first
	// one after it, minus one probe interval (0: no probe lost). Lost
	// counts the unanswered probes; Before and After are the hosts that
	// answered around the gap.
	Outage        time.Duration
	Lost          int
	Before, After string
	// ICMP is true when a ping to the VIP was answered after t0;
	// OutageICMP is then the longest gap between echo replies, measured
	// the same way.
	ICMP       bool
	OutageICMP time.Duration
	// Stages are the offsets from t0 of the stages found; Missing names
	// the logged stages whose line was not found.
	Stages  map[string]time.Duration
	Missing []string
}

// MarshalJSON writes the run with its durations in milliseconds.
func (r BenchRun) MarshalJSON() ([]byte, error) {
	j := struct {
		Run      int                `json:"run"`
		Measured bool               `json:"measured"`
		Reason   string             `json:"reason,omitempty"`
		Outage   *float64           `json:"outage_ms,omitempty"`
		ICMP     *float64           `json:"outage_icmp_ms,omitempty"`
		Lost     *int               `json:"lost,omitempty"`
		Before   string             `json:"answered_before,omitempty"`
		After    string             `json:"answered_after,omitempty"`
		Stages   map[string]float64 `json:"stages_ms,omitempty"`
		Missing  []string           `json:"missing_stages,omitempty"`
	}{Run: r.Run, Measured: r.Measured, Reason: r.Reason}
	if r.Measured {
		ms, lost := Ms(r.Outage), r.Lost
		j.Outage, j.Lost, j.Before, j.After, j.Missing = &ms, &lost, r.Before, r.After, r.Missing
		if r.ICMP {
			icmp := Ms(r.OutageICMP)
			j.ICMP = &icmp
		}
		j.Stages = map[string]float64{}
		for st, d := range r.Stages {
			j.Stages[st] = Ms(d)
		}
	}
	return json.Marshal(j)
}

// maxStuck is how many waits for the cluster to settle may time out in a
// row before RunBench gives up.
const maxStuck = 3

// timeoutError is a wait that ran out of time: the cluster did not reach
// the state awaited (it may later).
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }

// bench is one RunBench.
type bench struct {
	o   BenchOptions
	rg  *Rig
	say func(format string, args ...any)
	// damping is the daemons' flap hold: a path held down is released
	// only after this long without another loss.
	damping time.Duration
	// stuck counts the runs in a row that ended in a timed-out wait.
	stuck int
}

// the service, its usual owner and the backup.
const (
	benchSvc    = "web"
	benchMaster = "h1"
	benchBackup = "h2"
)

// RunBench builds a two-host cluster with real failoverd processes and runs
// each scenario o.Runs times. A run measures the outage the client (a UDP
// probe to the VIP every ProbeInterval) saw after the fault, and the stages
// of the takeover from the daemons' JSON logs and the probes (StageMarks,
// Stages). A run whose new owner never answered the client within the
// timeout, or after which the cluster did not settle, is recorded as not
// measured with the reason. If the cluster cannot be put back after a run,
// RunBench stops and returns what it measured so far with the error.
func RunBench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	switch {
	case o.IdleOnly:
		o.Scenarios = nil
	case len(o.Scenarios) == 0:
		o.Scenarios = BenchScenarios()
	default: // BenchScenarios order, once each
		o.Scenarios = slices.DeleteFunc(BenchScenarios(), func(n string) bool { return !slices.Contains(o.Scenarios, n) })
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	say := o.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	ro := o.Rig
	ro.Hosts, ro.LogJSON, ro.ICMP = 2, true, true
	cfg, err := parseGenerated(ro)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBenchOptions, err)
	}
	res := &BenchResult{
		When: time.Now().UTC(), Machine: CPUModel(), CPUs: runtime.NumCPU(), Kernel: Kernel(), Go: runtime.Version(),
		Serial: !ro.NoSerial, Runs: o.Runs, Timers: timersOf(cfg, ro.TimerKeys),
	}
	if o.IdleOnly {
		res.Runs = 0
	}
	for _, e := range ro.Env {
		if v, ok := strings.CutPrefix(e, "GOMAXPROCS="); ok {
			res.GOMAXPROCS, _ = strconv.Atoi(v)
		}
	}
	rg, err := New(ctx, ro)
	if err != nil {
		return nil, err
	}
	defer rg.Close()
	b := &bench{o: o, rg: rg, say: say, damping: cfg.Timers.Damping}
	if err := b.wait(ctx, "web up on h1, h2 recover, client answered by h1", rg.Settled(benchSvc, benchMaster, time.Time{})); err != nil {
		return nil, err
	}
	if err := b.wait(ctx, "every path alive", b.allAlive); err != nil {
		return nil, err
	}
	res.LoadStart = LoadAvg()
	if o.IdleWindow > 0 {
		say("sampling the idle daemons for %s (load %s)", o.IdleWindow, LoadAvg())
		if res.Idle, err = rg.Idle(ctx, o.IdleWindow); err != nil {
			return nil, err
		}
	}
	defer func() { res.LoadEnd = LoadAvg() }()
	for _, name := range o.Scenarios {
		sc := b.scenario(name)
		sr := ScenarioResult{Name: name, What: sc.what, Detection: sc.detection.String()}
		say("%s: %s, %d runs", name, sc.what, o.Runs)
		var runErr error
		for i := 1; i <= o.Runs; i++ {
			var rr BenchRun
			rr, runErr = b.run(ctx, sc, i)
			sr.Runs = append(sr.Runs, rr)
			say("%s run %d/%d: %s", name, i, o.Runs, rr.Summary())
			var te *timeoutError
			if runErr == nil || !errors.As(runErr, &te) || ctx.Err() != nil {
				b.stuck = 0
				if runErr != nil {
					break
				}
				continue
			}
			// The cluster did not settle in time (a loaded machine
			// flaps): the next run waits again, unless it keeps failing.
			if b.stuck++; b.stuck >= maxStuck {
				runErr = fmt.Errorf("%d waits in a row timed out, the last: %w", b.stuck, runErr)
				break
			}
			say("  %v; going on (the bench stops after %d such waits in a row)", runErr, maxStuck)
			runErr = nil
		}
		sr.summarize()
		res.Scenarios = append(res.Scenarios, sr)
		if runErr != nil {
			return res, fmt.Errorf("rig: bench %s: %w", name, runErr)
		}
	}
	return res, nil
}

// run is one run of sc. A run that could not be measured says why in its
// Reason. The error is one that leaves the cluster in an unknown state: a
// *timeoutError when it did not settle in time (before the run, or when
// put back after it), anything else when the bench cannot go on.
func (b *bench) run(ctx context.Context, sc benchScenario, n int) (BenchRun, error) {
	rr := BenchRun{Run: n}
	rg := b.rg
	// A fault that silences every path (power pull, reclaim) is a flap to
	// failoverd's damping: from the flap_limit-th within the damping
	// period on, the paths stay held down until they have been stable
	// that long, so this wait may take the damping period more.
	if err := b.waitFor(ctx, b.o.Timeout+b.damping, "web on h1 and every path alive (held-down paths are released after "+b.damping.String()+" without a loss)",
		both(rg.Settled(benchSvc, benchMaster, time.Time{}), b.allAlive)); err != nil {
		rr.Reason = "the cluster did not settle before the run: " + err.Error()
		return rr, err
	}
	if sc.setup != nil {
		if err := sc.setup(ctx); err != nil {
			rr.Reason = "setup: " + err.Error()
			return rr, err
		}
	}
	// The client must be answered right now, by UDP and by ping: an
	// answer from before an earlier outage (the power pull that set up a
	// reclaim) would otherwise open the gap measured after t0.
	pr, pi := rg.Prober(benchSvc), rg.Pinger(benchSvc)
	if err := b.wait(ctx, "the client answered by UDP and ICMP within the last "+(3*ProbeInterval).String(), func(context.Context) (bool, string) {
		now := time.Now()
		if a, ok := pr.Last(); !ok || now.Sub(a.At) > 3*ProbeInterval {
			return false, "no recent UDP answer"
		}
		if pi != nil {
			if a, ok := pi.Last(); !ok || now.Sub(a.At) > 3*ProbeInterval {
				return false, "no recent echo reply"
			}
		}
		return true, ""
	}); err != nil {
		rr.Reason = "the client was not answered before the fault: " + err.Error()
		return rr, err
	}
	t0 := time.Now()
	if err := sc.fault(ctx); err != nil {
		rr.Reason = "the fault could not be injected: " + err.Error()
		return rr, err
	}
	first, err := b.firstAnswer(ctx, pr, sc.to, t0)
	if err != nil {
		rr.Reason = err.Error()
	} else if err := b.wait(ctx, "web settled on "+sc.to, sc.done(t0)); err != nil {
		rr.Reason = "answered by " + sc.to + " but the cluster did not settle: " + err.Error()
	} else {
		pinged := pi != nil && b.wait(ctx, "an echo reply from the VIP after the takeover", func(context.Context) (bool, string) {
			_, ok := pi.FirstFrom(pi.Target().String(), first.At)
			return ok, "no echo reply since the client's first answer from " + sc.to
		}) == nil
		end := time.Now()
		out := pr.Outage(t0, end)
		rr.Measured = true
		rr.Outage, rr.Lost, rr.Before, rr.After = out.Longest, out.Lost, out.Before, out.After
		rr.Stages, rr.Missing = b.stages(sc, t0)
		rr.Stages[StageClient] = first.At.Sub(t0)
		if pinged {
			rr.ICMP, rr.OutageICMP = true, pi.Outage(t0, end).Longest
		}
	}
	if ctx.Err() != nil {
		return rr, ctx.Err()
	}
	if sc.restore != nil {
		if err := sc.restore(ctx); err != nil {
			return rr, fmt.Errorf("putting the cluster back after run %d: %w", n, err)
		}
	}
	return rr, nil
}

// firstAnswer waits for the first answer from host after t0.
func (b *bench) firstAnswer(ctx context.Context, pr *Prober, host string, t0 time.Time) (Answer, error) {
	var a Answer
	err := b.wait(ctx, "the client's first answer from "+host, func(context.Context) (bool, string) {
		var ok bool
		a, ok = pr.FirstFrom(host, t0)
		if ok {
			return true, ""
		}
		if last, ok := pr.Last(); ok {
			return false, fmt.Sprintf("last answer from %s %s ago", last.From, time.Since(last.At).Round(time.Millisecond))
		}
		return false, "no answer yet"
	})
	if err != nil {
		return a, fmt.Errorf("the client got no answer from %s: %w", host, err)
	}
	return a, nil
}

// stages reads the daemons' logs for the logged stages of sc after t0.
func (b *bench) stages(sc benchScenario, t0 time.Time) (map[string]time.Duration, []string) {
	logs := map[string][]LogLine{}
	for _, h := range b.rg.Hosts() {
		f, err := os.Open(b.rg.LogFile(h))
		if err != nil {
			continue
		}
		logs[h], _ = ParseLog(f)
		f.Close()
	}
	return FindStages(logs, t0, StageMarks(sc.detection, benchSvc, sc.to))
}

// wait polls check every 10ms until it holds, ctx ends or the timeout
// passes; a wait longer than 2s is narrated every 2s with what check sees.
func (b *bench) wait(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) error {
	return b.waitFor(ctx, b.o.Timeout, what, check)
}

// waitFor is wait with its own bound.
func (b *bench) waitFor(ctx context.Context, bound time.Duration, what string, check func(ctx context.Context) (bool, string)) error {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	next := t0.Add(2 * time.Second)
	detail := "not checked yet"
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		done, d := check(cctx)
		ccancel()
		if done {
			return nil
		}
		if ctx.Err() == nil || detail == "not checked yet" {
			detail = d // a check cut short by the deadline saw nothing
		}
		if now := time.Now(); now.After(next) {
			next = now.Add(2 * time.Second)
			b.say("  still waiting for %s (%s of %s): %s", what, now.Sub(t0).Round(time.Second), bound, detail)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &timeoutError{fmt.Sprintf("timed out after %s waiting for %s (now: %s)", bound, what, detail)}
			}
			return fmt.Errorf("interrupted while waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// allAlive holds when every host sees every peer alive.
func (b *bench) allAlive(ctx context.Context) (bool, string) {
	for _, h := range b.rg.Hosts() {
		st, err := b.rg.Status(ctx, h)
		if err != nil {
			return false, h + ": " + err.Error()
		}
		for _, p := range st.Peers {
			if p.State != "alive" {
				var paths []string
				for _, pp := range p.Paths {
					if pp.State != "up" {
						paths = append(paths, pp.Path+" "+pp.State)
					}
				}
				return false, h + " sees " + p.Name + " " + p.State + " (" + strings.Join(paths, ", ") + ")"
			}
		}
	}
	return true, "every path alive"
}

// Summary is the run in one line: its outage and stages, or why it was not
// measured.
func (r BenchRun) Summary() string {
	if !r.Measured {
		return "not measured (" + r.Reason + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "outage %s (%d probes lost", fmtMs(r.Outage), r.Lost)
	if r.Before != "" || r.After != "" {
		fmt.Fprintf(&b, ", %s -> %s", orNone(r.Before), orNone(r.After))
	}
	b.WriteString(")")
	if r.ICMP {
		fmt.Fprintf(&b, ", ICMP %s", fmtMs(r.OutageICMP))
	} else {
		b.WriteString(", ICMP not measured (no echo reply after the takeover)")
	}
	for _, st := range Stages() {
		if d, ok := r.Stages[st]; ok {
			fmt.Fprintf(&b, "; %s %s", st, fmtMs(d))
		}
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "; not in the logs: %s", strings.Join(r.Missing, ", "))
	}
	return b.String()
}

// fmtMs is d in milliseconds with one decimal.
func fmtMs(d time.Duration) string { return fmt.Sprintf("%.1f ms", Ms(d)) }

// summarize fills the counts and distributions from the runs.
func (s *ScenarioResult) summarize() {
	var outages, pings []time.Duration
	stages := map[string][]time.Duration{}
	s.Measured, s.Unmeasured = 0, 0
	for _, r := range s.Runs {
		if !r.Measured {
			s.Unmeasured++
			continue
		}
		s.Measured++
		outages = append(outages, r.Outage)
		if r.ICMP {
			pings = append(pings, r.OutageICMP)
		}
		for st, d := range r.Stages {
			stages[st] = append(stages[st], d)
		}
	}
	s.Outage, s.OutageICMP = Summarize(outages), Summarize(pings)
	s.Stages = nil
	for _, st := range Stages() {
		if v := stages[st]; len(v) > 0 {
			s.Stages = append(s.Stages, StageDist{Stage: st, Dist: Summarize(v)})
		}
	}
}

// timersOf lists the effective timers of cfg and the extra keys given.
func timersOf(cfg *config.Config, extra map[string]string) map[string]string {
	t := cfg.Timers
	m := map[string]string{
		"interval": t.Interval.String(), "deadtime": t.Deadtime.String(), "adaptive_floor": t.AdaptiveFloor.String(),
		"startup": t.Startup.String(), "indoubt_hold": t.IndoubtHold.String(),
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if _, ok := m[k]; !ok {
			m[k] = extra[k]
		}
	}
	return m
}
