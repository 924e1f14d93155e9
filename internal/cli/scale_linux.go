package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// labScale runs "failover lab scale": rig.RunScale at each --nodes size,
// the report on stdout (Markdown or --json), progress on stderr.
func labScale(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	nodes := fs.String("nodes", "2,4,8,16", "cluster `sizes` to measure, comma-separated, each 2..16")
	window := fs.Duration("window", 10*time.Second, "how long to sample the settled, idle daemons at each size")
	runs := fs.Int("runs", 3, "freezes of h1 at each size (detection and outage: median and max)")
	noSerial := fs.Bool("no-serial", false, "no serial cables at any size (UDP paths only)")
	out := fs.String("out", "", "also write the results as Markdown to `file`")
	plot := fs.String("plot", "", "write a PNG plot of CPU, traffic and detection against the size to `file`")
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	timeout := fs.Duration("timeout", 60*time.Second, "bound of every wait")
	interval := fs.Duration("interval", 0, "heartbeat interval of the daemons (0: failoverd's default)")
	deadtime := fs.Duration("deadtime", 0, "deadtime of the daemons (0: failoverd's default)")
	keep := fs.String("keep", "", "keep each size's configs and daemon logs in `dir`/nN (default: a temporary directory, removed)")
	from := fs.String("from", "", "measure nothing: read the results of an earlier --json run from `file` (to print, --out or --plot them again)")
	fs.BoolVar(&r.json, "json", r.json, "print the results as JSON")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	sizes, err := parseNodes(*nodes)
	if err != nil {
		return usageErrorf("failover lab scale: %v", err)
	}
	if *window < time.Second {
		return usageErrorf("failover lab scale: --window %s is too short (at least 1s)", *window)
	}
	if *runs < 1 {
		return usageErrorf("failover lab scale: --runs %d: want 1 or more", *runs)
	}
	if *timeout < time.Second {
		return usageErrorf("failover lab scale: --timeout %s is too short (at least 1s)", *timeout)
	}
	if err := checkTimers(*interval, *deadtime); err != nil {
		return usageErrorf("failover lab scale: %v", err)
	}
	if *from != "" {
		rep, err := readScaleReport(*from)
		if err != nil {
			return err
		}
		return r.scaleOutput(rep, "(read from "+*from+")", *out, *plot)
	}
	if err := labPreflight(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "failover-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := r.measuringFailoverd(ctx, *failoverd, tmp)
	if err != nil {
		return err
	}
	racks := filepath.Join(tmp, "racks")
	if *keep != "" {
		racks = *keep
	}
	rep, err := rig.RunScale(ctx, rig.ScaleOptions{
		Nodes: sizes, Window: *window, Runs: *runs, NoSerial: *noSerial, Failoverd: bin,
		Dir: racks, Timeout: *timeout, Progress: r.narrate, Interval: *interval, Deadtime: *deadtime,
	})
	if err != nil {
		return fmt.Errorf("failover lab scale: %w", err)
	}
	cmd := "sudo failover lab scale --nodes " + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(sizes)), ","), "[]") +
		" --window " + window.String() + " --runs " + strconv.Itoa(*runs)
	if *noSerial {
		cmd += " --no-serial"
	}
	if *interval > 0 {
		cmd += " --interval " + interval.String()
	}
	if *deadtime > 0 {
		cmd += " --deadtime " + deadtime.String()
	}
	rep.Machine = fmt.Sprintf("%s, %d CPUs, Linux %s, %s", rig.CPUModel(), runtime.NumCPU(), rig.Kernel(), runtime.Version())
	rep.Command = cmd
	return r.scaleOutput(rep, cmd, *out, *plot)
}

// readScaleReport reads the --json output of an earlier run.
func readScaleReport(file string) (*rig.ScaleReport, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("failover lab scale: --from: %w", err)
	}
	var rep rig.ScaleReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("failover lab scale: --from %s: not the --json output of failover lab scale: %w", file, err)
	}
	if len(rep.Rows) == 0 {
		return nil, fmt.Errorf("failover lab scale: --from %s: no rows", file)
	}
	return &rep, nil
}

// scaleOutput prints rep (Markdown, or JSON with --json) and writes the
// --out and --plot files.
func (r *runner) scaleOutput(rep *rig.ScaleReport, cmd, out, plot string) error {
	if rep.Command != "" {
		cmd = rep.Command
	}
	text := scaleMarkdown(rep, cmd, rep.Machine)
	if r.json {
		if err := r.printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(r.env.Stdout, text)
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			return fmt.Errorf("failover lab scale: --out: %w", err)
		}
		r.narrate("wrote %s", out)
	}
	if plot != "" {
		if err := rig.PlotScale(rep.Rows, plot); err != nil {
			return fmt.Errorf("failover lab scale: --plot: %w", err)
		}
		r.narrate("wrote %s", plot)
	}
	return nil
}
