package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/failover-ha/failover/daemon/client"
)

func statusCmd() *command {
	return &command{
		name:   "status",
		short:  "show peers, paths, services and mismatches (the original's failstat)",
		common: true,
		long: `Prints one daemon's view of the cluster: each peer with its verdict and
every path to it (up, suspect or down, last heard, round trip, loss), each
service with its state here and its owner, this host's own paths, config or
timing mismatches with the peers, and recent alarms.

A peer is "degraded" when some path to it is down but at least one is up; it
is "dead" only when every path is silent.

With --html FILE, the status is written to FILE as a self-contained HTML
page (replaced atomically) that reloads itself every --refresh; run it from
cron, or use "failover watch --html" to keep it fresh. If the daemon does not
answer, the page says so and the command fails.`,
		examples: []string{
			"failover status",
			"failover status --json | jq '.services[] | {name, state, owner}'",
			"failover --host 198.18.1.1:7406 --key-file /etc/failover/failover.key status",
			"failover status --html /var/www/html/failover.html",
		},
		run: func(ctx context.Context, r *runner, args []string) error {
			c := r.find("status")
			fs := r.flags(c)
			html := fs.String("html", "", "write the status as an HTML page to `file` instead of printing it")
			refresh := fs.Duration("refresh", time.Minute, "with --html: the page reloads itself every `duration` (0 = never)")
			if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
				return err
			}
			if *html != "" && *refresh != 0 && *refresh < minRefresh {
				return usageErrorf("failover status: --refresh %s is too short (0, or at least %s)", *refresh, minRefresh)
			}
			cl, err := r.dial()
			if err != nil {
				return err
			}
			defer cl.Close()
			st, err := cl.Status(ctx)
			if *html != "" {
				if werr := writeHTML(r, *html, *refresh, st, err); werr != nil {
					return werr
				}
			}
			if err != nil {
				return err
			}
			if *html != "" {
				return nil
			}
			if r.json {
				return r.printJSON(st)
			}
			_, err = io.WriteString(r.env.Stdout, RenderStatus(st))
			return err
		},
	}
}

// RenderStatus formats a daemon's status as plain tables.
func RenderStatus(st *client.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "node %s", st.Node)
	if st.Cluster != "" {
		fmt.Fprintf(&b, "  cluster %s", st.Cluster)
	}
	fmt.Fprintf(&b, "  up %s  interval %s  deadtime %s  log %s\n",
		roundDur(time.Duration(st.Uptime)), time.Duration(st.Interval), time.Duration(st.Deadtime), st.LogLevel)
	if st.Insecure {
		b.WriteString("WARNING: insecure_no_auth is set: heartbeats are not authenticated\n")
	}
	if st.Stalls > 0 {
		fmt.Fprintf(&b, "STALLED %d time(s): the last for %s, ended %s; claims were dropped each time\n",
			st.Stalls, roundDur(time.Duration(st.LastStall)), ago(st.LastStallAt, st.Now))
	}

	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tVERDICT\tPATH\tSTATE\tLAST HEARD\tRTT\tLOSS")
	if len(st.Peers) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t\t\t\t")
	}
	for _, p := range st.Peers {
		verdict := p.State
		if len(p.Paths) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\n", p.Name, verdict)
		}
		for i, pp := range p.Paths {
			name, v := p.Name, verdict
			if i > 0 {
				name, v = "", ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f%%\n", name, v, pp.Path, pathState(pp),
				heard(pp.LastHeard, time.Duration(pp.Age)), rtt(time.Duration(pp.RTT)), pp.Loss)
		}
	}
	tw.Flush()
	for _, p := range st.Peers {
		if p.Reason != "" && p.State != "alive" {
			fmt.Fprintf(&b, "  %s %s: %s\n", p.Name, p.State, p.Reason)
		}
	}

	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tOWNER\tVIP\tINTERFACE\tHERE\tPEERS\tSINCE")
	if len(st.Services) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t\t\t\t\t")
	}
	for _, s := range st.Services {
		owner := s.Owner
		if owner == "" {
			owner = "-"
		}
		here := "no"
		if s.Present {
			here = "yes"
		}
		var remote []string
		for _, rs := range s.Remote {
			remote = append(remote, rs.Node+"="+rs.State)
		}
		rem := strings.Join(remote, ",")
		if rem == "" {
			rem = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.State, owner, s.VIP, s.Interface, here, rem, ago(s.Since, st.Now))
	}
	tw.Flush()
	for _, s := range st.Services {
		if s.Reason != "" {
			fmt.Fprintf(&b, "  %s %s: %s\n", s.Name, s.State, s.Reason)
		}
		if s.AnnounceFailures > 0 {
			fmt.Fprintf(&b, "  %s: %d gratuitous ARP send(s) failed and were sent again; the last %s: %s\n",
				s.Name, s.AnnounceFailures, ago(s.AnnounceErrorAt, st.Now), s.AnnounceError)
		}
	}

	renderChecks(&b, st)
	renderHooks(&b, st)

	if len(st.Paths) > 0 {
		b.WriteString("\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "OWN PATH\tKIND\tON\tCARRIER\tSENT\tRECEIVED\tSEND ERR\tBAD TAG\tDAMAGED\tREPLAYED\tFOREIGN\tSTALE\tOUT B/S\tIN B/S")
		for _, p := range st.Paths {
			on := p.Interface
			if on == "" {
				on = p.Device
			}
			carrier := "up"
			switch {
			case !p.Open:
				carrier = "not open"
			case !p.Carrier:
				carrier = "down"
			case p.Flapping:
				carrier = "flapping"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\n", p.Name, p.Kind, on, carrier,
				p.Sent, p.Received, p.SendErr, p.AuthFail, p.Damaged, p.Replayed, p.Foreign, p.Stale, p.SentRate, p.RecvRate)
		}
		tw.Flush()
		for _, p := range st.Paths {
			if p.Error != "" {
				fmt.Fprintf(&b, "  %s: %s\n", p.Name, p.Error)
			}
		}
	}

	b.WriteString("\n")
	if len(st.Mismatch) == 0 {
		b.WriteString("mismatches: none\n")
	} else {
		b.WriteString("MISMATCHES (fix these: the same timers and services on every host):\n")
		for _, m := range st.Mismatch {
			fmt.Fprintf(&b, "  %s\n", m)
		}
	}
	if len(st.Alarms) > 0 {
		b.WriteString("alarms (newest last):\n")
		alarms := st.Alarms
		if len(alarms) > 5 {
			alarms = alarms[len(alarms)-5:]
		}
		for _, a := range alarms {
			who := strings.TrimSpace(a.Service + " " + a.Peer)
			if who != "" {
				who += ": "
			}
			fmt.Fprintf(&b, "  %s %s%s\n", a.At.Local().Format("15:04:05"), who, a.Text)
		}
	}
	return b.String()
}

