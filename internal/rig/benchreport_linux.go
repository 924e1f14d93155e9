package rig

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// table is a header and rows, shown as aligned text or as Markdown.
type table struct {
	head  []string
	right []bool // right-aligned columns (Markdown)
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) text(b *strings.Builder, indent string) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s%s\n", indent, strings.Join(t.head, "\t"))
	for _, r := range t.rows {
		fmt.Fprintf(tw, "%s%s\n", indent, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (t *table) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "| %s |\n|", strings.Join(t.head, " | "))
	for i := range t.head {
		if i < len(t.right) && t.right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
}

// outageTable has one row per scenario: runs, measured, min .. max of the
// outage (icmp: as seen by ping); a scenario with no measured run says so
// instead of numbers.
func (r *BenchResult) outageTable(icmp bool) *table {
	t := &table{head: []string{"scenario", "runs", "measured", "min", "p50", "p90", "p99", "max"},
		right: []bool{false, true, true, true, true, true, true, true}}
	for _, s := range r.Scenarios {
		d := s.Outage
		if icmp {
			d = s.OutageICMP
		}
		row := []string{s.Name, fmt.Sprint(len(s.Runs)), fmt.Sprint(d.N)}
		if d.N == 0 {
			row = append(row, "not measured", "-", "-", "-", "-") // the reasons follow the table
		} else {
			row = append(row, fmtMs(d.Min), fmtMs(d.P50), fmtMs(d.P90), fmtMs(d.P99), fmtMs(d.Max))
		}
		t.add(row...)
	}
	return t
}

// stageTable shows p50 and max of each stage found in s.
func stageTable(s *ScenarioResult) *table {
	t := &table{head: []string{"stage (from the fault)", "runs", "p50", "max"}, right: []bool{false, true, true, true}}
	for _, st := range Stages() {
		if d, ok := s.Stage(st); ok {
			t.add(st, fmt.Sprint(d.N), fmtMs(d.P50), fmtMs(d.Max))
		}
	}
	return t
}

// unmeasured lists the runs that were not measured, one line each.
func unmeasured(s ScenarioResult) []string {
	var out []string
	for _, r := range s.Runs {
		if !r.Measured {
			out = append(out, fmt.Sprintf("run %d not measured (%s)", r.Run, r.Reason))
		}
	}
	return out
}

func (r *BenchResult) setup() string {
	paths := "eth0 and eth1 (multicast)"
	if r.Serial {
		paths += " and a serial null-modem (pty relay)"
	}
	procs := "GOMAXPROCS unset"
	if r.GOMAXPROCS > 0 {
		procs = fmt.Sprintf("GOMAXPROCS=%d", r.GOMAXPROCS)
	}
	var timers []string
	for _, k := range slices.Sorted(maps.Keys(r.Timers)) {
		timers = append(timers, k+" "+r.Timers[k])
	}
	return fmt.Sprintf("2 hosts (h1 priority 2, h2 priority 1), heartbeats on %s; timers: %s; %s; VIP %s on eth0",
		paths, strings.Join(timers, ", "), procs, DefaultVIP)
}

// Text is the result for a terminal: the setup, the outage table, and per
// scenario its stages and the runs that were not measured.
func (r *BenchResult) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d CPUs, Linux %s, %s; load %s at the start, %s at the end\n",
		r.Machine, r.CPUs, r.Kernel, r.Go, r.LoadStart, r.LoadEnd)
	fmt.Fprintf(&b, "%s\n", r.setup())
	if r.Idle != nil {
		b.WriteString("\n")
		r.idleTables(&b, false)
	}
	if len(r.Scenarios) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "\nclient-observed outage (a UDP probe every %s; longest gap minus one probe interval):\n", ProbeInterval)
	r.outageTable(false).text(&b, "")
	fmt.Fprintf(&b, "\nthe same seen by ICMP echo (a ping every %s):\n", ProbeInterval)
	r.outageTable(true).text(&b, "")
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		fmt.Fprintf(&b, "\n%s: %s\n  detection: %s\n", s.Name, s.What, s.Detection)
		if len(s.Stages) > 0 {
			stageTable(s).text(&b, "  ")
		}
		for _, l := range unmeasured(*s) {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// Markdown is the result as a Markdown section; command is the command
// line that measured it.
func (r *BenchResult) Markdown(command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nMeasured in the lab with `%s`. Measured, not asserted: the tests never time anything.\n\n", command)
	fmt.Fprintf(&b, "- When: %s; load average %s when the cluster had settled, %s at the end\n",
		r.When.Format("2006-01-02 15:04 MST"), r.LoadStart, r.LoadEnd)
	fmt.Fprintf(&b, "- Machine: %s, %d CPUs, Linux %s, %s\n", r.Machine, r.CPUs, r.Kernel, r.Go)
	fmt.Fprintf(&b, "- Cluster: %s\n", r.setup())
	if len(r.Scenarios) > 0 {
		fmt.Fprintf(&b, "- Client: a UDP probe to the VIP every %s from 198.18.1.250; each host answers with its name.\n"+
			"  Outage = the longest stretch between two answered probes after the fault, minus one probe\n"+
			"  interval (0 ms: no probe lost). Stages are times from the fault, from the daemons' JSON logs\n"+
			"  and the client's first answer from the new owner. The client also pings the VIP every %s;\n"+
			"  the second table is the outage seen by ICMP echo.\n\n", ProbeInterval, ProbeInterval)
		b.WriteString("Outage seen by the UDP probes:\n\n")
		r.outageTable(false).markdown(&b)
		b.WriteString("\nOutage seen by ICMP echo:\n\n")
		r.outageTable(true).markdown(&b)
		for i := range r.Scenarios {
			s := &r.Scenarios[i]
			fmt.Fprintf(&b, "\n### %s\n\n%s. Detection: `%s`.\n\n", s.Name, s.What, s.Detection)
			if len(s.Stages) > 0 {
				stageTable(s).markdown(&b)
			}
			for _, l := range unmeasured(*s) {
				fmt.Fprintf(&b, "- %s\n", l)
			}
		}
	}
	if r.Idle != nil {
		b.WriteString("\n")
		r.idleTables(&b, true)
	}
	return b.String()
}

// idleTables shows the idle sample: per host CPU, wake-ups, threads, RSS;
// per path bytes and frames per second.
func (r *BenchResult) idleTables(b *strings.Builder, md bool) {
	fmt.Fprintf(b, "idle failoverd over %s, both hosts settled (h1 holds the VIP); load %s -> %s:\n",
		time.Duration(r.Idle.Window), r.Idle.LoadBefore, r.Idle.LoadAfter)
	if md {
		b.WriteString("\n")
	}
	h := &table{head: []string{"host", "CPU ms/s", "wake-ups/s (vol + invol)", "threads", "RSS"}, right: []bool{false, true, true, true, true}}
	p := &table{head: []string{"host", "path", "sent B/s", "received B/s", "frames/s out / in"}, right: []bool{false, false, true, true, true}}
	for _, x := range r.Idle.Hosts {
		h.add(x.Host, fmt.Sprintf("%.1f", x.CPUms), fmt.Sprintf("%.0f (%.0f + %.0f)", x.Wakeups, x.Voluntary, x.Involuntary),
			fmt.Sprint(x.Threads), fmt.Sprintf("%.1f MiB", float64(x.RSS)/(1<<20)))
		for _, q := range x.Paths {
			p.add(x.Host, q.Path, fmt.Sprintf("%.0f", q.SentBytes), fmt.Sprintf("%.0f", q.RecvBytes), fmt.Sprintf("%.1f / %.1f", q.SentFrames, q.RecvFrames))
		}
	}
	if md {
		h.markdown(b)
		b.WriteString("\n")
		p.markdown(b)
		return
	}
	h.text(b, "  ")
	b.WriteString("\n")
	p.text(b, "  ")
}
