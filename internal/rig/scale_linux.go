package rig

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/internal/lab"
)

// ScaleOptions describe a scale run: one fresh rig per cluster size.
type ScaleOptions struct {
	Nodes     []int         // cluster sizes, each 2..lab.MaxHosts
	Window    time.Duration // idle sample per size
	Runs      int           // freezes of h1 per size
	NoSerial  bool          // no serial cables at any size
	Failoverd string        // daemon binary (required)
	Dir       string        // parent of each size's rig directory (required)
	Timeout   time.Duration // bound of every wait
	Env       []string      // added to every daemon's environment
	// Interval and Deadtime of the heartbeats; failoverd's defaults when
	// zero.
	Interval, Deadtime time.Duration
	// Progress narrates (stderr in the CLI); nil is silent.
	Progress func(format string, args ...any)
}

// RunSpacing is the least time between two freezes of a scale run. Each
// freeze takes every path between the victim and the others down once on
// both sides (the victim, thawed, finds everyone silent), and failoverd
// holds a path down after 3 downs within its damping period (10s by
// default), which would bias the next detection.
const RunSpacing = 11 * time.Second

// errSerialRefused is returned by the config check of a rig whose serial
// paths cannot carry its heartbeats.
var errSerialRefused = errors.New("serial refused")

// RunScale measures, for each size in o.Nodes, a rig of that many hosts
// with one service per host (ScaleServices): the idle cost of every
// daemon, then o.Runs freezes of h1, each timed from the freeze to every
// other host logging h1 dead and to the client hearing s1 from its next
// owner.
func RunScale(ctx context.Context, o ScaleOptions) (*ScaleReport, error) {
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	if o.Runs < 1 {
		o.Runs = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	rep := &ScaleReport{When: time.Now().UTC()}
	for _, n := range o.Nodes {
		row, err := scaleOne(ctx, o, n)
		if err != nil {
			return nil, fmt.Errorf("rig: scale at %d nodes: %w", n, err)
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.Growth = GrowthOf(rep.Rows)
	rep.Verdict = GrowthVerdict(rep.Growth)
	rep.LoadEnd = LoadAvg()
	return rep, nil
}

// scaleRig starts the rig of one size; with serial cables unless they are
// off or the configs would refuse them (note says so).
func scaleRig(ctx context.Context, o ScaleOptions, n int) (rg *Rig, note string, err error) {
	serial := !o.NoSerial
	for {
		dir := filepath.Join(o.Dir, "n"+strconv.Itoa(n))
		if err := os.RemoveAll(dir); err != nil {
			return nil, "", err
		}
		ro := Options{
			Hosts: n, NoSerial: !serial, Services: ScaleServices(n), Failoverd: o.Failoverd,
			Dir: dir, Env: o.Env, Logf: o.Progress, Interval: o.Interval, Deadtime: o.Deadtime,
		}
		var refusal error
		ro.Setup = func(*lab.Lab) error {
			// The configs are written: refuse here, before any daemon
			// starts, what failoverd would refuse.
			for i := 1; i <= n; i++ {
				if _, err := config.Load(filepath.Join(dir, HostName(i)+".toml")); err != nil {
					if serial && onlyBaud(err) {
						refusal = err
						return errSerialRefused
					}
					return err
				}
			}
			return nil
		}
		rg, err := New(ctx, ro)
		if err == nil {
			return rg, note, nil
		}
		if !errors.Is(err, errSerialRefused) {
			return nil, "", err
		}
		note = fmt.Sprintf("no serial at %d nodes: failoverd refuses the config at 115200 baud (%s)", n, firstLine(refusal))
		o.Progress("%s", note)
		serial = false
	}
}

// onlyBaud reports whether every problem in err is a serial path's baud.
func onlyBaud(err error) bool {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var p *config.Problem
		if !errors.As(e, &p) || !strings.HasSuffix(p.Key, ".baud") {
			return false
		}
	}
	return len(errs) > 0
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func scaleOne(ctx context.Context, o ScaleOptions, n int) (ScaleRow, error) {
	o.Progress("== %d nodes: building the rack and starting %d daemons", n, n)
	rg, note, err := scaleRig(ctx, o, n)
	if err != nil {
		return ScaleRow{}, err
	}
	defer rg.Close()
	row := ScaleRow{Nodes: n, Serial: note == "" && !o.NoSerial, SerialNote: note, Runs: o.Runs}
	w := &waiter{progress: o.Progress, timeout: o.Timeout}
	notef := func(format string, args ...any) {
		row.Notes = append(row.Notes, fmt.Sprintf(format, args...))
		o.Progress("note: %s", row.Notes[len(row.Notes)-1])
	}
	// On a loaded machine late frames make paths suspect and daemons
	// stall now and then: what did not settle in time is noted in the row
	// and the measurement goes on, so that a size is reported as it ran.
	if err := w.wait(ctx, "every service up on its preferred host", rg.allPreferred); err != nil {
		if ctx.Err() != nil {
			return row, err
		}
		notef("not every service was up on its preferred host when the idle sample began: %v", err)
	}
	short := &waiter{progress: o.Progress, timeout: min(o.Timeout, 20*time.Second)}
	if err := short.wait(ctx, "every peer alive on every path", rg.allAlive); err != nil {
		if ctx.Err() != nil {
			return row, err
		}
		_, detail := rg.allAlive(ctx)
		notef("idle sampled while not every peer was alive everywhere (%s)", detail)
	}
	if st, err := rg.Status(ctx, "h1"); err == nil {
		row.Interval, row.Deadtime = time.Duration(st.Interval).String(), time.Duration(st.Deadtime).String()
	}
	o.Progress("sampling %d idle daemons for %s (load %s)", n, o.Window, LoadAvg())
	before := rg.logSizes()
	cpu0, _ := ReadCPUStat()
	idle, err := rg.Idle(ctx, o.Window)
	if err != nil {
		return row, err
	}
	cpu1, _ := ReadCPUStat()
	row.summarize(idle)
	row.MachineBusyPct, row.MachineSoftirqPct = cpu0.Busy(cpu1)
	row.IdlePeerChanges, row.IdleStalls = rg.countSince(before)
	if row.IdlePeerChanges > 0 || row.IdleStalls > 0 {
		notef("during the idle window the daemons logged %d peer state changes and %d stalls (load %s)", row.IdlePeerChanges, row.IdleStalls, idle.LoadAfter)
	}

	const victim, svc = "h1", "s1"
	s, _ := rg.Service(svc)
	next := NextOwner(s.Priorities)
	row.Victim, row.NextOwner = victim, next
	det := map[string][]float64{}
	var all, outages []time.Duration
	pr := rg.Prober(svc)
	var lastFreeze time.Time
	for run := 1; run <= o.Runs; run++ {
		if wait := time.Until(lastFreeze.Add(RunSpacing)); wait > 0 {
			o.Progress("waiting %s before the next freeze (damping: 3 downs of a path within 10s hold it down)", wait.Round(100*time.Millisecond))
			select {
			case <-ctx.Done():
				return row, ctx.Err()
			case <-time.After(wait):
			}
		}
		ready := rg.homeAndAlive(victim, svc, victim)
		if err := w.wait(ctx, svc+" on "+victim+", "+victim+" alive everywhere, every service home", ready); err != nil {
			if ctx.Err() != nil {
				return row, err
			}
			notef("run %d skipped: %v", run, err)
			continue
		}
		offsets := rg.logSizes()
		t0 := time.Now()
		lastFreeze = t0
		if err := rg.Lab.Freeze(victim); err != nil {
			return row, err
		}
		dead := map[string]time.Time{}
		seen := func(ctx context.Context) (bool, string) {
			var missing []string
			for _, h := range rg.Hosts() {
				if h == victim {
					continue
				}
				if _, ok := dead[h]; ok {
					continue
				}
				b, err := readFrom(rg.LogFile(h), offsets[h])
				if err == nil {
					if at, ok := DeadAt(b, victim, t0); ok {
						dead[h] = at
						continue
					}
				}
				missing = append(missing, h)
			}
			if len(missing) > 0 {
				return false, fmt.Sprintf("%d of %d hosts logged %s dead (waiting for %s)", n-1-len(missing), n-1, victim, strings.Join(missing, " "))
			}
			return true, "all logged it dead"
		}
		err := w.wait(ctx, "every host to log "+victim+" dead and "+svc+" on "+next, and(seen, rg.Settled(svc, next, t0, victim)))
		if err != nil && ctx.Err() != nil {
			rg.Lab.Thaw(victim)
			return row, err
		}
		out := pr.Outage(t0, time.Now())
		var worst time.Duration
		for h, at := range dead {
			d := max(at.Sub(t0), 0)
			det[h] = append(det[h], msOf(d))
			all = append(all, d)
			worst = max(worst, d)
		}
		if err != nil {
			notef("run %d: %d of %d hosts logged %s dead; no outage counted: %v", run, len(dead), n-1, victim, err)
		} else {
			outages = append(outages, out.Longest)
			o.Progress("%d nodes, run %d/%d: %s dead everywhere after at most %d ms; client outage of %s %d ms", n, run, o.Runs, victim, worst.Milliseconds(), svc, out.Longest.Milliseconds())
		}
		t1 := time.Now()
		if err := rg.Lab.Thaw(victim); err != nil {
			return row, err
		}
		if err := w.wait(ctx, svc+" back on "+victim, rg.Settled(svc, victim, t1)); err != nil && ctx.Err() != nil {
			return row, err
		}
	}
	for i := range row.Hosts {
		row.Hosts[i].Detection = det[row.Hosts[i].Host]
	}
	row.Detection = SpreadOf(all)
	row.Outage = SpreadOf(outages)
	return row, nil
}

// ScaleServices are the services of a scale run on n hosts: s1..sN with the
// VIPs 198.18.1.101.. /32, service i preferred by host i (priority n there)
// and the other hosts descending in a rotation after it (host i+1 gets n-1,
// ..., host i-1 gets 1), so every host owns exactly one service and is the
// next owner of exactly one other.
func ScaleServices(n int) []Service {
	out := make([]Service, 0, n)
	for s := 1; s <= n; s++ {
		out = append(out, Service{
			Name:       "s" + strconv.Itoa(s),
			VIP:        netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 1, byte(100 + s)}), 32),
			Priorities: RotatedPriorities(n, s),
		})
	}
	return out
}

