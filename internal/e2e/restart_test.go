package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// failoverd's default timers: the restart cases are about them.
const (
	defaultInterval = 20 * time.Millisecond
	defaultDeadtime = 100 * time.Millisecond
)

// SIGKILL and restart of failoverd at its default timers (interval 20ms,
// deadtime 100ms, startup 300ms, VIP lifetime 2s), on the owner h1 and on
// the backup h2, restarted at once, after 0.5s and after the VIP's lifetime.
// It asserts what must hold whatever the machine's load: the VIP is never
// on two hosts, it ends on h1 alone, and while the killed daemon's address
// was still on h1 (restarted at once or after 0.5s, well inside the 2s
// lifetime) the address never left h1 nor went anywhere else. The client's
// outage and the holder sequence are logged (a RESULT line per run, for
// "go test -count=N" to be summed up), with the daemons' timeline around
// the kill; no duration is asserted.
func TestPrivilegedSIGKILLRestartDefaults(t *testing.T) {
	for _, host := range []string{"h1", "h2"} {
		for _, after := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Second} {
			t.Run(fmt.Sprintf("%s/after=%v", host, after), func(t *testing.T) {
				sigkillRestart(t, host, after)
			})
		}
	}
}

func sigkillRestart(t *testing.T, host string, after time.Duration) {
	rg := newRig(t, rig.Options{
		Interval: defaultInterval,
		Deadtime: defaultDeadtime,
		ConfigHook: func(_, cfg string) string {
			return strings.Replace(cfg, "\ncontrol_socket", "\nlog_level = \"debug\"\ncontrol_socket", 1)
		},
	})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	sampler := rg.Sample("web")
	defer sampler.Stop()

	t0 := time.Now()
	if err := rg.Signal(host, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-rg.Daemon(host).Done()
	killed := time.Now()
	// The fault's timeline, not a wait for something to happen.
	time.Sleep(after)
	stale, _ := rg.Present(host, "web")
	restarted := time.Now()
	if _, err := rg.StartDaemon(host); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t0, fmt.Sprintf("SIGKILL %s, restart after %v", host, after))
	// Settled may pass on an answer from before a gap (h1 answered until
	// its restarted daemon removed the address): the outage is measured
	// once a probe sent after settling has been answered.
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if _, err := rg.Prober("web").Wait(ctx, "h1", time.Now()); err != nil {
		t.Fatal(err)
	}
	outage := rg.Prober("web").Outage(t0, time.Now())
	samples, overlaps, seq := sampler.Stop()

	t.Logf("RESULT case=%s/%v outage_ms=%d lost=%d stale_vip_at_restart=%v restart_ms=%d holders=%s samples=%d",
		host, after, outage.Longest.Milliseconds(), outage.Lost, stale, restarted.Sub(killed).Milliseconds(),
		strings.Join(seq, ","), samples)
	t.Logf("timeline (ms after the kill):\n%s", timeline(rg, killed))

	if len(overlaps) > 0 {
		t.Errorf("VIP on two hosts at once: %v", overlaps)
	}
	for _, h := range seq {
		if h != "h1" && h != "h2" && h != "-" {
			t.Errorf("holder sequence %v: %q is not one host or none", seq, h)
		}
	}
	if len(seq) == 0 || seq[len(seq)-1] != "h1" {
		t.Errorf("holder sequence %v: want it to end on h1", seq)
	}
	// The backup's restart never moves the address; nor does the owner's
	// while its address is still there: nobody could take it meanwhile
	// (h2's ARP probe is answered), and the restarted h1 keeps it.
	if (host == "h2" || after < time.Second) && !slices.Equal(seq, []string{"h1"}) {
		// Only h1's stall guard (a daemon that stood still longer than the
		// deadtime on a loaded machine drops every claim) may move it.
		if b, _ := os.ReadFile(rg.LogFile("h1")); strings.Contains(string(b), "stalled for") {
			t.Logf("holder sequence %v: h1 stalled and dropped the address (stall guard)", seq)
		} else {
			t.Errorf("holder sequence %v: want [h1] (the address never leaves h1)", seq)
		}
	}
}

// timeline returns the daemons' log lines that tell the story of a
// restart, each with its time relative to t0.
func timeline(rg *rig.Rig, t0 time.Time) string {
	keys := []string{"core started", "stale VIP", "service state", "peer state", "VIP added", "VIP released",
		"ALARM", "control sent", "kept", "listen"}
	type entry struct {
		at   time.Time
		text string
	}
	var es []entry
	var out []string
	for _, h := range rg.Hosts() {
		f, err := os.Open(rg.LogFile(h))
		if err != nil {
			out = append(out, h+": "+err.Error())
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(line, k) }) {
				continue
			}
			ts, rest, ok := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			if !ok {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil || at.Before(t0.Add(-time.Second)) {
				continue
			}
			es = append(es, entry{at, fmt.Sprintf("%+8.1f %s %s", float64(at.Sub(t0).Microseconds())/1000, h, rest)})
		}
		f.Close()
	}
	slices.SortStableFunc(es, func(a, b entry) int { return a.at.Compare(b.at) })
	for _, e := range es {
		out = append(out, e.text)
	}
	return strings.Join(out, "\n")
}
