package cli

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// parseNodes reads --nodes: a comma-separated list of cluster sizes, each
// 2..lab.MaxHosts, no size twice; returned in the order given.
func parseNodes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 2 || n > lab.MaxHosts {
			return nil, fmt.Errorf("--nodes %q: %q is not a cluster size: want a comma-separated list of sizes 2..%d (e.g. 2,4,8,16)", s, f, lab.MaxHosts)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("--nodes %q: size %d is given twice", s, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkTimers checks --interval and --deadtime as far as the lab needs
// (failoverd checks the rest): not negative, and a deadtime above two
// intervals when both are given.
func checkTimers(interval, deadtime time.Duration) error {
	var errs []error
	if interval < 0 {
		errs = append(errs, fmt.Errorf("--interval %s: want a positive duration, or 0 for failoverd's default", interval))
	}
	if deadtime < 0 {
		errs = append(errs, fmt.Errorf("--deadtime %s: want a positive duration, or 0 for failoverd's default", deadtime))
	}
	if interval > 0 && deadtime > 0 && deadtime <= 2*interval {
		errs = append(errs, fmt.Errorf("--deadtime %s: want more than 2 x --interval (%s)", deadtime, 2*interval))
	}
	return errors.Join(errs...)
}

// scaleMarkdown renders a scale report measured on machine: the per-size table, traffic per
// path, the growth per peer and its verdict.
func scaleMarkdown(rep *rig.ScaleReport, cmd, machine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Cost by cluster size\n\nMeasured with `%s` on %s (%s).\n", cmd, rep.When.Format("2006-01-02 15:04 MST"), machine)
	fmt.Fprintf(&b, "Each size is a fresh rack: N hosts, heartbeats on eth0 and eth1 (multicast) and a serial cable\n"+
		"between neighbours (h1-h2-...-hN) unless noted, N services s1..sN, service i preferred by host i.\n"+
		"Idle: every daemon over the window, settled. Detection: h1 frozen (power pull), time until each other\n"+
		"host logged h1 dead (log times have ms resolution); outage: the client's longest gap on s1.\n"+
		"Idle peer changes / stalls: \"peer state\" lines and stall alarms the daemons logged during the idle\n"+
		"window (0 / 0 in a settled cluster on an unloaded machine). Machine busy: all CPUs of the machine\n"+
		"(every process, also other users') over the idle window, and the part in softirq (packets).\n\n")
	fmt.Fprintf(&b, "| nodes | serial | interval / deadtime | CPU ms/s mean (max) | %% core mean (max) | wake-ups/s | RSS mean (max) | B/s out per node | B/s in per node | frames/s out / in | detection median (max) | s1 outage median (max) | idle: peer changes / stalls | machine busy (softirq) | load before → after |\n")
	fmt.Fprintf(&b, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rep.Rows {
		serial := "yes"
		if !r.Serial {
			serial = "no"
		}
		fmt.Fprintf(&b, "| %d | %s | %s / %s | %.1f (%.1f) | %.2f (%.2f) | %.0f | %.1f (%.1f) MiB | %.0f | %.0f | %.0f / %.0f | %s | %s | %d / %d | %.0f%% (%.0f%%) | %s → %s |\n",
			r.Nodes, serial, r.Interval, r.Deadtime, r.CPUmsMean, r.CPUmsMax, r.CPUPctMean, r.CPUPctMax, r.WakeupsMean,
			mib(r.RSSMean), mib(r.RSSMax), r.BytesOut, r.BytesIn, r.FramesOut, r.FramesIn,
			spread(r.Detection), spread(r.Outage), r.IdlePeerChanges, r.IdleStalls, r.MachineBusyPct, r.MachineSoftirqPct, r.LoadBefore, r.LoadAfter)
	}
	for _, r := range rep.Rows {
		if r.SerialNote != "" {
			fmt.Fprintf(&b, "\nNote: %s.\n", r.SerialNote)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "\nNote (%d nodes): %s.\n", r.Nodes, n)
		}
	}
	fmt.Fprintf(&b, "\nTraffic per path and node (mean over the nodes that have the path):\n\n")
	fmt.Fprintf(&b, "| nodes | path | nodes with it | B/s out | B/s in | frames/s out / in | bytes per frame sent |\n|---:|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Rows {
		for _, p := range r.Paths {
			fmt.Fprintf(&b, "| %d | %s | %d | %.0f | %.0f | %.1f / %.1f | %.0f |\n", r.Nodes, p.Path, p.Nodes, p.BytesOut, p.BytesIn, p.FramesOut, p.FramesIn, p.FrameBytes)
		}
	}
	fmt.Fprintf(&b, "\nGrowth per peer (per node, divided by N-1; ratio to the first size: 1 = linear in the peers):\n\n")
	fmt.Fprintf(&b, "| nodes | B/s out per peer | ratio | B/s in per peer | ratio | CPU ms/s per peer | ratio |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, g := range rep.Growth {
		fmt.Fprintf(&b, "| %d | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f |\n", g.Nodes, g.OutPerPeer, g.OutRatio, g.InPerPeer, g.InRatio, g.CPUPerPeer, g.CPURatio)
	}
	fmt.Fprintf(&b, "\n%s.\n\nLoad average at the end: %s.\n", rep.Verdict, rep.LoadEnd)
	return b.String()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// spread shows a median and max in ms, "not measured" without samples.
func spread(s rig.Spread) string {
	if s.Samples == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.0f (%.0f) ms", s.Median, s.Max)
}
