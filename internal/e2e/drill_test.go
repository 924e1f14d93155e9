package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
