package rig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/config"
)

// DrillOptions describe a drill: the cluster (a fresh two-host rig per
// run), the scenarios and how often each runs.
type DrillOptions struct {
	// Rig is the cluster: Failoverd is required; the timers are
	// failoverd's defaults unless set. Hosts is always 2, with the serial
	// cable; Dir is set per run.
	Rig Options
	// Scenarios to run by name, in order; every scenario when empty.
	Scenarios []string
	// Runs of each scenario (1..MaxDrillRuns; 0 = 1).
	Runs int
	// Quick shortens the holds (CI): cpu-hog 5s, flapping 4s, other faults
	// 1s (at least 10 deadtimes); holds past the VIP lifetime stay.
	Quick bool
	// Timeout bounds every wait for the cluster to settle; 0 = 30s plus
	// the damping and carrier settle times.
	Timeout time.Duration
	// KeepDir, when set, keeps every run's configs and daemon logs in
	// KeepDir/<scenario>-<run>. Otherwise they go to a temporary directory
	// that is removed when the run passed and kept (RunResult.LogDir) when
	// it failed.
	KeepDir string
	// Progress receives one line per step and, during long waits, every
	// few seconds (nil: silent).
	Progress func(msg string)
}

// ARPPeriod is how often the drill's ARP observer asks for the VIP.
const ARPPeriod = 25 * time.Millisecond

// drillSvc is the drilled service and drillOwner its settled owner.
const (
	drillSvc    = "web"
	drillOwner  = "h1"
	drillBackup = "h2"
)

// DrillTimers returns the timers the drill runs with (failoverd's defaults
// for those not set in o), checked as failoverd checks them, and the
// detection window they give.
func DrillTimers(o Options) (*config.Config, time.Duration, error) {
	cfg, err := o.ParseConfig()
	if err != nil {
		return nil, 0, err
	}
	t := cfg.Timers
	return cfg, DetectionWindow(t.Interval, t.Deadtime, t.IndoubtHold, cfg.Services[0].ProbeWindow), nil
}

// RunDrill runs every selected scenario Runs times, each on a fresh
// two-host rig settled on h1, and judges each run. The report is returned
// also when a run failed; the error is for what prevented the drill
// itself (bad options, ctx ended).
func RunDrill(ctx context.Context, o DrillOptions) (*DrillReport, error) {
	scs, err := SelectScenarios(o.Scenarios)
	if err != nil {
		return nil, fmt.Errorf("rig: drill: %w", err)
	}
	if o.Runs == 0 {
		o.Runs = 1
	}
	if o.Runs < 1 || o.Runs > MaxDrillRuns {
		return nil, fmt.Errorf("rig: drill: %d runs: want 1..%d", o.Runs, MaxDrillRuns)
	}
	if o.Rig.Failoverd == "" {
		return nil, errors.New("rig: drill: no failoverd binary")
	}
	if o.Rig.NoSerial {
		return nil, errors.New("rig: drill: the scenarios need the serial cable (NoSerial is set)")
	}
	o.Rig.Hosts = 2
	o.Rig.Services = nil
	cfg, window, err := DrillTimers(o.Rig)
	if err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = 30*time.Second + cfg.Timers.Damping + cfg.Timers.CarrierSettle
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	t0 := time.Now()
	rep := &DrillReport{Started: t0.UTC().Format(time.RFC3339), Window: Millis(window), Quick: o.Quick, Load: []string{LoadAvg()}, Timers: timerMap(cfg)}
	o.Progress(fmt.Sprintf("drill: %d scenarios x %d runs; deadtime %s, interval %s, lifetime %s; detection window %d ms; load %s",
		len(scs), o.Runs, cfg.Timers.Deadtime, cfg.Timers.Interval, cfg.Services[0].Lifetime, window.Milliseconds(), LoadAvg()))
	for _, sc := range scs {
		sr := ScenarioReport{Scenario: sc}
		for i := 1; i <= o.Runs; i++ {
			d := &drillRun{o: &o, cfg: cfg, sc: sc, run: i, window: window}
			res := d.do(ctx)
			sr.Runs = append(sr.Runs, res)
			verdict := "PASS"
			if res.Failed() {
				verdict = "FAIL"
			}
			d.say("%s (moves %d, longest gap %d ms, took %.1fs)", verdict, res.Moves,
				time.Duration(res.LongestGap).Milliseconds(), time.Duration(res.Took).Seconds())
			if ctx.Err() != nil {
				rep.Scenarios = append(rep.Scenarios, sr)
				rep.finish(t0)
				return rep, fmt.Errorf("rig: drill interrupted: %w", context.Cause(ctx))
			}
		}
		rep.Scenarios = append(rep.Scenarios, sr)
	}
	rep.finish(t0)
	return rep, nil
}

