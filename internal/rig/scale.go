package rig

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RotatedPriorities is the priority of each of the hosts h1..hN for the
// service preferred by host first: n on hfirst, then one less on each next
// host, wrapping around after hN.
func RotatedPriorities(n, first int) map[string]int {
	m := make(map[string]int, n)
	for h := 1; h <= n; h++ {
		m["h"+strconv.Itoa(h)] = n - ((h-first)%n+n)%n
	}
	return m
}

// NextOwner is the host with the second highest priority in prio: where a
// service goes when its preferred host dies.
func NextOwner(prio map[string]int) string {
	type hp struct {
		h string
		p int
	}
	var all []hp
	for h, p := range prio {
		all = append(all, hp{h, p})
	}
	slices.SortFunc(all, func(a, b hp) int {
		if a.p != b.p {
			return b.p - a.p
		}
		return strings.Compare(a.h, b.h)
	})
	if len(all) < 2 {
		return ""
	}
	return all[1].h
}

// TextLogLine is one line of failoverd's text log (log/slog's TextHandler:
// key=value pairs, values quoted with Go syntax when they need it).
type TextLogLine struct {
	Time  time.Time
	Level string
	Msg   string
	Attrs map[string]string
}

// ParseLogLine reads one text log line. ok is false if the line is not
// key=value pairs with a parsable time.
func ParseLogLine(line string) (l TextLogLine, ok bool) {
	l.Attrs = map[string]string{}
	s := strings.TrimSpace(line)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \"") {
			return TextLogLine{}, false
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := closingQuote(s)
			if end < 0 {
				return TextLogLine{}, false
			}
			v, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return TextLogLine{}, false
			}
			val, s = v, s[end+1:]
		} else {
			sp := strings.IndexByte(s, ' ')
			if sp < 0 {
				sp = len(s)
			}
			val, s = s[:sp], s[sp:]
		}
		s = strings.TrimLeft(s, " ")
		switch key {
		case "time":
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				return TextLogLine{}, false
			}
			l.Time = t
		case "level":
			l.Level = val
		case "msg":
			l.Msg = val
		default:
			l.Attrs[key] = val
		}
	}
	if l.Time.IsZero() {
		return TextLogLine{}, false
	}
	return l, true
}

// closingQuote is the index of the quote that ends the Go string literal at
// the start of s, -1 if there is none.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// DeadAt finds, in a daemon's log, the first "peer state" line that declares
// peer dead at or after since. The log's times have millisecond resolution,
// so since is compared truncated to the millisecond.
func DeadAt(log []byte, peer string, since time.Time) (time.Time, bool) {
	since = since.Truncate(time.Millisecond)
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "peer state") {
			continue
		}
		l, ok := ParseLogLine(line)
		if !ok || l.Msg != "peer state" || l.Attrs["peer"] != peer || l.Attrs["to"] != "dead" {
			continue
		}
		if !l.Time.Before(since) {
			return l.Time, true
		}
	}
	return time.Time{}, false
}

// CountEvents counts, in a piece of a daemon's log, the "peer state"
// lines and the stall alarms ("stalled for ...").
func CountEvents(log []byte) (peerChanges, stalls int) {
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "peer state") && !strings.Contains(line, "stalled for") {
			continue
		}
		l, ok := ParseLogLine(line)
		if !ok {
			continue
		}
		switch {
		case l.Msg == "peer state":
			peerChanges++
		case l.Msg == "ALARM" && strings.HasPrefix(l.Attrs["reason"], "stalled for"):
			stalls++
		}
	}
	return peerChanges, stalls
}

// Spread is the median and maximum of a set of durations, in ms.
type Spread struct {
	Samples int     `json:"samples"`
	Median  float64 `json:"median_ms"`
	Max     float64 `json:"max_ms"`
}

