package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// The fault matrix, short: every scenario of "failover lab drill" once, at
// failoverd's default timers (the drill checks the defaults, not the test
// timers), run through the built CLI as an operator runs it. Every failed
// verdict fails the test with its evidence and the tail of the daemons'
// logs; none is allowed to fail. The long runs stay a manual command
// (failover lab drill --runs N).
func TestPrivilegedDrill(t *testing.T) {
	lab.Require(t)
	keep := t.TempDir()
	t0 := time.Now()
	code, stdout, stderr := failover(t, "lab", "drill", "--quick", "--runs", "1", "--json",
		"--failoverd", bin(t, "failoverd"), "--keep", keep)
	took := time.Since(t0)
	var rep rig.DrillReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("failover lab drill: exit %d, no JSON report (%v):\n%s\n%s", code, err, stdout, tailLines(stderr, 40))
	}
	t.Logf("drill of %d scenarios took %s (load %s)", len(rep.Scenarios), took.Round(100*time.Millisecond), strings.Join(rep.Load, " → "))

	var names []string
	for _, s := range rep.Scenarios {
		names = append(names, s.Scenario.Name)
		if len(s.Runs) != 1 {
			t.Errorf("%s: %d runs, want 1", s.Scenario.Name, len(s.Runs))
		}
		for _, run := range s.Runs {
			t.Logf("%-14s moves %d, longest gap %d ms, client outage %d ms, holders %s",
				s.Scenario.Name, run.Moves, time.Duration(run.LongestGap).Milliseconds(),
				time.Duration(run.ClientOutage).Milliseconds(), strings.Join(run.Holders, " → "))
			// The observers saw the cluster: the client's probes and its
			// ARP who-has were answered, by the rack's hosts only.
			if len(run.Answered) == 0 || len(run.ARPAnswered) == 0 {
				t.Errorf("%s: client probes answered by %v, ARP who-has by %v: an observer saw nothing", s.Scenario.Name, run.Answered, run.ARPAnswered)
			}
			for _, h := range append(slices.Clone(run.Answered), run.ARPAnswered...) {
				if h != "h1" && h != "h2" {
					t.Errorf("%s: answered by %q, not a host of the rack", s.Scenario.Name, h)
				}
			}
			if len(run.Verdicts) < 4 && run.Error == "" {
				t.Errorf("%s: only %d verdicts", s.Scenario.Name, len(run.Verdicts))
			}
		}
	}
	if want := rig.DrillScenarioNames(); !slices.Equal(names, want) {
		t.Errorf("scenarios run: %v, want every one: %v", names, want)
	}

	failures := rep.Failures()
	for _, f := range failures {
		t.Errorf("%s", f)
	}
	if len(failures) > 0 {
		for _, s := range rep.Scenarios {
			for _, run := range s.Runs {
				if !run.Failed() {
					continue
				}
				for _, h := range []string{"h1", "h2"} {
					b, _ := os.ReadFile(filepath.Join(run.LogDir, h+".log"))
					t.Logf("--- %s run %d: %s's failoverd log (tail):\n%s", s.Scenario.Name, run.Run, h, tailLines(string(b), 40))
				}
			}
		}
	}
	switch {
	case rep.Failed() && code != 1:
		t.Errorf("exit status %d with failed verdicts, want 1", code)
	case !rep.Failed() && code != 0:
		t.Errorf("exit status %d with every verdict passed, want 0:\n%s", code, tailLines(stderr, 20))
	}
}

// The drill's observers can see a split brain: the VIP added by hand on h2
// while h1 holds it is seen by the client's ARP observer (two MACs answer
// one who-has) and by the sampler, and Judge fails the run on it.
func TestPrivilegedDrillSeesTwoOwners(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	w, err := rg.WatchARP("web", rig.ARPPeriod)
	if err != nil {
		t.Fatal(err)
	}
	sampler := rg.Sample("web")
	start := time.Now()
	answeredBy := func(host string) func(context.Context) (bool, string) {
		return func(context.Context) (bool, string) {
			for _, rq := range w.Requests() {
				for _, a := range rq.Answers {
					if a.Host == host {
						return true, ""
					}
				}
			}
			return false, "no answer from " + host
		}
	}
	waitFor(t, "the ARP observer hears h1", answeredBy("h1"))
	h2 := rg.Lab.Host("h2")
	link, err := h2.Netlink().LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr(rig.DefaultVIP.String())
	if err := h2.Netlink().AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ARP observer hears h2 too", answeredBy("h2"))
	if err := h2.Netlink().AddrDel(link, addr); err != nil {
		t.Fatal(err)
	}
	reqs, claims, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	_, overlaps, _ := sampler.Stop()
	ev := rig.DrillEvidence{
		Owner: "h1", Start: start, End: time.Now(), Holders: sampler.Changes(), Overlaps: overlaps,
		ARP: reqs, Claims: claims, ARPPeriod: rig.ARPPeriod, Window: time.Second,
	}
	res := rig.Judge(rig.DrillScenario{Name: "by-hand", OwnerHealthy: true}, ev)
	sb := res.Verdict(rig.VerdictSplitBrain)
	t.Logf("split_brain: %s: %s", sb.Result, sb.Evidence)
	if !sb.Failed() || !strings.Contains(sb.Evidence, "client ARP") || !strings.Contains(sb.Evidence, "sampler") {
		t.Errorf("split_brain %s (%s); want a failure seen by the client's ARP and the sampler", sb.Result, sb.Evidence)
	}
	if !slices.Contains(res.ARPAnswered, "h1") || !slices.Contains(res.ARPAnswered, "h2") {
		t.Errorf("ARP answers from %v, want h1 and h2", res.ARPAnswered)
	}
}
