package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/internal/rig"
)

func TestParseNodes(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "2,4,8,16", want: []int{2, 4, 8, 16}},
		{in: "3", want: []int{3}},
		{in: " 16, 2 ", want: []int{16, 2}},
		{in: "1,2", wantErr: `"1" is not a cluster size: want a comma-separated list of sizes 2..16`},
		{in: "2,17", wantErr: `"17" is not a cluster size`},
		{in: "two", wantErr: `--nodes "two": "two" is not a cluster size`},
		{in: "2,,4", wantErr: `"" is not a cluster size`},
		{in: "", wantErr: `"" is not a cluster size`},
		{in: "4,2,4", wantErr: "size 4 is given twice"},
	}
	for _, tt := range tests {
		got, err := parseNodes(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseNodes(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseNodes(%q): %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("parseNodes(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

// Bad flags are refused before anything is built, naming the flag.
func TestLabScaleBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "2,99"}, `--nodes "2,99": "99" is not a cluster size`},
		{[]string{"--window", "10ms"}, "--window 10ms is too short"},
		{[]string{"--runs", "0"}, "--runs 0: want 1 or more"},
		{[]string{"--timeout", "1ms"}, "--timeout 1ms is too short"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--interval", "-1s"}, "--interval -1s: want a positive duration"},
		{[]string{"--interval", "50ms", "--deadtime", "100ms"}, "--deadtime 100ms: want more than 2 x --interval (100ms)"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, out, errs := run(t, append([]string{"lab", "scale"}, tt.args...)...)
		if code != ExitUsage || out != "" || !strings.Contains(errs, tt.want) {
			t.Errorf("lab scale %q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, out, errs, ExitUsage, tt.want)
		}
	}
}

func TestScaleMarkdown(t *testing.T) {
	rows := []rig.ScaleRow{
		{Nodes: 2, Serial: true, Interval: "20ms", Deadtime: "100ms", CPUmsMean: 9.9, CPUmsMax: 10.1, CPUPctMean: 0.99, CPUPctMax: 1.01,
			BytesOut: 17000, BytesIn: 17000, Detection: rig.Spread{Samples: 3, Median: 86, Max: 90}, Outage: rig.Spread{Samples: 3, Median: 109, Max: 112},
			Paths: []rig.ScalePath{{Path: "eth0", Nodes: 2, BytesOut: 6789, FramesOut: 49.1, FrameBytes: 138}}},
		{Nodes: 16, SerialNote: "no serial at 16 nodes: failoverd refuses the config at 115200 baud (x)", BytesOut: 120000, BytesIn: 1800000},
	}
	rep := &rig.ScaleReport{When: time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC), Rows: rows, Growth: rig.GrowthOf(rows), LoadEnd: "1.00 2.00 3.00"}
	rep.Verdict = rig.GrowthVerdict(rep.Growth)
	md := scaleMarkdown(rep, "sudo failover lab scale --nodes 2,16", "a machine")
	for _, want := range []string{
		"`sudo failover lab scale --nodes 2,16` on 2026-12-06 21:00 UTC (a machine)",
		"| 2 | yes | 20ms / 100ms | 9.9 (10.1) | 0.99 (1.01) |",
		"| 86 (90) ms | 109 (112) ms |",
		"| 16 | no |",
		"| not measured | not measured | 0 / 0 |",
		"Note: no serial at 16 nodes: failoverd refuses the config at 115200 baud (x).",
		"| 2 | eth0 | 2 | 6789 | 0 | 49.1 / 0.0 | 138 |",
		"| 16 | 8000 | 0.47 |",
		"grow no faster than linearly",
		"Load average at the end: 1.00 2.00 3.00.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
