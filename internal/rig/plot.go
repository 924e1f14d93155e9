package rig

import (
	"errors"
	"fmt"
	"image/color"
	"os"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TradeoffPoint is one timer setting measured for the trade-off plot: the
// client's outage on a power pull and how often the cluster failed over
// when nothing had failed.
type TradeoffPoint struct {
	Interval, Deadtime   time.Duration
	OutageP50, OutageP99 time.Duration
	FalseFailovers, Runs int
	Label                string // shown beside the point; "interval/deadtime" when empty
}

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	green  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	red    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	purple = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	grey   = color.RGBA{R: 127, G: 127, B: 127, A: 255}
)

// PlotTradeoff writes a PNG of points to path: on top the power-pull
// outage (p50 and p99, ms) of each setting, the settings side by side in
// order of deadtime (then interval) and named interval/deadtime on the axis,
// ringed in red where false failovers happened; below, the false failovers
// of each setting (red above zero, green at zero) over its runs.
func PlotTradeoff(points []TradeoffPoint, title, path string) error {
	if len(points) == 0 {
		return errors.New("rig: trade-off plot: no points")
	}
	pts := slices.Clone(points)
	slices.SortStableFunc(pts, func(a, b TradeoffPoint) int {
		if a.Deadtime != b.Deadtime {
			return int(a.Deadtime - b.Deadtime)
		}
		return int(a.Interval - b.Interval)
	})
	var p50, p99, bad plotter.XYs
	var ticks []plot.Tick
	for i, p := range pts {
		if p.Deadtime <= 0 {
			return fmt.Errorf("rig: trade-off plot: point %q has no deadtime", p.Label)
		}
		x := float64(i)
		p50 = append(p50, plotter.XY{X: x, Y: msOf(p.OutageP50)})
		p99 = append(p99, plotter.XY{X: x, Y: msOf(p.OutageP99)})
		l := p.Label
		if l == "" {
			l = shortDur(p.Interval) + "/" + shortDur(p.Deadtime)
		}
		if p.FalseFailovers > 0 {
			bad = append(bad, plotter.XY{X: x, Y: msOf(p.OutageP99)})
		}
		ticks = append(ticks, plot.Tick{Value: x, Label: l})
	}

	top := plot.New()
	top.Title.Text = title
	top.Y.Label.Text = "client outage on a power pull (ms)"
	top.X.Label.Text = "setting: interval/deadtime"
	top.X.Tick.Marker = plot.ConstantTicks(ticks)
	top.X.Min, top.X.Max = -0.5, float64(len(pts))-0.5
	top.Y.Min = 0
	top.Legend.Top, top.Legend.Left = true, true
	for _, s := range []struct {
		name  string
		xys   plotter.XYs
		c     color.Color
		shape draw.GlyphDrawer
	}{{"p50", p50, blue, draw.CircleGlyph{}}, {"p99", p99, orange, draw.BoxGlyph{}}} {
		l, sc, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return fmt.Errorf("rig: trade-off plot: %w", err)
		}
		l.Color, l.Width = s.c, vg.Points(2)
		sc.Color, sc.Shape, sc.Radius = s.c, s.shape, vg.Points(3.5)
		top.Add(l, sc)
		top.Legend.Add(s.name, l, sc)
	}
	if len(bad) > 0 {
		sc, err := plotter.NewScatter(bad)
		if err != nil {
			return fmt.Errorf("rig: trade-off plot: %w", err)
		}
		sc.Color, sc.Shape, sc.Radius = red, draw.RingGlyph{}, vg.Points(8)
		thick, err := plotter.NewScatter(bad) // a second ring: a thicker mark
		if err != nil {
			return fmt.Errorf("rig: trade-off plot: %w", err)
		}
		thick.Color, thick.Shape, thick.Radius = red, draw.RingGlyph{}, vg.Points(7)
		top.Add(sc, thick)
		top.Legend.Add("false failovers seen", sc)
	}

	bottom := plot.New()
	bottom.Y.Label.Text = "false failovers (count)"
	bottom.X.Label.Text = "setting: interval/deadtime"
	bottom.X.Tick.Marker = plot.ConstantTicks(ticks)
	bottom.X.Min, bottom.X.Max = -0.5, float64(len(pts))-0.5
	bottom.Y.Min = 0
	bottom.Y.Max = 1
	for _, p := range pts {
		bottom.Y.Max = max(bottom.Y.Max, float64(p.FalseFailovers)*1.2)
	}
	var ff plotter.XYs
	var ffLabels []string
	for i, p := range pts {
		xy := plotter.XY{X: float64(i), Y: float64(p.FalseFailovers)}
		ff = append(ff, xy)
		ffLabels = append(ffLabels, fmt.Sprintf("%d of %d runs", p.FalseFailovers, p.Runs))
		c := green
		if p.FalseFailovers > 0 {
			c = red
		}
		stem, err := plotter.NewLine(plotter.XYs{{X: xy.X, Y: 0}, xy})
		if err != nil {
			return fmt.Errorf("rig: trade-off plot: %w", err)
		}
		stem.Color, stem.Width = c, vg.Points(3)
		dot, err := plotter.NewScatter(plotter.XYs{xy})
		if err != nil {
			return fmt.Errorf("rig: trade-off plot: %w", err)
		}
		dot.Color, dot.Shape, dot.Radius = c, draw.CircleGlyph{}, vg.Points(5)
		bottom.Add(stem, dot)
	}
	fl, err := plotter.NewLabels(plotter.XYLabels{XYs: ff, Labels: ffLabels})
	if err != nil {
		return fmt.Errorf("rig: trade-off plot: %w", err)
	}
	for i := range fl.TextStyle {
		fl.TextStyle[i].XAlign, fl.TextStyle[i].YAlign = draw.XCenter, draw.YBottom
	}
	fl.Offset = vg.Point{Y: vg.Points(7)}
	bottom.Add(fl)
	pad(top, p50, p99)
	return savePanels(path, 9*vg.Inch, 3.5*vg.Inch, []*plot.Plot{top, bottom})
}

