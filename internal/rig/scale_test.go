package rig

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRotatedPriorities(t *testing.T) {
	tests := []struct {
		n, first int
		want     map[string]int
	}{
		{2, 1, map[string]int{"h1": 2, "h2": 1}},
		{2, 2, map[string]int{"h1": 1, "h2": 2}},
		{4, 1, map[string]int{"h1": 4, "h2": 3, "h3": 2, "h4": 1}},
		{4, 3, map[string]int{"h1": 2, "h2": 1, "h3": 4, "h4": 3}},
		{4, 4, map[string]int{"h1": 3, "h2": 2, "h3": 1, "h4": 4}},
	}
	for _, tt := range tests {
		got := RotatedPriorities(tt.n, tt.first)
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("RotatedPriorities(%d, %d) (-want +got):\n%s", tt.n, tt.first, d)
		}
	}
}

// Every host prefers exactly one service and is next in line for exactly
// one other; every service's priorities are 1..n once each.
func TestRotatedPrioritiesSymmetric(t *testing.T) {
	for _, n := range []int{2, 3, 8, 16} {
		first, second := map[string]int{}, map[string]int{}
		for s := 1; s <= n; s++ {
			prio := RotatedPriorities(n, s)
			seen := map[int]bool{}
			for h, p := range prio {
				seen[p] = true
				switch p {
				case n:
					first[h]++
				case n - 1:
					second[h]++
				}
			}
			if len(seen) != n || !seen[1] || !seen[n] {
				t.Errorf("n=%d service %d: priorities %v, want 1..%d once each", n, s, prio, n)
			}
			if want := hostName(s%n + 1); NextOwner(prio) != want {
				t.Errorf("n=%d service %d: next owner %s, want %s", n, s, NextOwner(prio), want)
			}
		}
		for h := 1; h <= n; h++ {
			name := hostName(h)
			if first[name] != 1 || second[name] != 1 {
				t.Errorf("n=%d: %s first for %d and second for %d services, want 1 and 1", n, name, first[name], second[name])
			}
		}
	}
}

func TestNextOwner(t *testing.T) {
	if got := NextOwner(map[string]int{"h1": 5}); got != "" {
		t.Errorf("one host: next owner %q, want none", got)
	}
	if got := NextOwner(map[string]int{"h1": 1, "h2": 9, "h3": 4}); got != "h3" {
		t.Errorf("next owner %q, want h3", got)
	}
}

func TestParseLogLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
		want TextLogLine
	}{
		{
			line: `time=2026-12-06T21:19:24.581Z level=WARN msg="peer state" peer=h1 from=alive to=dead reason="every path down: eth0 silent 100ms, \"eth1\" silent"`,
			ok:   true,
			want: TextLogLine{
				Time: time.Date(2026, 12, 6, 21, 19, 24, 581e6, time.UTC), Level: "WARN", Msg: "peer state",
				Attrs: map[string]string{"peer": "h1", "from": "alive", "to": "dead", "reason": `every path down: eth0 silent 100ms, "eth1" silent`},
			},
		},
		{
			line: `time=2026-12-06T21:19:24.5+01:00 level=INFO msg=started`,
			ok:   true,
			want: TextLogLine{Time: time.Date(2026, 12, 6, 20, 19, 24, 5e8, time.UTC), Level: "INFO", Msg: "started", Attrs: map[string]string{}},
		},
		{line: `level=INFO msg=started`},                                     // no time
		{line: `time=yesterday level=INFO msg=started`},                      // bad time
		{line: `time=2026-12-06T21:19:24Z msg="unterminated`},                // open quote
		{line: `panic: runtime error: index out of range [3] with length 2`}, // not key=value
		{line: ``},
	}
	for _, tt := range tests {
		got, ok := ParseLogLine(tt.line)
		if ok != tt.ok {
			t.Errorf("ParseLogLine(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if !got.Time.Equal(tt.want.Time) {
			t.Errorf("ParseLogLine(%q) time %s, want %s", tt.line, got.Time, tt.want.Time)
		}
		got.Time, tt.want.Time = time.Time{}, time.Time{}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("ParseLogLine(%q) (-want +got):\n%s", tt.line, d)
		}
	}
}

// DeadAt reads lines written by log/slog's TextHandler, as failoverd
// writes them, and takes the first matching one at or after since.
func TestDeadAt(t *testing.T) {
	var buf bytes.Buffer
	var now time.Time
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Time(slog.TimeKey, now)
		}
		return a
	}})
	log := slog.New(h)
	t0 := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	now = at(0)
	log.Warn("peer state", "peer", "h1", "from", "alive", "to", "dead", "reason", "an old death")
	now = at(10)
	log.Info("heartbeat", "peer", "h1")
	now = at(40)
	log.Warn("peer state", "peer", "h1", "from", "alive", "to", "degraded", "reason", "eth0 down")
	now = at(90)
	log.Warn("peer state", "peer", "h2", "from", "alive", "to", "dead", "reason", "every path down")
	now = at(95)
	buf.WriteString("a line that is no log line\n")
	log.Warn("peer state", "peer", "h1", "from", "degraded", "to", "dead", "reason", "every path down")
	now = at(120)
	log.Warn("peer state", "peer", "h1", "from", "dead", "to", "dead", "reason", "later")

	tests := []struct {
		peer  string
		since time.Time
		want  time.Time
		ok    bool
	}{
		{"h1", at(5), at(95), true},
		{"h1", at(0), at(0), true},
		{"h1", at(95).Add(700 * time.Microsecond), at(95), true}, // the log's ms resolution
		{"h2", at(5), at(90), true},
		{"h1", at(121), time.Time{}, false},
		{"h3", t0, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := DeadAt(buf.Bytes(), tt.peer, tt.since)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("DeadAt(%s, since %s) = %s, %v; want %s, %v", tt.peer, tt.since.Format("15:04:05.000000"), got.Format("15:04:05.000"), ok, tt.want.Format("15:04:05.000"), tt.ok)
		}
	}
	if !strings.Contains(buf.String(), `msg="peer state"`) {
		t.Fatalf("the handler's format changed:\n%s", buf.String())
	}
}