// summarize fills the row's hosts, means, maxima and per-path figures
// from an idle sample. The serial paths of a host are summed (the middle
// hosts of the chain have two cables), so a path's figures are per node
// that has it.
func (row *ScaleRow) summarize(idle *IdleSample) {
	row.Hosts = row.Hosts[:0]
	paths := map[string]*ScalePath{}
	var order []string
	for _, h := range idle.Hosts {
		n := ScaleNode{Host: h.Host, CPUms: h.CPUms, CPUPct: h.CPUms / 10, Wakeups: h.Wakeups, RSS: h.RSS}
		has := map[string]bool{} // a host with two serial cables counts once
		for _, p := range h.Paths {
			n.BytesOut += p.SentBytes
			n.BytesIn += p.RecvBytes
			n.FramesOut += p.SentFrames
			n.FramesIn += p.RecvFrames
			k := pathKind(p.Path)
			sp := paths[k]
			if sp == nil {
				sp = &ScalePath{Path: k}
				paths[k] = sp
				order = append(order, k)
			}
			if !has[k] {
				has[k] = true
				sp.Nodes++
			}
			sp.BytesOut += p.SentBytes
			sp.BytesIn += p.RecvBytes
			sp.FramesOut += p.SentFrames
			sp.FramesIn += p.RecvFrames
		}
		row.Hosts = append(row.Hosts, n)
	}
	row.Paths = nil
	for _, k := range order {
		sp := *paths[k]
		d := float64(sp.Nodes)
		if sp.FramesOut > 0 {
			sp.FrameBytes = sp.BytesOut / sp.FramesOut
		}
		sp.BytesOut /= d
		sp.BytesIn /= d
		sp.FramesOut /= d
		sp.FramesIn /= d
		row.Paths = append(row.Paths, sp)
	}
	row.CPUmsMean, row.CPUmsMax, row.WakeupsMean, row.RSSMean, row.RSSMax = 0, 0, 0, 0, 0
	row.BytesOut, row.BytesIn, row.FramesOut, row.FramesIn = 0, 0, 0, 0
	for _, n := range row.Hosts {
		row.CPUmsMean += n.CPUms
		row.CPUmsMax = max(row.CPUmsMax, n.CPUms)
		row.WakeupsMean += n.Wakeups
		row.RSSMean += n.RSS
		row.RSSMax = max(row.RSSMax, n.RSS)
		row.BytesOut += n.BytesOut
		row.BytesIn += n.BytesIn
		row.FramesOut += n.FramesOut
		row.FramesIn += n.FramesIn
	}
	if k := len(row.Hosts); k > 0 {
		f := float64(k)
		row.CPUmsMean /= f
		row.WakeupsMean /= f
		row.RSSMean /= int64(k)
		row.BytesOut /= f
		row.BytesIn /= f
		row.FramesOut /= f
		row.FramesIn /= f
	}
	row.CPUPctMean, row.CPUPctMax = row.CPUmsMean/10, row.CPUmsMax/10
	row.Window = time.Duration(idle.Window).String()
	row.LoadBefore, row.LoadAfter = idle.LoadBefore, idle.LoadAfter
}