// PlotScale writes a PNG of a scale run to path: against the cluster size,
// the CPU per node (mean and max, % of a core), the bytes per second per
// node (out and in, with out's linear-in-peers reference from the first
// size), and the detection time and s1's outage (median and max; a size
// without a sample is marked "not measured").
func PlotScale(rows []ScaleRow, path string) error {
	if len(rows) == 0 {
		return errors.New("rig: scale plot: no rows")
	}
	rs := slices.Clone(rows)
	slices.SortFunc(rs, func(a, b ScaleRow) int { return a.Nodes - b.Nodes })
	var ticks []plot.Tick
	for _, r := range rs {
		if r.Nodes < 2 {
			return fmt.Errorf("rig: scale plot: a row of %d nodes: want 2 or more", r.Nodes)
		}
		ticks = append(ticks, plot.Tick{Value: float64(r.Nodes), Label: strconv.Itoa(r.Nodes)})
	}
	series := func(f func(ScaleRow) float64) plotter.XYs {
		var xy plotter.XYs
		for _, r := range rs {
			xy = append(xy, plotter.XY{X: float64(r.Nodes), Y: f(r)})
		}
		return xy
	}
	// measured is series over the rows with at least one sample of s.
	measured := func(s func(ScaleRow) Spread, f func(Spread) float64) plotter.XYs {
		var xy plotter.XYs
		for _, r := range rs {
			if sp := s(r); sp.Samples > 0 {
				xy = append(xy, plotter.XY{X: float64(r.Nodes), Y: f(sp)})
			}
		}
		return xy
	}
	type line struct {
		name   string
		xys    plotter.XYs
		c      color.Color
		dashed bool
	}
	panel := func(ylabel string, lines []line) (*plot.Plot, error) {
		p := plot.New()
		p.Y.Label.Text = ylabel
		p.X.Label.Text = "nodes"
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.Y.Min = 0
		p.Legend.Top, p.Legend.Left = true, true
		for _, l := range lines {
			if len(l.xys) == 0 {
				continue
			}
			pad(p, l.xys)
			ln, sc, err := plotter.NewLinePoints(l.xys)
			if err != nil {
				return nil, err
			}
			ln.Color, ln.Width = l.c, vg.Points(2)
			if l.dashed {
				ln.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
				p.Add(ln)
				p.Legend.Add(l.name, ln)
				continue
			}
			sc.Color, sc.Shape, sc.Radius = l.c, draw.CircleGlyph{}, vg.Points(3)
			p.Add(ln, sc)
			p.Legend.Add(l.name, ln, sc)
		}
		return p, nil
	}
	ref := rs[0]
	perPeer := ref.BytesOut / float64(ref.Nodes-1)
	cpu, err := panel("CPU per daemon (% of one core)", []line{
		{"mean", series(func(r ScaleRow) float64 { return r.CPUPctMean }), blue, false},
		{"max", series(func(r ScaleRow) float64 { return r.CPUPctMax }), red, false},
	})
	if err != nil {
		return fmt.Errorf("rig: scale plot: %w", err)
	}
	cpu.Title.Text = "failoverd cost and detection by cluster size (one service per node)"
	// A size whose daemons kept suspecting each other while idle costs
	// more than a settled one: mark it.
	var unsettled plotter.XYs
	for _, r := range rs {
		if r.IdlePeerChanges > 0 || r.IdleStalls > 0 {
			unsettled = append(unsettled, plotter.XY{X: float64(r.Nodes), Y: r.CPUPctMax})
		}
	}
	if len(unsettled) > 0 {
		sc, err := plotter.NewScatter(unsettled)
		if err != nil {
			return fmt.Errorf("rig: scale plot: %w", err)
		}
		sc.Color, sc.Shape, sc.Radius = red, draw.RingGlyph{}, vg.Points(8)
		cpu.Add(sc)
		cpu.Legend.Add("not settled while idle: peers suspected or stalls (see the notes)", sc)
	}
	traffic, err := panel("heartbeat kB/s per node (all paths)", []line{
		{"out", series(func(r ScaleRow) float64 { return r.BytesOut / 1000 }), blue, false},
		{"in", series(func(r ScaleRow) float64 { return r.BytesIn / 1000 }), orange, false},
		{fmt.Sprintf("out if linear in peers from %d nodes (%.1f kB/s per peer)", ref.Nodes, perPeer/1000),
			series(func(r ScaleRow) float64 { return perPeer * float64(r.Nodes-1) / 1000 }), grey, true},
	})
	if err != nil {
		return fmt.Errorf("rig: scale plot: %w", err)
	}
	det := func(r ScaleRow) Spread { return r.Detection }
	outage := func(r ScaleRow) Spread { return r.Outage }
	med := func(s Spread) float64 { return s.Median }
	hi := func(s Spread) float64 { return s.Max }
	dp, err := panel("after freezing h1 (ms)", []line{
		{"h1 declared dead, median over hosts and runs", measured(det, med), green, false},
		{"h1 declared dead, max", measured(det, hi), purple, false},
		{"client outage of s1, median", measured(outage, med), blue, false},
		{"client outage of s1, max", measured(outage, hi), red, false},
	})
	if err != nil {
		return fmt.Errorf("rig: scale plot: %w", err)
	}
	var none plotter.XYs
	var noneLabels []string
	for _, r := range rs {
		if r.Detection.Samples == 0 {
			none = append(none, plotter.XY{X: float64(r.Nodes), Y: 0})
			noneLabels = append(noneLabels, "not measured (see the notes)")
		}
	}
	if err := addNotes(dp, none, noneLabels, float64(rs[0].Nodes), float64(rs[len(rs)-1].Nodes)); err != nil {
		return fmt.Errorf("rig: scale plot: %w", err)
	}
	return savePanels(path, 8*vg.Inch, 3*vg.Inch, []*plot.Plot{cpu, traffic, dp})
}

