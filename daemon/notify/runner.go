package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/failover-ha/failover/daemon/proc"
)

// Change is one service state change to tell the hooks about.
type Change struct {
	At       time.Time
	Node     string // this node
	Service  string
	From, To string // state names: up, recover, fail, indoubt, reclaim
	Reason   string
	VIP      string // "198.18.1.100/32"
}

// Config is what to run; it may change while the runner runs (SetConfig).
type Config struct {
	Global  []string            // argv run on every change ("" or nil: none)
	Service map[string][]string // argv per service name
	Timeout time.Duration       // a hook still running after this is killed; must be > 0
	FIFO    string              // path of a FIFO to write a line per change to ("" = none)
}

// Options are a Runner's dependencies. All are optional.
type Options struct {
	Logger *slog.Logger // every run at info (failures at warn); nil: none
	// Inside starts processes where the daemon lives (a network namespace);
	// nil starts them from the calling goroutine.
	Inside func(fn func() error) error
	// QueueLen bounds the changes waiting for their hooks (and the lines
	// waiting for the FIFO); 0 means DefaultQueueLen.
	QueueLen int
}

// DefaultQueueLen holds many more changes than a flapping service makes
// while one hook runs to its timeout.
const DefaultQueueLen = 1024

// RecentRuns is how many runs Status keeps.
const RecentRuns = 32

// Hook names in Run and HookStats.
const (
	HookService = "service"
	HookGlobal  = "global"
)

// Run is one hook run.
type Run struct {
	Service  string        `json:"service"`
	Hook     string        `json:"hook"` // HookService or HookGlobal
	From     string        `json:"from"`
	To       string        `json:"to"`
	Command  []string      `json:"command"`
	At       time.Time     `json:"at"` // when it started
	Duration time.Duration `json:"duration"`
	Exit     int           `json:"exit"`             // exit code; -1 if it did not start or was killed
	TimedOut bool          `json:"timed_out"`        // killed at the timeout
	Error    string        `json:"error,omitempty"`  // why it failed ("exit status 2", "not started: ...")
	Output   string        `json:"output,omitempty"` // first line of its output
}

// OK reports whether the run exited 0.
func (r Run) OK() bool { return r.Exit == 0 && r.Error == "" }

// HookStats counts the runs of one hook of one service.
type HookStats struct {
	Service  string `json:"service"`
	Hook     string `json:"hook"`
	Runs     uint64 `json:"runs"`
	Failed   uint64 `json:"failed"` // non-zero exit, not started, or killed
	TimedOut uint64 `json:"timed_out"`
	Last     Run    `json:"last"`
}

// Status is a snapshot of the runner.
type Status struct {
	Recent      []Run       `json:"recent"` // newest last
	Hooks       []HookStats `json:"hooks"`  // by service, then hook
	Queued      int         `json:"queued"` // changes waiting for their hooks
	Dropped     uint64      `json:"dropped"`
	FIFO        string      `json:"fifo,omitempty"`
	FIFOLines   uint64      `json:"fifo_lines"`
	FIFODropped uint64      `json:"fifo_dropped"` // no reader, or it did not keep up
	FIFOError   string      `json:"fifo_error,omitempty"`
}

// Runner runs hooks and writes the FIFO; see the package doc.
type Runner struct {
	opts  Options
	log   *slog.Logger
	jobs  *queue[job]
	lines *queue[string]

	mu     sync.Mutex
	cfg    Config
	ran    bool
	recent []Run
	stats  map[[2]string]*HookStats
	fifo   fifoState
}

type hookCmd struct {
	name string // HookService or HookGlobal
	argv []string
}

type job struct {
	c     Change
	hooks []hookCmd
	limit time.Duration
}

// ErrRunTwice is returned by Run when the runner already ran.
var ErrRunTwice = errors.New("notify: runner already ran")

// New returns a runner for cfg. It starts nothing; Run does.
func New(cfg Config, opts Options) *Runner {
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.Inside == nil {
		opts.Inside = func(fn func() error) error { return fn() }
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		opts: opts, log: log, cfg: cfg,
		jobs: newQueue[job](opts.QueueLen), lines: newQueue[string](opts.QueueLen),
		stats: map[[2]string]*HookStats{},
	}
}

// SetConfig replaces what later changes run; queued ones keep theirs.
func (r *Runner) SetConfig(cfg Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cfg.FIFO != r.cfg.FIFO {
		r.fifo.reset = true
	}
	r.cfg = cfg
}

// Notify queues c for the hooks and the FIFO. It never blocks.
func (r *Runner) Notify(c Change) {
	r.mu.Lock()
	cfg := r.cfg
	r.mu.Unlock()
	j := job{c: c, limit: cfg.Timeout}
	if argv := cfg.Service[c.Service]; len(argv) > 0 && argv[0] != "" {
		j.hooks = append(j.hooks, hookCmd{HookService, argv})
	}
	if len(cfg.Global) > 0 && cfg.Global[0] != "" {
		j.hooks = append(j.hooks, hookCmd{HookGlobal, cfg.Global})
	}
	if len(j.hooks) > 0 && !r.jobs.push(j) {
		r.log.Warn("notify queue full; hooks of this change dropped", "service", c.Service, "from", c.From, "to", c.To, "queued", r.jobs.len())
	}
	if cfg.FIFO != "" && !r.lines.push(Line(c)) {
		r.mu.Lock()
		r.fifo.dropped++
		r.mu.Unlock()
	}
}

