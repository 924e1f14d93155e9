package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// drill runs numbered steps, each PASS or FAIL, with bounded waits and a
// progress line.
type drill struct {
	w       io.Writer
	tty     bool
	steps   []stepResult
	timeout time.Duration
}

type stepResult struct {
	name string
	ok   bool
	note string
}

func (d *drill) step(name string, fn func() (string, error)) bool {
	fmt.Fprintf(d.w, "\n== %d. %s\n", len(d.steps)+1, name)
	note, err := fn()
	res := stepResult{name: name, ok: err == nil, note: note}
	if err != nil {
		res.note = err.Error()
		fmt.Fprintf(d.w, "FAIL  %s: %v\n", name, err)
	} else {
		if note != "" {
			note = ": " + note
		}
		fmt.Fprintf(d.w, "PASS  %s%s\n", name, note)
	}
	d.steps = append(d.steps, res)
	return res.ok
}

// wait polls check every 10ms until it reports done, ctx ends or the
// drill's timeout passes. what names what it waits for; check's detail
// says what it sees now (shown on the progress line and in the timeout
// error).
func (d *drill) wait(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) (time.Duration, error) {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if !d.tty {
		fmt.Fprintf(d.w, "      waiting (up to %s) for %s\n", d.timeout, what)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var detail string
	lastDraw := time.Time{}
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		var done bool
		done, detail = check(cctx)
		ccancel()
		if done {
			if d.tty {
				fmt.Fprint(d.w, "\r\x1b[K")
			}
			return time.Since(t0), nil
		}
		if d.tty && time.Since(lastDraw) > 100*time.Millisecond {
			lastDraw = time.Now()
			fmt.Fprintf(d.w, "\r\x1b[K      waiting for %s: %s  [%.1fs/%s]", what, detail, time.Since(t0).Seconds(), d.timeout)
		}
		select {
		case <-ctx.Done():
			if d.tty {
				fmt.Fprint(d.w, "\r\x1b[K")
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return time.Since(t0), fmt.Errorf("timed out after %s waiting for %s (now: %s)", d.timeout, what, detail)
			}
			return time.Since(t0), fmt.Errorf("interrupted while waiting for %s", what)
		case <-tick.C:
		}
	}
}

// settled is rig.Settled with a skip set.
func settled(rg *rig.Rig, svc, owner string, since time.Time, skip map[string]bool) func(ctx context.Context) (bool, string) {
	var sk []string
	for h := range skip {
		sk = append(sk, h)
	}
	return rg.Settled(svc, owner, since, sk...)
}