// SpreadOf is the median (the mean of the middle two for an even count) and
// the maximum of ds; zero for none.
func SpreadOf(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	v := slices.Clone(ds)
	slices.Sort(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Spread{Samples: n, Median: msOf(med), Max: msOf(v[n-1])}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ScaleNode is one host's daemon in a scale run.
type ScaleNode struct {
	Host      string  `json:"host"`
	CPUms     float64 `json:"cpu_ms_per_s"`
	CPUPct    float64 `json:"cpu_pct_core"`
	Wakeups   float64 `json:"wakeups_per_s"`
	RSS       int64   `json:"rss_bytes"`
	BytesOut  float64 `json:"bytes_out_per_s"` // all paths
	BytesIn   float64 `json:"bytes_in_per_s"`
	FramesOut float64 `json:"frames_out_per_s"`
	FramesIn  float64 `json:"frames_in_per_s"`
	// Detection is, per run, how long after the freeze of the victim this
	// host logged it dead, in ms; empty for the victim.
	Detection []float64 `json:"detection_ms"`
}

// ScalePath is one path's traffic per node (mean over the nodes that have
// the path).
type ScalePath struct {
	Path      string  `json:"path"`
	Nodes     int     `json:"nodes"` // hosts with this path
	BytesOut  float64 `json:"bytes_out_per_s"`
	BytesIn   float64 `json:"bytes_in_per_s"`
	FramesOut float64 `json:"frames_out_per_s"`
	FramesIn  float64 `json:"frames_in_per_s"`
	// FrameBytes is the mean size of a frame sent (bytes out / frames out).
	FrameBytes float64 `json:"frame_bytes"`
}

// ScaleRow is what a scale run measured at one cluster size.
type ScaleRow struct {
	Nodes      int    `json:"nodes"`
	Serial     bool   `json:"serial"`
	SerialNote string `json:"serial_note,omitempty"` // why serial was left out
	// Notes say what was not as planned (idle sampled while a path was
	// suspect, ...).
	Notes      []string `json:"notes,omitempty"`
	Window     string   `json:"window"`
	LoadBefore string   `json:"load_before"`
	LoadAfter  string   `json:"load_after"`
	Interval   string   `json:"interval"`
	Deadtime   string   `json:"deadtime"`

	CPUmsMean   float64 `json:"cpu_ms_per_s_mean"`
	CPUmsMax    float64 `json:"cpu_ms_per_s_max"`
	CPUPctMean  float64 `json:"cpu_pct_core_mean"`
	CPUPctMax   float64 `json:"cpu_pct_core_max"`
	WakeupsMean float64 `json:"wakeups_per_s_mean"`
	RSSMean     int64   `json:"rss_bytes_mean"`
	RSSMax      int64   `json:"rss_bytes_max"`
	BytesOut    float64 `json:"bytes_out_per_s_per_node"` // all paths, mean over nodes
	BytesIn     float64 `json:"bytes_in_per_s_per_node"`
	FramesOut   float64 `json:"frames_out_per_s_per_node"`
	FramesIn    float64 `json:"frames_in_per_s_per_node"`

	Paths []ScalePath `json:"paths"`
	Hosts []ScaleNode `json:"hosts"`
	// IdlePeerChanges and IdleStalls count what the daemons logged during
	// the idle window: "peer state" lines (a peer suspected, declared dead
	// or back: none in a settled cluster) and stall alarms.
	IdlePeerChanges int `json:"idle_peer_changes"`
	IdleStalls      int `json:"idle_stalls"`
	// MachineBusyPct is how busy all the machine's CPUs were during the
	// idle window (every process, the lab's and others'), and
	// MachineSoftirqPct the part of it in softirq (packets).
	MachineBusyPct    float64 `json:"machine_busy_pct"`
	MachineSoftirqPct float64 `json:"machine_softirq_pct"`

	Victim    string `json:"victim"`     // the frozen host
	NextOwner string `json:"next_owner"` // where its service went
	Runs      int    `json:"runs"`
	// Detection: from the freeze to each other host logging the victim
	// dead, over every observer and run.
	Detection Spread `json:"detection"`
	// Outage: the longest gap in the client's answers from the victim's
	// service, per run.
	Outage Spread `json:"outage"`
}

// pathKind folds the serial paths of a host (serial0, serial1) into one
// kind, "serial"; other paths keep their names.
func pathKind(name string) string {
	if strings.HasPrefix(name, "serial") {
		return "serial"
	}
	return name
}

// ScaleReport is a whole scale run.
type ScaleReport struct {
	When    time.Time  `json:"when"`
	Command string     `json:"command"` // how it was run (filled by the caller)
	Machine string     `json:"machine"` // CPU, count, kernel, Go (filled by the caller)
	Rows    []ScaleRow `json:"rows"`
	Growth  []Growth   `json:"growth"`
	Verdict string     `json:"verdict"`
	LoadEnd string     `json:"load_end"`
}

// Growth is how one size's per-node traffic compares with the smallest
// size's, per peer: if each node's bytes out grow linearly with its peers,
// OutPerPeer stays about constant.
type Growth struct {
	Nodes      int     `json:"nodes"`
	OutPerPeer float64 `json:"bytes_out_per_s_per_peer"` // BytesOut / (N-1)
	InPerPeer  float64 `json:"bytes_in_per_s_per_peer"`  // BytesIn / (N-1)
	CPUPerPeer float64 `json:"cpu_ms_per_s_per_peer"`    // CPUmsMean / (N-1)
	// OutRatio, InRatio and CPURatio are the per-peer figures divided by
	// those of the first row: 1 means linear in the peers, below 1 slower,
	// above 1 faster.
	OutRatio float64 `json:"out_ratio"`
	InRatio  float64 `json:"in_ratio"`
	CPURatio float64 `json:"cpu_ratio"`
}

// GrowthOf computes the growth of rows (in the order given; the first is the
// reference). Rows with fewer than two nodes are left out.
func GrowthOf(rows []ScaleRow) []Growth {
	var out []Growth
	for _, r := range rows {
		if r.Nodes < 2 {
			continue
		}
		p := float64(r.Nodes - 1)
		g := Growth{Nodes: r.Nodes, OutPerPeer: r.BytesOut / p, InPerPeer: r.BytesIn / p, CPUPerPeer: r.CPUmsMean / p}
		if len(out) > 0 {
			ref := out[0]
			g.OutRatio = ratio(g.OutPerPeer, ref.OutPerPeer)
			g.InRatio = ratio(g.InPerPeer, ref.InPerPeer)
			g.CPURatio = ratio(g.CPUPerPeer, ref.CPUPerPeer)
		} else {
			g.OutRatio, g.InRatio, g.CPURatio = 1, 1, 1
		}
		out = append(out, g)
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// LinearSlack is how far above 1 a per-peer ratio may be and still count as
// growing no faster than linearly (measurement noise on a shared machine).
const LinearSlack = 1.25

// GrowthVerdict says in one sentence whether the bytes out per node grew no
// faster than linearly with the peers across growth, naming the largest
// per-peer ratio.
func GrowthVerdict(growth []Growth) string {
	if len(growth) < 2 {
		return "one cluster size only: no growth to judge"
	}
	worst := growth[1]
	for _, g := range growth[1:] {
		if g.OutRatio > worst.OutRatio {
			worst = g
		}
	}
	first, last := growth[0], growth[len(growth)-1]
	verb := "grow no faster than linearly with the peers"
	if worst.OutRatio > LinearSlack {
		verb = "grow FASTER than linearly with the peers"
	}
	return fmt.Sprintf("bytes out per node per peer: %.0f B/s at %d nodes, %.0f B/s at %d nodes (largest ratio to %d nodes: %.2f at %d nodes): a node's bytes out %s; bytes in per node per peer ratio %.2f at %d nodes",
		first.OutPerPeer, first.Nodes, last.OutPerPeer, last.Nodes, first.Nodes, worst.OutRatio, worst.Nodes, verb, last.InRatio, last.Nodes)
}
