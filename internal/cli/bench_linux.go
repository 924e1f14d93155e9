package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// series is one measured quantity over several runs.
type series struct {
	name string
	vals []time.Duration
}

func (s *series) stats() (median, lo, hi time.Duration) {
	if len(s.vals) == 0 {
		return 0, 0, 0
	}
	v := append([]time.Duration(nil), s.vals...)
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[0], v[n-1]
}

func labBench(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	n := fs.Int("n", 20, "runs of each outage measurement")
	idleOnly := fs.Bool("idle", false, "measure only the idle cost (no outage runs)")
	window := fs.Duration("window", 20*time.Second, "how long to sample the settled, idle daemons")
	procs := fs.Int("gomaxprocs", 0, "run the daemons with GOMAXPROCS=`n` (0: failoverd's default, 1)")
	noSerial := fs.Bool("no-serial", false, "no serial cable between the hosts (UDP paths only)")
	out := fs.String("out", "", "write the results as Markdown to `file`")
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	timeout := fs.Duration("timeout", 20*time.Second, "bound of every wait")
	fs.BoolVar(&r.json, "json", r.json, "print the results as JSON")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *n < 1 {
		return usageErrorf("failover lab bench: -n must be at least 1")
	}
	if *window < time.Second {
		return usageErrorf("failover lab bench: --window %s is too short (at least 1s)", *window)
	}
	if *procs < 0 {
		return usageErrorf("failover lab bench: --gomaxprocs %d: want 0 or more", *procs)
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	quiet := *r // its narration goes to stderr: stdout carries the results
	quiet.env.Stdout = r.env.Stderr
	bin, err := quiet.findFailoverd(ctx, *failoverd, tmp)
	if err != nil {
		return err
	}
	narrate := func(format string, args ...any) { // stdout carries the results
		fmt.Fprintf(r.env.Stderr, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	ro := rig.Options{Hosts: 2, Failoverd: bin, Dir: filepath.Join(tmp, "rack"), Logf: narrate, NoSerial: *noSerial}
	if *procs > 0 {
		ro.Env = append(ro.Env, "GOMAXPROCS="+strconv.Itoa(*procs))
	}
	rg, err := rig.New(ctx, ro)
	if err != nil {
		return err
	}
	defer rg.Close()
	d := &drill{w: r.env.Stderr, tty: isTerminal(r.env.Stderr), timeout: *timeout}
	const svc = "web"
	pr := rg.Prober(svc)
	if _, err := d.wait(ctx, "web settled on h1", settled(rg, svc, "h1", time.Time{}, nil)); err != nil {
		return err
	}
	allAlive := func(ctx context.Context) (bool, string) {
		for _, h := range rg.Hosts() {
			st, err := rg.Status(ctx, h)
			if err != nil {
				return false, plainError(err)
			}
			for _, p := range st.Peers {
				if p.State != "alive" {
					return false, h + " sees " + p.Name + " " + p.State
				}
			}
		}
		return true, "all alive"
	}
	// Idle first: both daemons settled, nothing done to the cluster yet.
	if _, err := d.wait(ctx, "every path alive", allAlive); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stderr, "sampling the idle daemons for %s (load %s)\n", *window, rig.LoadAvg())
	idle, err := rg.Idle(ctx, *window)
	if err != nil {
		return err
	}

	power := &series{name: "power pull (freeze h1) → h2 takes over"}
	back := &series{name: "power back (thaw h1) → h1 reclaims"}
	planned := &series{name: "planned hand-over (`failover fail web` on h1) → h2"}
	reclaim := &series{name: "`failover recover web` on h1 → h1 reclaims"}
	measure := func(s *series, act func() error, owner string, skip map[string]bool) error {
		if s != back { // h1 is frozen before the thaw
			if _, err := d.wait(ctx, "every path alive", allAlive); err != nil {
				return err
			}
		}
		t0 := time.Now()
		if err := act(); err != nil {
			return err
		}
		if _, err := d.wait(ctx, "web settled on "+owner, settled(rg, svc, owner, t0, skip)); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		o := pr.Outage(t0, time.Now())
		s.vals = append(s.vals, o.Longest)
		return nil
	}
	h1 := rg.Client("h1")
	failSettled := func(ctx context.Context) (bool, string) {
		ok, detail := settled(rg, svc, "h2", time.Time{}, map[string]bool{"h1": true})(ctx)
		state, _, err := rg.State(ctx, "h1", svc)
		if err != nil || state != "fail" {
			return false, detail + ", h1 " + state
		}
		return ok, detail
	}
	for i := 1; i <= *n && !*idleOnly; i++ {
		steps := []struct {
			s     *series
			act   func() error
			owner string
			skip  map[string]bool
		}{
			{power, func() error { return rg.Lab.Freeze("h1") }, "h2", map[string]bool{"h1": true}},
			{back, func() error { return rg.Lab.Thaw("h1") }, "h1", nil},
			{planned, func() error { _, err := h1.Fail(ctx, svc); return err }, "h2", map[string]bool{"h1": true}},
			{reclaim, func() error { _, err := h1.Recover(ctx, svc); return err }, "h1", nil},
		}
		for _, st := range steps {
			if st.s == planned {
				// h1 must show fail, not recover, after a forced hand-over.
				if _, err := d.wait(ctx, "every path alive", allAlive); err != nil {
					return err
				}
				t0 := time.Now()
				if err := st.act(); err != nil {
					return err
				}
				if _, err := d.wait(ctx, "web up on h2, h1 fail", failSettled); err != nil {
					return fmt.Errorf("%s: %w", st.s.name, err)
				}
				st.s.vals = append(st.s.vals, pr.Outage(t0, time.Now()).Longest)
				continue
			}
			if err := measure(st.s, st.act, st.owner, st.skip); err != nil {
				return err
			}
		}
		fmt.Fprintf(r.env.Stderr, "run %d/%d: power pull %d ms, power back %d ms, hand-over %d ms, recover %d ms\n", i, *n,
			last(power).Milliseconds(), last(back).Milliseconds(), last(planned).Milliseconds(), last(reclaim).Milliseconds())
	}

	res := benchResult{
		When: time.Now().UTC(), Machine: cpuModel(), CPUs: runtime.NumCPU(), Kernel: kernel(), Go: runtime.Version(),
		GOMAXPROCS: *procs, Serial: !*noSerial, LoadEnd: rig.LoadAvg(), Idle: idle,
	}
	if st, err := rg.Status(ctx, "h1"); err == nil {
		res.Interval, res.Deadtime = st.Interval.String(), st.Deadtime.String()
	}
	if !*idleOnly {
		for _, s := range []*series{power, back, planned, reclaim} {
			med, lo, hi := s.stats()
			res.Outages = append(res.Outages, outageResult{Event: s.name, Runs: len(s.vals), Median: ms(med), Min: ms(lo), Max: ms(hi)})
		}
	}
	text := res.markdown(*n, *window)
	if r.json {
		if err := r.printJSON(res); err != nil {
			return err
		}
	} else {
		fmt.Fprint(r.env.Stdout, text)
	}
	if *out != "" {
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			return fmt.Errorf("failover lab bench: %w", err)
		}
		fmt.Fprintf(r.env.Stderr, "wrote %s\n", *out)
	}
	return nil
}

// benchResult is what "lab bench" measured (its --json output).
type benchResult struct {
	When       time.Time       `json:"when"`
	Machine    string          `json:"machine"`
	CPUs       int             `json:"cpus"`
	Kernel     string          `json:"kernel"`
	Go         string          `json:"go"`
	Interval   string          `json:"interval"`
	Deadtime   string          `json:"deadtime"`
	GOMAXPROCS int             `json:"gomaxprocs"` // 0: failoverd's default
	Serial     bool            `json:"serial"`
	LoadEnd    string          `json:"load_end"` // /proc/loadavg after the last run
	Idle       *rig.IdleSample `json:"idle"`
	Outages    []outageResult  `json:"outages,omitempty"`
}

// outageResult is one outage series in ms.
type outageResult struct {
	Event  string  `json:"event"`
	Runs   int     `json:"runs"`
	Median float64 `json:"median_ms"`
	Min    float64 `json:"min_ms"`
	Max    float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (res *benchResult) markdown(n int, window time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	cmd := fmt.Sprintf("sudo failover lab bench -n %d --window %s", n, window)
	if len(res.Outages) == 0 {
		cmd = fmt.Sprintf("sudo failover lab bench --idle --window %s", window)
	}
	if res.GOMAXPROCS > 0 {
		cmd += fmt.Sprintf(" --gomaxprocs %d", res.GOMAXPROCS)
	}
	if !res.Serial {
		cmd += " --no-serial"
	}
	fmt.Fprintf(&b, "Client-observed outages and idle cost of `failoverd`, measured in the lab with\n"+
		"`%s` (see `internal/cli/bench_linux.go`).\n"+
		"Measured, not asserted: the tests never time anything.\n\n", cmd)
	fmt.Fprintf(&b, "- When: %s; load average %s at the start of the idle window, %s at the end of the bench\n",
		res.When.Format("2006-01-02 15:04 MST"), res.Idle.LoadBefore, res.LoadEnd)
	fmt.Fprintf(&b, "- Machine: %s, %d CPUs, Linux %s, %s\n", res.Machine, res.CPUs, res.Kernel, res.Go)
	paths := "eth0 and eth1 (multicast)"
	if res.Serial {
		paths += " and a serial null-modem (pty relay)"
	}
	procs := "GOMAXPROCS unset"
	if res.GOMAXPROCS > 0 {
		procs = fmt.Sprintf("GOMAXPROCS=%d", res.GOMAXPROCS)
	}
	fmt.Fprintf(&b, "- Cluster: 2 hosts (h1 priority 2, h2 priority 1), heartbeats on %s;\n"+
		"  interval %s, deadtime %s (failoverd defaults); %s; VIP 198.18.1.100/32 on eth0.\n", paths, res.Interval, res.Deadtime, procs)
	if len(res.Outages) > 0 {
		fmt.Fprintf(&b, "- Client: a UDP probe to the VIP every %s from 198.18.1.250; each host answers with its name.\n"+
			"  Outage = the longest stretch between two answered probes around the event, minus one probe interval\n"+
			"  (so 0 ms means no probe was lost).\n\n", rig.ProbeInterval)
		fmt.Fprintf(&b, "| event | runs | median | min | max |\n|---|---:|---:|---:|---:|\n")
		for _, o := range res.Outages {
			fmt.Fprintf(&b, "| %s | %d | %.0f ms | %.0f ms | %.0f ms |\n", o.Event, o.Runs, o.Median, o.Min, o.Max)
		}
	}
	fmt.Fprintf(&b, "\nIdle `failoverd` over %s, both hosts settled (h1 holds the VIP); CPU from\n"+
		"/proc/PID/task/*/schedstat, wake-ups = voluntary + involuntary context switches of all threads:\n\n", time.Duration(res.Idle.Window))
	fmt.Fprintf(&b, "| host | CPU ms/s | wake-ups/s (vol + invol) | threads | RSS |\n|---|---:|---:|---:|---:|\n")
	for _, h := range res.Idle.Hosts {
		fmt.Fprintf(&b, "| %s | %.1f | %.0f (%.0f + %.0f) | %d | %.1f MiB |\n", h.Host, h.CPUms, h.Wakeups, h.Voluntary, h.Involuntary, h.Threads, float64(h.RSS)/(1<<20))
	}
	fmt.Fprintf(&b, "\n| host | path | sent B/s | received B/s | frames/s out / in |\n|---|---|---:|---:|---:|\n")
	for _, h := range res.Idle.Hosts {
		for _, p := range h.Paths {
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %.1f / %.1f |\n", h.Host, p.Path, p.SentBytes, p.RecvBytes, p.SentFrames, p.RecvFrames)
		}
	}
	return b.String()
}

func last(s *series) time.Duration {
	if len(s.vals) == 0 {
		return 0
	}
	return s.vals[len(s.vals)-1]
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
