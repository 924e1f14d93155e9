package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/failover-ha/failover/internal/rig"
)

// Bad drill arguments are refused before anything is built (exit 2), each
// naming the flag and what is valid.
func TestDrillRefusesBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--scenario", "power-pull,meteor"}, []string{"--scenario", `"meteor"`, "power-pull, cable-eth0", "stall"}},
		{[]string{"--scenario", "stall,stall"}, []string{"--scenario", "twice"}},
		{[]string{"--runs", "0"}, []string{"--runs 0", "1..1000"}},
		{[]string{"--runs", "1000000"}, []string{"--runs 1000000", "1..1000"}},
		{[]string{"--deadtime", "30ms"}, []string{"timers.deadtime", "--deadtime sets timers.deadtime"}},
		{[]string{"--damping", "50ms"}, []string{"timers.damping"}},
		{[]string{"--interval", "-1s"}, []string{"--interval", "negative"}},
		{[]string{"--runs", "x"}, []string{"-runs", "parse error"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := run(t, append([]string{"lab", "drill"}, tt.args...)...)
			if code != ExitUsage || out != "" {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing on stdout", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
		})
	}
}

func TestDrillList(t *testing.T) {
	code, out, _ := run(t, "lab", "drill", "--list", "--json")
	var got []rig.DrillScenario
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(got) != len(rig.DrillScenarios()) || got[0].Name != "power-pull" {
		t.Errorf("listed %d scenarios (first %q), want %d from power-pull", len(got), got[0].Name, len(rig.DrillScenarios()))
	}
	code, out, _ = run(t, "lab", "drill", "--list")
	if code != 0 || !strings.Contains(out, "flap-eth0") || !strings.Contains(out, "MOVES ALLOWED") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDrillTable(t *testing.T) {
	rep := &rig.DrillReport{
		Timers: map[string]string{"deadtime": "100ms"}, Load: []string{"0.1 0.2 0.3", "0.4 0.5 0.6"},
		Scenarios: []rig.ScenarioReport{
			{Scenario: rig.DrillScenario{Name: "cable-eth1", OwnerHealthy: true}, Runs: []rig.RunResult{{Run: 1, Verdicts: []rig.Verdict{{Name: rig.VerdictSplitBrain, Result: rig.Pass}}}}},
			{Scenario: rig.DrillScenario{Name: "stall", MaxMoves: 2}, Runs: []rig.RunResult{{Run: 1, Moves: 3, Verdicts: []rig.Verdict{{Name: rig.VerdictMoves, Result: rig.Fail, Evidence: "3 moves (at most 2)"}}}}},
		},
		FailedRuns: 1,
	}
	var b strings.Builder
	writeDrillTable(&b, rep)
	out := b.String()
	for _, w := range []string{"cable-eth1  1     0/1          0/1", "stall       1     0/1          n/a", "3 (≤2)", "FAIL", "PASS", "stall run 1: moves: 3 moves (at most 2)"} {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
}