// pathState is a peer path's state as the table shows it: "flapping"
// while held down, and "one-way" when the peer does not hear us on it.
func pathState(pp client.PeerPath) string {
	s := pp.State
	if pp.Flapping {
		s = "flapping"
	}
	if pp.OneWay {
		s += " one-way"
	}
	return s
}

// renderChecks lists the services' health checks, if any.
func renderChecks(b *strings.Builder, st *client.Status) {
	n := 0
	for _, s := range st.Services {
		n += len(s.Checks)
	}
	if n == 0 {
		return
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tKIND\tEFFECT\tVERDICT\tLAST RUN\tTOOK\tRUNS\tFAILED\tOUTPUT")
	for _, s := range st.Services {
		for _, c := range s.Checks {
			effect := c.Effect
			if c.Weight > 0 {
				effect += " " + strconv.Itoa(c.Weight)
			}
			verdict := "ok"
			if !c.OK {
				verdict = "FAILING"
			}
			if c.Runs == 0 {
				verdict = "pending"
			}
			out := c.Output
			if out == "" {
				out = "-"
			}
			fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.Name, c.Name, c.Kind, effect, verdict,
				ago(c.LastRun, st.Now), rtt(time.Duration(c.Duration)), c.Runs, c.Failures, out)
		}
	}
	tw.Flush()
	for _, s := range st.Services {
		if s.Drop > 0 {
			fmt.Fprintf(b, "  %s: priority lowered by %d to %d by failing weight checks\n", s.Name, s.Drop, s.Priority)
		}
	}
}

// renderHooks shows the last notify hook runs and the FIFO, if configured.
func renderHooks(b *strings.Builder, st *client.Status) {
	h := st.Hooks
	if h == nil {
		return
	}
	fmt.Fprintf(b, "\nhooks: %d queued, %d dropped", h.Queued, h.Dropped)
	if h.FIFO != "" {
		fmt.Fprintf(b, "; fifo %s: %d lines, %d dropped", h.FIFO, h.FIFOLines, h.FIFODropped)
		if h.FIFOError != "" {
			fmt.Fprintf(b, " (%s)", h.FIFOError)
		}
	}
	b.WriteString("\n")
	runs := h.Recent
	if len(runs) > 5 {
		runs = runs[len(runs)-5:]
	}
	if len(runs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOOK RUN\tCHANGE\tCOMMAND\tEXIT\tTOOK\tAT\tERROR")
	for _, r := range runs {
		errText := r.Error
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(tw, "%s/%s\t%s->%s\t%s\t%d\t%s\t%s\t%s\n", r.Service, r.Hook, r.From, r.To, strings.Join(r.Command, " "),
			r.Exit, rtt(time.Duration(r.Duration)), ago(r.At, st.Now), errText)
	}
	tw.Flush()
}

func heard(at time.Time, age time.Duration) string {
	if at.IsZero() {
		return "never"
	}
	return roundDur(age) + " ago"
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if now.IsZero() {
		now = time.Now()
	}
	return roundDur(now.Sub(t)) + " ago"
}

func rtt(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return roundDur(d)
}

// roundDur prints d with a precision that suits its size.
func roundDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// summary is the one-line digest of a status used by watch's change log and
// the lab: "web=up(h1)".
func summary(st *client.Status) map[string]string {
	m := map[string]string{}
	for _, p := range st.Peers {
		m["peer "+p.Name] = p.State
		for _, pp := range p.Paths {
			m["path "+p.Name+"/"+pp.Path] = pp.State
		}
	}
	for _, s := range st.Services {
		owner := s.Owner
		if owner == "" {
			owner = "nobody"
		}
		m["service "+s.Name] = s.State + " (owner " + owner + ")"
		for _, c := range s.Checks {
			v := "ok"
			if !c.OK {
				v = "failing"
			}
			m["check "+s.Name+"/"+c.Name] = v
		}
	}
	return m
}

// changes lists what differs between two summaries, sorted.
func changes(old, cur map[string]string) []string {
	var out []string
	for k, v := range cur {
		if o, ok := old[k]; !ok {
			out = append(out, fmt.Sprintf("%s: %s", k, v))
		} else if o != v {
			out = append(out, fmt.Sprintf("%s: %s -> %s", k, o, v))
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			out = append(out, fmt.Sprintf("%s: gone", k))
		}
	}
	sort.Strings(out)
	return out
}