func labDemo(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	timeout := fs.Duration("timeout", 20*time.Second, "bound of every wait")
	verbose := fs.Bool("v", false, "also print the daemons' logs")
	keep := fs.Bool("keep-logs", false, "keep the daemons' logs and configs after the drill")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-demo-")
	if err != nil {
		return err
	}
	defer func() {
		if *keep {
			fmt.Fprintf(r.env.Stdout, "logs and configs kept in %s\n", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	bin, err := r.findFailoverd(ctx, *failoverd, tmp)
	if err != nil {
		return err
	}
	d := &drill{w: r.env.Stdout, tty: isTerminal(r.env.Stdout), timeout: *timeout}
	opts := rig.Options{Hosts: 2, Failoverd: bin, Dir: filepath.Join(tmp, "rack"), Logf: r.say}
	if self, err := r.env.executable(); err == nil {
		opts.Failover = self
	}
	if *verbose {
		opts.DaemonLog = r.env.Stdout
	}
	var rg *rig.Rig
	defer func() {
		if rg != nil {
			rg.Close()
		}
	}()
	const svc = "web"
	status := func(hosts ...string) {
		for _, h := range hosts {
			st, err := rg.Status(ctx, h)
			if err != nil {
				fmt.Fprintf(r.env.Stdout, "--- failover --socket %s status\n%s\n", rg.Socket(h), plainError(err))
				continue
			}
			fmt.Fprintf(r.env.Stdout, "--- failover --socket %s status\n%s", rg.Socket(h), RenderStatus(st))
		}
	}
	fmt.Fprintf(r.env.Stdout, "failover lab demo: the original's power-pull drill on two hosts (h1 master, h2 backup)\n")
	fmt.Fprintf(r.env.Stdout, "VIP %s on eth0; heartbeats on eth0, eth1 and a serial cable; the client probes the VIP every %s\n",
		rig.DefaultVIP.Addr(), rig.ProbeInterval)

	run := func() {
		if !d.step("build the rack and start failoverd on h1 and h2", func() (string, error) {
			var err error
			rg, err = rig.New(ctx, opts)
			return "", err
		}) {
			return
		}
		if !d.step("web comes up on h1 and the client reaches it", func() (string, error) {
			took, err := d.wait(ctx, "web up on h1, h2 recover, VIP on h1 only, client answered by h1",
				settled(rg, svc, "h1", time.Time{}, nil))
			return fmt.Sprintf("after %s", took.Round(time.Millisecond)), err
		}) {
			return
		}
		if !d.step("both hosts see each other on every path", func() (string, error) {
			_, err := d.wait(ctx, "h1 and h2 alive on eth0, eth1 and serial", func(ctx context.Context) (bool, string) {
				var seen []string
				ok := true
				for _, h := range []string{"h1", "h2"} {
					st, err := rg.Status(ctx, h)
					if err != nil {
						return false, plainError(err)
					}
					for _, p := range st.Peers {
						seen = append(seen, fmt.Sprintf("%s sees %s %s", h, p.Name, p.State))
						ok = ok && p.State == "alive"
					}
				}
				return ok, strings.Join(seen, ", ")
			})
			if err == nil {
				status("h1", "h2")
			}
			return "", err
		}) {
			return
		}
		var t0 time.Time
		if !d.step("power-pull h1: h2 takes over", func() (string, error) {
			t0 = time.Now()
			if err := rg.Lab.Freeze("h1"); err != nil {
				return "", err
			}
			r.say("h1 frozen: processes stopped, eth0, eth1 and the serial cable silent")
			_, err := d.wait(ctx, "web up on h2 with the VIP, client answered by h2",
				settled(rg, svc, "h2", t0, map[string]bool{"h1": true}))
			if err != nil {
				return "", err
			}
			o := rg.Prober(svc).Outage(t0, time.Now())
			return fmt.Sprintf("takeover: the client saw %d ms without answer (%d probes lost)", o.Longest.Milliseconds(), o.Lost), nil
		}) {
			return
		}
		status("h2")
		if !d.step("power back h1: h1 reclaims web, h2 goes back to recover", func() (string, error) {
			t1 := time.Now()
			if err := rg.Lab.Thaw("h1"); err != nil {
				return "", err
			}
			r.say("h1 thawed: processes continue, cables back")
			_, err := d.wait(ctx, "web up on h1 again, h2 recover, VIP on h1 only, client answered by h1",
				settled(rg, svc, "h1", t1, nil))
			if err != nil {
				return "", err
			}
			o := rg.Prober(svc).Outage(t1, time.Now())
			return fmt.Sprintf("reclaim: the client saw %d ms without answer (%d probes lost)", o.Longest.Milliseconds(), o.Lost), nil
		}) {
			return
		}
		status("h1", "h2")
		d.step("never two answers to one probe", func() (string, error) {
			if n := rg.Prober(svc).Duplicates(); n > 0 {
				return "", fmt.Errorf("%d probes were answered by both hosts", n)
			}
			return "", nil
		})
	}
	run()
	if rg != nil && !allOK(d.steps) {
		for _, h := range rg.Hosts() {
			fmt.Fprintf(r.env.Stdout, "\n--- last lines of %s's log (%s)\n%s", h, rg.LogFile(h), tail(rg.LogFile(h), 15))
		}
	}
	fmt.Fprintf(r.env.Stdout, "\n== summary\n")
	for i, s := range d.steps {
		mark := "PASS"
		if !s.ok {
			mark = "FAIL"
		}
		fmt.Fprintf(r.env.Stdout, "%s  %d. %s\n", mark, i+1, s.name)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(r.env.Stdout, "interrupted: cleaning up")
		return silentExit(ExitFailure)
	}
	if !allOK(d.steps) {
		fmt.Fprintln(r.env.Stdout, "FAIL: the drill did not hold")
		return silentExit(ExitFailure)
	}
	fmt.Fprintln(r.env.Stdout, "PASS: every step held")
	return nil
}

func allOK(steps []stepResult) bool {
	for _, s := range steps {
		if !s.ok {
			return false
		}
	}
	return len(steps) > 0
}

// tail returns the last n lines of file.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error() + "\n"
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