func TestSpreadOf(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		in   []time.Duration
		want Spread
	}{
		{nil, Spread{}},
		{ms(7), Spread{Samples: 1, Median: 7, Max: 7}},
		{ms(30, 10, 20), Spread{Samples: 3, Median: 20, Max: 30}},
		{ms(40, 10, 20, 30), Spread{Samples: 4, Median: 25, Max: 40}},
		{[]time.Duration{1500 * time.Microsecond}, Spread{Samples: 1, Median: 1.5, Max: 1.5}},
	}
	for _, tt := range tests {
		if got := SpreadOf(tt.in); got != tt.want {
			t.Errorf("SpreadOf(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestGrowthOf(t *testing.T) {
	rows := []ScaleRow{
		{Nodes: 2, BytesOut: 1000, BytesIn: 1000, CPUmsMean: 10},
		{Nodes: 4, BytesOut: 3000, BytesIn: 6000, CPUmsMean: 15},  // linear out, in per peer x2
		{Nodes: 8, BytesOut: 14000, BytesIn: 7000, CPUmsMean: 35}, // out per peer x2
	}
	want := []Growth{
		{Nodes: 2, OutPerPeer: 1000, InPerPeer: 1000, CPUPerPeer: 10, OutRatio: 1, InRatio: 1, CPURatio: 1},
		{Nodes: 4, OutPerPeer: 1000, InPerPeer: 2000, CPUPerPeer: 5, OutRatio: 1, InRatio: 2, CPURatio: 0.5},
		{Nodes: 8, OutPerPeer: 2000, InPerPeer: 1000, CPUPerPeer: 5, OutRatio: 2, InRatio: 1, CPURatio: 0.5},
	}
	got := GrowthOf(rows)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("GrowthOf (-want +got):\n%s", d)
	}
	if g := GrowthOf([]ScaleRow{{Nodes: 1, BytesOut: 5}}); len(g) != 0 {
		t.Errorf("GrowthOf of one node = %+v, want nothing (no peers)", g)
	}
	if g := GrowthOf([]ScaleRow{{Nodes: 2}, {Nodes: 3, BytesOut: 10}}); g[1].OutRatio != 0 {
		t.Errorf("ratio to a zero reference = %v, want 0", g[1].OutRatio)
	}
}

func TestGrowthVerdict(t *testing.T) {
	tests := []struct {
		growth []Growth
		want   string
	}{
		{nil, "one cluster size only"},
		{[]Growth{{Nodes: 2, OutRatio: 1}}, "one cluster size only"},
		{[]Growth{{Nodes: 2, OutRatio: 1}, {Nodes: 4, OutRatio: 0.6}, {Nodes: 16, OutRatio: 0.5}}, "largest ratio to 2 nodes: 0.60 at 4 nodes): a node's bytes out grow no faster than linearly"},
		{[]Growth{{Nodes: 2, OutRatio: 1}, {Nodes: 4, OutRatio: 1.2}}, "grow no faster than linearly"},
		{[]Growth{{Nodes: 2, OutRatio: 1}, {Nodes: 4, OutRatio: 1.1}, {Nodes: 8, OutRatio: 1.9}}, "1.90 at 8 nodes): a node's bytes out grow FASTER than linearly"},
	}
	for _, tt := range tests {
		if got := GrowthVerdict(tt.growth); !strings.Contains(got, tt.want) {
			t.Errorf("GrowthVerdict(%+v) = %q, want it to contain %q", tt.growth, got, tt.want)
		}
	}
}

// hostName is HostName without the Linux-only file.
func hostName(i int) string { return "h" + strconv.Itoa(i) }

func TestCountEvents(t *testing.T) {
	log := `time=2026-12-06T21:29:53.212Z level=WARN msg="peer state" peer=h4 from=degraded to=dead reason="eth1 silent for 138ms"
time=2026-12-06T21:29:53.300Z level=INFO msg="path state" peer=h4 path=eth1 from=up to=down reason="silent for 138ms"
time=2026-12-06T21:29:53.456Z level=WARN msg=ALARM service="" peer="" reason="stalled for 161ms: dropping claims"
time=2026-12-06T21:29:53.500Z level=WARN msg=ALARM service=s1 peer="" reason="peer state of h2 unknown"
time=2026-12-06T21:29:53.532Z level=INFO msg="peer state" peer=h3 from=dead to=alive reason="eth0 up"
not a log line mentioning peer state or stalled for
`
	p, s := CountEvents([]byte(log))
	if p != 2 || s != 1 {
		t.Errorf("CountEvents = %d peer changes, %d stalls; want 2 and 1", p, s)
	}
	if p, s := CountEvents(nil); p != 0 || s != 0 {
		t.Errorf("CountEvents(nil) = %d, %d", p, s)
	}
}