// addNotes writes labels in red above the points xys of p, each towards
// the middle of the x range xmin..xmax so that it stays inside the plot.
func addNotes(p *plot.Plot, xys plotter.XYs, labels []string, xmin, xmax float64) error {
	for i, xy := range xys {
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{xy}, Labels: labels[i : i+1]})
		if err != nil {
			return err
		}
		lb.TextStyle[0].Color, lb.TextStyle[0].YAlign = red, draw.YBottom
		if xy.X-xmin < xmax-xy.X {
			lb.TextStyle[0].XAlign, lb.Offset = draw.XLeft, vg.Point{X: vg.Points(4), Y: vg.Points(4)}
		} else {
			lb.TextStyle[0].XAlign, lb.Offset = draw.XRight, vg.Point{X: -vg.Points(4), Y: vg.Points(4)}
		}
		p.Add(lb)
	}
	return nil
}

// pad leaves room above the highest of xys in p for the legend.
func pad(p *plot.Plot, xys ...plotter.XYs) {
	var ymax float64
	for _, xy := range xys {
		for _, v := range xy {
			ymax = max(ymax, v.Y)
		}
	}
	if ymax > 0 {
		p.Y.Max = max(p.Y.Max, ymax*1.45)
	}
}

// savePanels draws plots one above the other, aligned on their axes, each
// height tall, into a PNG of the given width at path.
func savePanels(path string, width, height vg.Length, plots []*plot.Plot) error {
	img := vgimg.NewWith(vgimg.UseWH(width, height*vg.Length(len(plots))), vgimg.UseDPI(96))
	dc := draw.New(img)
	grid := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		grid[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Points(4), PadY: vg.Points(14),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(14)}
	canvases := plot.Align(grid, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("rig: plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("rig: plot: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("rig: plot: %w", err)
	}
	return nil
}

// shortDur is d as "20ms", "1.5s", "1m0s".
func shortDur(d time.Duration) string { return d.String() }
