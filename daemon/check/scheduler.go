package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Options are a Scheduler's dependencies. All are optional.
type Options struct {
	Logger *slog.Logger // verdict changes at info/warn, every result at debug; nil: none
	// OnChange receives every verdict change. See the package doc for when
	// it is called.
	OnChange func(Change)
	// Now is the clock for timestamps (time.Now if nil). Waits use the time
	// package's timers, so a test runs the scheduler in testing/synctest.
	Now func() time.Time
	// Inside runs fn where sockets and child processes are to be made (a
	// network namespace); nil runs it on the calling goroutine.
	Inside func(fn func() error) error
}

// Change is a check's verdict turning.
type Change struct {
	Service, Check string
	At             time.Time
	OK             bool   // the new verdict
	Effect         Effect // what the check does to the service
	Weight         int    // EffectWeight: the priority drop while failing
	// Reason says what turned it, for logs and the core's reason text:
	// "check http: HTTP 503, want 200 (3 failures in a row)".
	Reason string
}

// Result is one run of a check.
type Result struct {
	OK       bool          `json:"ok"`
	Output   string        `json:"output"` // one line: what the probe saw, or why it failed
	At       time.Time     `json:"at"`     // when the run started
	Duration time.Duration `json:"duration"`
}

// Status is one check as Status reports it.
type Status struct {
	Spec     Spec
	OK       bool      // the verdict
	Seen     bool      // at least one run finished
	Since    time.Time // when the verdict last changed (the start if never)
	Streak   int       // results in a row against the verdict (toward rise or fall)
	Last     Result    // the last finished run
	Runs     uint64    // runs finished
	Failures uint64    // runs that failed
}

// Scheduler runs checks; see the package doc.
type Scheduler struct {
	opts   Options
	log    *slog.Logger
	checks []*running
	ran    bool

	mu sync.Mutex // guards every running's mutable fields and ran
}

type running struct {
	spec    Spec
	probe   prober
	verdict *Verdict
	since   time.Time
	last    Result
	runs    uint64
	fails   uint64
}

// prober runs one probe; ctx carries the timeout. It reports pass or fail
// and one line of output.
type prober interface {
	probe(ctx context.Context) (ok bool, output string)
}

// ErrRunTwice is returned by Run when the scheduler already ran.
var ErrRunTwice = errors.New("check: scheduler already ran")

// New validates specs (names unique per service) and returns a scheduler
// for them. It starts nothing; Run does.
func New(specs []Spec, opts Options) (*Scheduler, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Inside == nil {
		opts.Inside = func(fn func() error) error { return fn() }
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{opts: opts, log: log}
	var errs []error
	seen := map[[2]string]bool{}
	now := opts.Now()
	for _, sp := range specs {
		if err := sp.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		k := [2]string{sp.Service, sp.Name}
		if seen[k] {
			errs = append(errs, fmt.Errorf("check %s/%s: name: used twice in the service", sp.Service, sp.Name))
			continue
		}
		seen[k] = true
		s.checks = append(s.checks, &running{spec: sp, probe: newProber(sp, opts.Inside), verdict: NewVerdict(sp.Rise, sp.Fall), since: now})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Run runs every check until ctx ends, then waits for the runs in flight
// (each ends at its timeout at the latest) and returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return ErrRunTwice
	}
	s.ran = true
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range s.checks {
		wg.Go(func() { s.loop(ctx, r) })
	}
	wg.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context, r *running) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		res := s.runOnce(ctx, r)
		if ctx.Err() != nil {
			return // a run cut short by shutdown says nothing about the service
		}
		s.record(r, res)
		wait := r.spec.Interval - time.Since(start)
		t.Reset(max(wait, 0))
	}
}

// runOnce runs the probe once under the timeout.
func (s *Scheduler) runOnce(ctx context.Context, r *running) Result {
	at := s.opts.Now()
	t0 := time.Now()
	pctx, cancel := context.WithTimeout(ctx, r.spec.Timeout)
	ok, out := r.probe.probe(pctx)
	took := time.Since(t0)
	// A socket deadline set from the context may fire a hair before the
	// context itself: a failure that lasted the whole timeout timed out.
	timedOut := errors.Is(pctx.Err(), context.DeadlineExceeded) || !ok && took >= r.spec.Timeout
	cancel()
	res := Result{OK: ok && !timedOut, Output: oneLine(out), At: at, Duration: took}
	if timedOut {
		res.Output = "timed out after " + r.spec.Timeout.String()
		if out != "" {
			res.Output += ": " + oneLine(out)
		}
	}
	return res
}

// record folds res into r's verdict and reports a change.
func (s *Scheduler) record(r *running, res Result) {
	s.mu.Lock()
	r.last = res
	r.runs++
	if !res.OK {
		r.fails++
	}
	changed := r.verdict.Observe(res.OK)
	first := r.runs == 1
	if changed {
		r.since = res.At
	}
	s.mu.Unlock()
	sp := r.spec
	s.log.Debug("check ran", "service", sp.Service, "check", sp.Name, "ok", res.OK,
		"output", res.Output, "took", res.Duration.Round(time.Microsecond))
	if !changed {
		return
	}
	why := "check " + sp.Name + ": " + res.Output
	switch {
	case first:
	case res.OK:
		why += " (" + inARow(sp.Rise, "pass", "passes") + ")"
	default:
		why += " (" + inARow(sp.Fall, "failure", "failures") + ")"
	}
	c := Change{Service: sp.Service, Check: sp.Name, At: res.At, OK: res.OK, Effect: sp.Effect, Weight: sp.Weight, Reason: why}
	if res.OK {
		s.log.Info("check passing", "service", sp.Service, "check", sp.Name, "effect", sp.Effect.String(), "reason", why)
	} else {
		s.log.Warn("check failing", "service", sp.Service, "check", sp.Name, "effect", sp.Effect.String(), "reason", why)
	}
	if s.opts.OnChange != nil {
		s.opts.OnChange(c)
	}
}

// Status returns every check's state, in the order of the specs.
func (s *Scheduler) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.checks))
	for _, r := range s.checks {
		sp := r.spec
		sp.Command = append([]string(nil), sp.Command...)
		out = append(out, Status{
			Spec: sp, OK: r.verdict.OK(), Seen: r.verdict.Seen(), Since: r.since, Streak: r.verdict.Streak(),
			Last: r.last, Runs: r.runs, Failures: r.fails,
		})
	}
	return out
}

func inARow(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s in a row", n, many)
}

// maxOutput bounds an output line, in bytes.
const maxOutput = 200

// oneLine returns the first non-empty line of s, trimmed and bounded.
func oneLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			return bound(line)
		}
	}
	return ""
}

// bound cuts s to maxOutput bytes on a rune boundary.
func bound(s string) string {
	if len(s) <= maxOutput {
		return s
	}
	i := maxOutput
	for i > 0 && s[i]&0xc0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