// Line is the FIFO line of c, newline included.
func Line(c Change) string {
	field := func(s string) string {
		if s == "" || strings.ContainsAny(s, " \t\n\"") {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	reason := c.Reason
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	return fmt.Sprintf("%s %s %s %s %s %s %q\n", c.At.UTC().Format(time.RFC3339Nano),
		field(c.Node), field(c.Service), field(c.From), field(c.To), field(c.VIP), reason)
}

// Run runs queued hooks until ctx ends, then what is still queued for at
// most one more timeout, and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ran {
		r.mu.Unlock()
		return ErrRunTwice
	}
	r.ran = true
	r.mu.Unlock()
	fifoDone := make(chan struct{})
	stopFIFO := make(chan struct{})
	go func() {
		defer close(fifoDone)
		r.fifoLoop(stopFIFO)
	}()
	defer func() {
		close(stopFIFO)
		<-fifoDone
	}()
	for {
		select {
		case <-ctx.Done():
			r.drain()
			return nil
		case <-r.jobs.wake:
		}
		for {
			j, ok := r.jobs.pop()
			if !ok {
				break
			}
			r.runJob(j, time.Time{})
		}
	}
}

// drain runs what is queued, killing whatever still runs one timeout from
// now.
func (r *Runner) drain() {
	r.mu.Lock()
	limit := r.cfg.Timeout
	r.mu.Unlock()
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		j, ok := r.jobs.pop()
		if !ok {
			return
		}
		r.runJob(j, end)
	}
	if n := r.jobs.len(); n > 0 {
		r.log.Warn("notify: changes left unreported at shutdown", "queued", n)
	}
}

func (r *Runner) runJob(j job, end time.Time) {
	for _, h := range j.hooks {
		limit := j.limit
		if !end.IsZero() {
			limit = min(limit, time.Until(end))
		}
		run := r.runHook(j.c, h.name, h.argv, limit)
		r.record(run)
	}
}

func (r *Runner) runHook(c Change, hook string, argv []string, limit time.Duration) Run {
	run := Run{Service: c.Service, Hook: hook, From: c.From, To: c.To, Command: append([]string(nil), argv...), At: time.Now(), Exit: -1}
	if limit <= 0 {
		run.Error = "not started: shutdown"
		return run
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd, out := proc.Command(ctx, argv, []string{
		"FAILOVER_SERVICE=" + c.Service, "FAILOVER_FROM=" + c.From, "FAILOVER_TO=" + c.To,
		"FAILOVER_REASON=" + c.Reason, "FAILOVER_VIP=" + c.VIP, "FAILOVER_NODE=" + c.Node}, 4096)
	t0 := time.Now()
	if err := r.opts.Inside(cmd.Start); err != nil {
		run.Error = "not started: " + err.Error()
		return run
	}
	err := cmd.Wait()
	run.Duration = time.Since(t0)
	run.Output = firstLine(out.String())
	switch {
	case ctx.Err() != nil:
		run.TimedOut = true
		run.Error = "timed out after " + limit.String() + "; process group killed"
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			run.Exit = ee.ExitCode()
			run.Error = ee.ProcessState.String()
		} else {
			run.Error = err.Error()
		}
	default:
		run.Exit = 0
	}
	return run
}

func (r *Runner) record(run Run) {
	attrs := []any{"service", run.Service, "hook", run.Hook, "from", run.From, "to", run.To,
		"command", strings.Join(run.Command, " "), "exit", run.Exit, "took", run.Duration.Round(time.Microsecond)}
	if run.Output != "" {
		attrs = append(attrs, "output", run.Output)
	}
	if run.OK() {
		r.log.Info("notify hook ran", attrs...)
	} else {
		r.log.Warn("notify hook failed", append(attrs, "reason", run.Error)...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recent = append(r.recent, run)
	if len(r.recent) > RecentRuns {
		r.recent = r.recent[len(r.recent)-RecentRuns:]
	}
	k := [2]string{run.Service, run.Hook}
	st := r.stats[k]
	if st == nil {
		st = &HookStats{Service: run.Service, Hook: run.Hook}
		r.stats[k] = st
	}
	st.Runs++
	if !run.OK() {
		st.Failed++
	}
	if run.TimedOut {
		st.TimedOut++
	}
	st.Last = run
}

// Status returns a snapshot.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{
		Recent: make([]Run, len(r.recent)), Queued: r.jobs.len(), Dropped: r.jobs.droppedCount(),
		FIFO: r.cfg.FIFO, FIFOLines: r.fifo.lines, FIFODropped: r.fifo.dropped + r.lines.droppedCount(), FIFOError: r.fifo.err,
	}
	copy(st.Recent, r.recent)
	for _, h := range r.stats {
		st.Hooks = append(st.Hooks, *h)
	}
	slices.SortFunc(st.Hooks, func(a, b HookStats) int {
		// by service, then the service's own hook before the global one
		return cmp.Or(cmp.Compare(a.Service, b.Service), -cmp.Compare(a.Hook, b.Hook))
	})
	return st
}

func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200]
			}
			return line
		}
	}
	return ""
}