func (r *DrillReport) finish(t0 time.Time) {
	r.Load = append(r.Load, LoadAvg())
	r.Took = Millis(time.Since(t0))
	r.total()
}

func timerMap(cfg *config.Config) map[string]string {
	t := cfg.Timers
	s := cfg.Services[0]
	return map[string]string{
		"interval": t.Interval.String(), "deadtime": t.Deadtime.String(), "startup": t.Startup.String(),
		"indoubt_hold": t.IndoubtHold.String(), "damping": t.Damping.String(), "carrier_settle": t.CarrierSettle.String(),
		"lifetime": s.Lifetime.String(), "probe_window": s.ProbeWindow.String(),
	}
}

// drillRun is one run of one scenario.
type drillRun struct {
	o      *DrillOptions
	cfg    *config.Config
	sc     DrillScenario
	run    int
	window time.Duration

	rg      *Rig
	sockDir string
	sampler *Sampler
	ev      DrillEvidence
}

func (d *drillRun) say(format string, args ...any) {
	d.o.Progress(fmt.Sprintf("run %d/%d %s: %s", d.run, d.o.Runs, d.sc.Name, fmt.Sprintf(format, args...)))
}

// hold is how long a fault is held: full, or quick with --quick; at least
// ten deadtimes.
func (d *drillRun) hold(full, quick time.Duration) time.Duration {
	h := full
	if d.o.Quick {
		h = quick
	}
	return max(h, 10*d.cfg.Timers.Deadtime)
}

// pastLifetime is a hold longer than the VIP's lifetime (3s when the
// lifetime is 0, forever).
func (d *drillRun) pastLifetime() time.Duration {
	if l := d.cfg.Services[0].Lifetime; l > 0 {
		return l + time.Second
	}
	return 3 * time.Second
}

func (d *drillRun) do(ctx context.Context) (res RunResult) {
	t0 := time.Now()
	dir := ""
	if d.o.KeepDir != "" {
		dir = filepath.Join(d.o.KeepDir, fmt.Sprintf("%s-%d", d.sc.Name, d.run))
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "failover-drill-"); err != nil {
			return RunResult{Run: d.run, Error: err.Error()}
		}
	}
	defer func() {
		res.Run = d.run
		res.Took = Millis(time.Since(t0))
		if d.rg != nil {
			if err := d.rg.Close(); err != nil && res.Error == "" {
				res.Error = "closing the rig: " + err.Error()
			}
		}
		if d.sockDir != "" {
			os.RemoveAll(d.sockDir)
		}
		if d.o.KeepDir != "" || res.Failed() {
			res.LogDir = dir
		} else {
			os.RemoveAll(dir)
		}
	}()
	// The control sockets go to a short directory of their own: a kept
	// directory's path may be longer than a socket path can be.
	sockDir, err := os.MkdirTemp("", "fo-drill-")
	if err != nil {
		return RunResult{Error: err.Error()}
	}
	d.sockDir = sockDir
	ro := d.o.Rig
	ro.Dir = dir
	ro.SocketDir = sockDir
	ro.Logf = nil
	d.say("building the rack and starting failoverd in h1 and h2")
	rg, err := New(ctx, ro)
	if err != nil {
		return RunResult{Error: err.Error()}
	}
	d.rg = rg
	if err := d.wait(ctx, "web settled on h1 and every path alive", d.settledAlive(time.Time{})); err != nil {
		return RunResult{Error: "before the fault: " + err.Error()}
	}

	// Observers.
	d.ev = DrillEvidence{Owner: drillOwner, Window: d.window, ARPPeriod: ARPPeriod, CheckReturns: d.sc.ReclaimOnly}
	pr := rg.Prober(drillSvc)
	last, _ := pr.Last()
	dup0 := pr.Duplicates()
	arpw, err := rg.WatchARP(drillSvc, ARPPeriod)
	if err != nil {
		return RunResult{Error: err.Error()}
	}
	d.sampler = rg.Sample(drillSvc)
	d.ev.Start = time.Now()
	// A baseline before the fault: the sampler's first reads and a few ARP
	// requests, all on the settled owner.
	for len(d.sampler.Changes()) == 0 && time.Since(d.ev.Start) < time.Second {
		sleepCtx(ctx, 2*time.Millisecond)
	}
	sleepCtx(ctx, 4*ARPPeriod)

	healed, err := d.inject(ctx)
	if err != nil {
		d.sampler.Stop()
		arpw.Stop()
		return RunResult{Error: "injecting the fault: " + err.Error()}
	}
	// Back on h1 (state, address, client); paths may still be held down
	// by damping after a flapping fault, which is not waited for.
	if err := d.wait(ctx, "web settled back on h1", rg.Settled(drillSvc, drillOwner, healed)); err != nil {
		d.ev.Settled = err.Error()
	} else {
		// Watch a little longer: a settled cluster must stay settled.
		tail := max(3*d.cfg.Timers.Deadtime, 300*time.Millisecond)
		sleepCtx(ctx, tail)
	}
	d.ev.End = time.Now()
	_, d.ev.Overlaps, _ = d.sampler.Stop()
	d.ev.Holders = d.sampler.Changes()
	var arpErr error
	d.ev.ARP, d.ev.Claims, arpErr = arpw.Stop()
	for _, a := range pr.AnsweredAfter(last.Seq) {
		if !a.At.Before(d.ev.Start) && !a.At.After(d.ev.End) {
			d.ev.Answers = append(d.ev.Answers, a)
		}
	}
	d.ev.Duplicates = pr.Duplicates() - dup0
	if d.ev.CheckReturns {
		d.ev.Returns = returns(rg.LogFile(drillOwner), d.ev.ResumedAt)
	}
	res = Judge(d.sc, d.ev)
	if arpErr != nil {
		res.Error = arpErr.Error()
	}
	if err := rg.Exited(); err != nil {
		res.Error = err.Error()
	}
	return res
}

