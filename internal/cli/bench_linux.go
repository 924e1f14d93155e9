package cli

import (
	"bufio"
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

// procUsage is a process's CPU time (all threads) and resident memory.
type procUsage struct {
	cpu time.Duration
	rss int64 // bytes
}

func readUsage(pid int) (procUsage, error) {
	var u procUsage
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return u, fmt.Errorf("reading /proc/%d/task: no tasks", pid)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			u.cpu += time.Duration(ns)
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			u.rss = kb * 1024
		}
	}
	return u, nil
}

func labBench(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	n := fs.Int("n", 20, "runs of each measurement")
	idle := fs.Duration("idle", 10*time.Second, "how long to sample idle CPU and RSS")
	out := fs.String("out", "", "write the results as Markdown to `file` (e.g. docs/benchmarks.md)")
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	timeout := fs.Duration("timeout", 20*time.Second, "bound of every wait")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *n < 1 {
		return usageErrorf("failover lab bench: -n must be at least 1")
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := r.findFailoverd(ctx, *failoverd, tmp)
	if err != nil {
		return err
	}
	rg, err := rig.New(ctx, rig.Options{Hosts: 2, Failoverd: bin, Dir: filepath.Join(tmp, "rack"), Logf: r.say})
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
	for i := 1; i <= *n; i++ {
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

	// Idle usage: both daemons settled, nothing happening.
	if _, err := d.wait(ctx, "every path alive", allAlive); err != nil {
		return err
	}
	type idleRes struct {
		host string
		cpu  float64 // percent of one CPU
		rss  int64
	}
	var idles []idleRes
	before := map[string]procUsage{}
	for _, h := range rg.Hosts() {
		u, err := readUsage(rg.Daemon(h).Cmd.Process.Pid)
		if err != nil {
			return err
		}
		before[h] = u
	}
	fmt.Fprintf(r.env.Stderr, "sampling idle CPU and RSS for %s\n", *idle)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(*idle):
	}
	for _, h := range rg.Hosts() {
		u, err := readUsage(rg.Daemon(h).Cmd.Process.Pid)
		if err != nil {
			return err
		}
		idles = append(idles, idleRes{host: h, cpu: 100 * float64(u.cpu-before[h].cpu) / float64(*idle), rss: u.rss})
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Client-observed outages and idle cost of `failoverd`, measured in the lab with\n"+
		"`sudo failover lab bench -n %d --out docs/benchmarks.md` (see `internal/cli/bench_linux.go`).\n"+
		"Measured, not asserted: the tests never time anything.\n\n", *n)
	fmt.Fprintf(&b, "- When: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %s, %d CPUs, Linux %s, %s\n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version())
	st, _ := rg.Status(ctx, "h1")
	timing := "failoverd defaults"
	if st != nil {
		timing = fmt.Sprintf("interval %s, deadtime %s (failoverd defaults)", time.Duration(st.Interval), time.Duration(st.Deadtime))
	}
	fmt.Fprintf(&b, "- Cluster: 2 hosts (h1 priority 2, h2 priority 1), heartbeats on eth0 and eth1 (multicast) and a\n"+
		"  serial null-modem (pty relay); %s; VIP 198.18.1.100/32 on eth0.\n", timing)
	fmt.Fprintf(&b, "- Client: a UDP probe to the VIP every %s from 198.18.1.250; each host answers with its name.\n"+
		"  Outage = the longest stretch between two answered probes around the event, minus one probe interval\n"+
		"  (so 0 ms means no probe was lost).\n\n", rig.ProbeInterval)
	fmt.Fprintf(&b, "| event | runs | median | min | max |\n|---|---:|---:|---:|---:|\n")
	for _, s := range []*series{power, back, planned, reclaim} {
		med, lo, hi := s.stats()
		fmt.Fprintf(&b, "| %s | %d | %d ms | %d ms | %d ms |\n", s.name, len(s.vals), med.Milliseconds(), lo.Milliseconds(), hi.Milliseconds())
	}
	fmt.Fprintf(&b, "\nIdle `failoverd` over %s, both hosts settled (h1 holds the VIP):\n\n", *idle)
	fmt.Fprintf(&b, "| host | CPU (one core) | RSS |\n|---|---:|---:|\n")
	for _, i := range idles {
		fmt.Fprintf(&b, "| %s | %.2f %% | %.1f MiB |\n", i.host, i.cpu, float64(i.rss)/(1<<20))
	}
	fmt.Fprint(r.env.Stdout, b.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("failover lab bench: %w", err)
		}
		fmt.Fprintf(r.env.Stderr, "wrote %s\n", *out)
	}
	return nil
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
