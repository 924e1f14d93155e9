package rig

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Usage is what a process has used so far, summed over its live threads:
// CPU time from /proc/PID/task/*/schedstat (ns on the CPU), context switches
// from /proc/PID/task/*/status (each one a wake-up or a preemption) and the
// resident set from /proc/PID/status. A thread that exits between two
// readings takes its share with it; the Go runtime rarely ends threads.
type Usage struct {
	CPU         time.Duration
	Voluntary   uint64 // voluntary_ctxt_switches: the thread blocked (sleep, read, futex)
	Involuntary uint64 // nonvoluntary_ctxt_switches: the thread was preempted
	Threads     int
	RSS         int64 // bytes
}

// ReadUsage reads pid's usage now.
func ReadUsage(pid int) (Usage, error) {
	var u Usage
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(dirs) == 0 {
		return u, fmt.Errorf("rig: reading /proc/%d/task: no threads (process gone?)", pid)
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, _ := strconv.ParseInt(f[0], 10, 64)
		u.CPU += time.Duration(ns)
		u.Threads++
		st, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue
		}
		u.Voluntary += statusField(st, "voluntary_ctxt_switches:")
		u.Involuntary += statusField(st, "nonvoluntary_ctxt_switches:")
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("rig: %w", err)
	}
	u.RSS = int64(statusField(st, "VmRSS:")) * 1024
	return u, nil
}

// statusField is the number after key at the start of a line of a
// /proc/.../status file (kB units are the caller's business), 0 if absent.
func statusField(st []byte, key string) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(st))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// Rate is the use per second between two readings of one process.
type Rate struct {
	CPUms       float64 `json:"cpu_ms_per_s"`  // ms of CPU per s of wall time
	Wakeups     float64 `json:"wakeups_per_s"` // voluntary + involuntary context switches per s
	Voluntary   float64 `json:"voluntary_per_s"`
	Involuntary float64 `json:"involuntary_per_s"`
	Threads     int     `json:"threads"`
	RSS         int64   `json:"rss_bytes"`
}

// RateOf is the rate from a to b over window.
func RateOf(a, b Usage, window time.Duration) Rate {
	s := window.Seconds()
	vol := float64(b.Voluntary-a.Voluntary) / s
	inv := float64(b.Involuntary-a.Involuntary) / s
	return Rate{
		CPUms:   float64(b.CPU-a.CPU) / float64(time.Millisecond) / s,
		Wakeups: vol + inv, Voluntary: vol, Involuntary: inv,
		Threads: b.Threads, RSS: b.RSS,
	}
}

// PathRate is one path's traffic per second, from the daemon's counters.
type PathRate struct {
	Path       string  `json:"path"`
	SentBytes  float64 `json:"sent_bytes_per_s"`
	RecvBytes  float64 `json:"recv_bytes_per_s"`
	SentFrames float64 `json:"sent_frames_per_s"`
	RecvFrames float64 `json:"recv_frames_per_s"`
}

// HostIdle is one host's daemon over an idle window.
type HostIdle struct {
	Host string `json:"host"`
	PID  int    `json:"pid"`
	Rate
	Paths []PathRate `json:"paths"`
}

// IdleSample is every daemon of the rig over one window in which nothing
// was done to the cluster.
type IdleSample struct {
	Start      time.Time  `json:"start"`
	Window     Duration   `json:"window"`
	LoadBefore string     `json:"load_before"` // /proc/loadavg at the start
	LoadAfter  string     `json:"load_after"`  // and at the end
	Hosts      []HostIdle `json:"hosts"`
}

// Duration is a time.Duration shown as a Go duration string in JSON.
type Duration time.Duration

// MarshalText is the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// LoadAvg is the first three fields of /proc/loadavg ("0.40 0.58 0.31").
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Idle samples every running daemon of the rig over window: CPU, wake-ups
// and RSS from /proc, bytes and frames per path from the daemons' status
// counters read at both ends of the window.
func (r *Rig) Idle(ctx context.Context, window time.Duration) (*IdleSample, error) {
	type start struct {
		pid   int
		at    time.Time
		u     Usage
		paths map[string][4]uint64
	}
	starts := map[string]start{}
	hosts := r.Hosts()
	counters := func(host string) (map[string][4]uint64, error) {
		st, err := r.Status(ctx, host)
		if err != nil {
			return nil, err
		}
		m := map[string][4]uint64{}
		for _, p := range st.Paths {
			m[p.Name] = [4]uint64{p.BytesSent, p.BytesRecv, p.Sent, p.Received}
		}
		return m, nil
	}
	s := &IdleSample{Start: time.Now(), Window: Duration(window), LoadBefore: LoadAvg()}
	for _, h := range hosts {
		d := r.Daemon(h)
		if d == nil {
			return nil, fmt.Errorf("rig: no daemon in %s", h)
		}
		pc, err := counters(h)
		if err != nil {
			return nil, fmt.Errorf("rig: status of %s: %w", h, err)
		}
		u, err := ReadUsage(d.Cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		starts[h] = start{pid: d.Cmd.Process.Pid, at: time.Now(), u: u, paths: pc}
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(window):
	}
	for _, h := range hosts {
		st := starts[h]
		u, err := ReadUsage(st.pid)
		if err != nil {
			return nil, err
		}
		el := time.Since(st.at)
		pc, err := counters(h)
		if err != nil {
			return nil, fmt.Errorf("rig: status of %s: %w", h, err)
		}
		hi := HostIdle{Host: h, PID: st.pid, Rate: RateOf(st.u, u, el)}
		for _, p := range slices.Sorted(maps.Keys(pc)) {
			a, b := st.paths[p], pc[p]
			sec := el.Seconds()
			hi.Paths = append(hi.Paths, PathRate{
				Path:      p,
				SentBytes: float64(b[0]-a[0]) / sec, RecvBytes: float64(b[1]-a[1]) / sec,
				SentFrames: float64(b[2]-a[2]) / sec, RecvFrames: float64(b[3]-a[3]) / sec,
			})
		}
		s.Hosts = append(s.Hosts, hi)
	}
	s.LoadAfter = LoadAvg()
	return s, nil
}