// settledAlive: web up on h1 alone, h2 in recover, the client answered by
// h1 after since, and every peer alive on every path.
func (d *drillRun) settledAlive(since time.Time) func(ctx context.Context) (bool, string) {
	settled := d.rg.Settled(drillSvc, drillOwner, since)
	return func(ctx context.Context) (bool, string) {
		ok, seen := settled(ctx)
		if !ok {
			return false, seen
		}
		for _, h := range d.rg.Hosts() {
			st, err := d.rg.Status(ctx, h)
			if err != nil {
				return false, h + ": " + err.Error()
			}
			for _, p := range st.Peers {
				if p.State != "alive" {
					return false, h + " sees " + p.Name + " " + p.State
				}
			}
		}
		return true, seen
	}
}

// wait polls check every 10 ms for at most the drill's timeout, saying
// what it waits for and, every 5 s, what it sees; a daemon that exits ends
// the wait with its log.
func (d *drillRun) wait(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	t0 := time.Now()
	d.say("waiting (up to %s) for %s", d.o.Timeout, what)
	next := t0.Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := d.rg.Exited(); err != nil {
			return err
		}
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		done, seen := check(cctx)
		ccancel()
		if done {
			return nil
		}
		if time.Now().After(next) {
			next = next.Add(5 * time.Second)
			d.say("still waiting for %s (%.0fs/%s): %s", what, time.Since(t0).Seconds(), d.o.Timeout, seen)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w after %s (last seen: %s)", what, context.Cause(ctx), time.Since(t0).Round(time.Millisecond), seen)
		case <-tick.C:
		}
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// holdFor holds a fault for h, saying so, and every 10 s how long is left.
func (d *drillRun) holdFor(ctx context.Context, h time.Duration, what string) error {
	d.say("%s; holding %s", what, h)
	end := time.Now().Add(h)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		if err := sleepCtx(ctx, min(left, 10*time.Second)); err != nil {
			return err
		}
		if left > 10*time.Second {
			d.say("%s: %s left", what, (left - 10*time.Second).Round(time.Second))
		}
	}
}

// returns reads the moves to up in a daemon's log after since.
func returns(logFile string, since time.Time) []Return {
	b, err := os.ReadFile(logFile)
	if err != nil {
		return nil
	}
	var out []Return
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "service state") {
			continue
		}
		l, ok := ParseLogLine(line)
		if !ok || l.Msg != "service state" || l.Attrs["to"] != "up" || l.Time.Before(since) {
			continue
		}
		out = append(out, Return{At: l.Time, From: l.Attrs["from"], Line: line})
	}
	return out
}
