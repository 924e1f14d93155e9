package rig

import (
	"strings"
	"testing"
	"time"
)

func TestParseSweepPoints(t *testing.T) {
	ms := func(i, d int) SweepPoint {
		return SweepPoint{Interval: time.Duration(i) * time.Millisecond, Deadtime: time.Duration(d) * time.Millisecond}
	}
	for _, tc := range []struct {
		in      string
		want    []SweepPoint
		wantErr string
	}{
		{in: "20ms/80ms", want: []SweepPoint{ms(20, 80)}},
		{in: " 20ms/100ms , 15ms/60ms,", want: []SweepPoint{ms(20, 100), ms(15, 60)}},
		{in: "", wantErr: "no points"},
		{in: "20ms", wantErr: "want INTERVAL/DEADTIME"},
		{in: "x/80ms", wantErr: "interval \"x\""},
		{in: "20ms/-1s", wantErr: "deadtime \"-1s\""},
		{in: "20ms/40ms", wantErr: "more than 2 x interval (40ms)"},
		{in: "20ms/80ms,20ms/80ms", wantErr: "given twice"},
	} {
		got, err := ParseSweepPoints(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSweepPoints(%q) = %v, %v; want error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseSweepPoints(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseSweepPoints(%q)[%d] = %v, want %v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestSweepBest(t *testing.T) {
	ms := time.Millisecond
	row := func(i, d, p50, p99 int, failed int) SweepRow {
		return SweepRow{Point: SweepPoint{Interval: time.Duration(i) * ms, Deadtime: time.Duration(d) * ms},
			Outage: Dist{N: 20, P50: time.Duration(p50) * ms, P99: time.Duration(p99) * ms}, DrillRuns: 10, FailedRuns: failed, FalseFailovers: failed}
	}
	for _, tc := range []struct {
		name string
		rows []SweepRow
		want string // point, "" for none
	}{
		{"longest interval that meets", []SweepRow{row(20, 100, 110, 121, 0), row(20, 80, 90, 120, 0), row(15, 60, 75, 90, 0)}, "20ms/80ms"},
		{"a failed verdict never wins", []SweepRow{row(20, 80, 90, 120, 1), row(15, 60, 75, 90, 0)}, "15ms/60ms"},
		{"same interval: the longer deadtime", []SweepRow{row(10, 40, 50, 60, 0), row(10, 50, 60, 70, 0)}, "10ms/50ms"},
		{"none meets: the clean one with the lowest p50", []SweepRow{row(20, 100, 110, 121, 0), row(15, 60, 105, 200, 0), row(10, 40, 60, 70, 2)}, "15ms/60ms"},
		{"nothing clean", []SweepRow{row(10, 40, 60, 70, 2)}, ""},
		{"unmeasured rows are skipped", []SweepRow{{Point: SweepPoint{Interval: 20 * ms, Deadtime: 80 * ms}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &SweepReport{Rows: tc.rows, TargetP50: Millis(100 * ms), TargetP99: Millis(150 * ms)}
			got, ok := rep.Best()
			if tc.want == "" {
				if ok {
					t.Fatalf("Best() = %s, want none", got.Point)
				}
				return
			}
			if !ok || got.Point.String() != tc.want {
				t.Fatalf("Best() = %s (ok %v), want %s", got.Point, ok, tc.want)
			}
			if md := rep.Markdown(); !strings.Contains(md, "Recommended: "+tc.want) {
				t.Errorf("Markdown does not recommend %s:\n%s", tc.want, md)
			}
		})
	}
}
