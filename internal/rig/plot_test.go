package rig

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkPNG decodes file as a PNG and checks its size.
func checkPNG(t *testing.T, file string, minW, minH int) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is no PNG: %v", file, err)
	}
	b := img.Bounds()
	if b.Dx() < minW || b.Dy() < minH {
		t.Errorf("%s is %dx%d, want at least %dx%d", file, b.Dx(), b.Dy(), minW, minH)
	}
}

func TestPlotTradeoff(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name   string
		points []TradeoffPoint
	}{
		{"one point", []TradeoffPoint{{Interval: ms(20), Deadtime: ms(100), OutageP50: ms(110), OutageP99: ms(130), Runs: 20}}},
		{"curve with false failovers", []TradeoffPoint{
			{Interval: ms(50), Deadtime: ms(250), OutageP50: ms(260), OutageP99: ms(300), Runs: 20},
			{Interval: ms(5), Deadtime: ms(25), OutageP50: ms(35), OutageP99: ms(60), FalseFailovers: 7, Runs: 20},
			{Interval: ms(10), Deadtime: ms(50), OutageP50: ms(60), OutageP99: ms(80), FalseFailovers: 1, Runs: 20, Label: "fast"},
			{Interval: ms(20), Deadtime: ms(100), OutageP50: ms(110), OutageP99: ms(140), Runs: 20},
		}},
		{"same deadtime twice", []TradeoffPoint{
			{Interval: ms(20), Deadtime: ms(100), OutageP50: ms(110), OutageP99: ms(140), Runs: 5},
			{Interval: ms(40), Deadtime: ms(100), OutageP50: ms(120), OutageP99: ms(150), Runs: 5},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "tradeoff.png")
			if err := PlotTradeoff(tt.points, "interval vs outage vs false failovers", file); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, file, 800, 600)
		})
	}
	for _, bad := range []struct {
		name   string
		points []TradeoffPoint
		want   string
	}{
		{"no points", nil, "no points"},
		{"no deadtime", []TradeoffPoint{{Interval: ms(20), Label: "x"}}, `point "x" has no deadtime`},
	} {
		err := PlotTradeoff(bad.points, "t", filepath.Join(t.TempDir(), "x.png"))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.name, err, bad.want)
		}
	}
}

func TestPlotScale(t *testing.T) {
	row := func(n int, cpu float64) ScaleRow {
		return ScaleRow{Nodes: n, CPUPctMean: cpu, CPUPctMax: cpu * 1.2, BytesOut: 8000 * float64(n), BytesIn: 8000 * float64(n*(n-1)),
			Detection: Spread{Samples: n - 1, Median: 90, Max: 100 + float64(n)}, Outage: Spread{Samples: 1, Median: 110, Max: 120}}
	}
	for _, tt := range []struct {
		name string
		rows []ScaleRow
	}{
		{"one size", []ScaleRow{row(2, 1)}},
		{"four sizes out of order", []ScaleRow{row(8, 4), row(2, 1), row(16, 9), row(4, 2)}},
		{"unsettled and unmeasured sizes", func() []ScaleRow {
			a, b, c := row(2, 1), row(4, 2), row(16, 9)
			a.Detection, a.Outage = Spread{}, Spread{} // not measured at the smallest size
			c.Detection, c.IdlePeerChanges, c.IdleStalls = Spread{}, 300, 4
			return []ScaleRow{a, b, c}
		}()},
		{"nothing measured", func() []ScaleRow {
			a := row(2, 1)
			a.Detection, a.Outage = Spread{}, Spread{}
			return []ScaleRow{a}
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "scale.png")
			if err := PlotScale(tt.rows, file); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, file, 700, 800)
		})
	}
	if err := PlotScale(nil, filepath.Join(t.TempDir(), "x.png")); err == nil {
		t.Error("PlotScale(nil) succeeded")
	}
	if err := PlotScale([]ScaleRow{row(1, 1)}, filepath.Join(t.TempDir(), "x.png")); err == nil {
		t.Error("PlotScale of a one-node row succeeded")
	}
	if err := PlotScale([]ScaleRow{row(2, 1)}, filepath.Join(t.TempDir(), "no", "such", "dir.png")); err == nil {
		t.Error("PlotScale into a missing directory succeeded")
	}
}
