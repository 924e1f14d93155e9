package rig

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestScenarioSummaryAndJSON(t *testing.T) {
	ms := time.Millisecond
	s := ScenarioResult{Name: ScenarioPowerPull, Runs: []BenchRun{
		{Run: 1, Measured: true, Outage: 110 * ms, Lost: 11, Before: "h1", After: "h2", ICMP: true, OutageICMP: 100 * ms,
			Stages: map[string]time.Duration{StageDetection: 100 * ms, StageDecision: 125 * ms, StageClient: 130 * ms}},
		{Run: 2, Reason: "the client got no answer from h2: timed out"},
		{Run: 3, Measured: true, Outage: 120 * ms, Stages: map[string]time.Duration{StageDetection: 101 * ms}, Missing: []string{StageDecision}},
	}}
	s.summarize()
	if s.Measured != 2 || s.Unmeasured != 1 {
		t.Errorf("measured %d, unmeasured %d; want 2, 1", s.Measured, s.Unmeasured)
	}
	if want := (Dist{N: 2, Min: 110 * ms, P50: 110 * ms, P90: 120 * ms, P99: 120 * ms, Max: 120 * ms}); s.Outage != want {
		t.Errorf("outage %+v, want %+v (the unmeasured run left out)", s.Outage, want)
	}
	if want := (Dist{N: 1, Min: 100 * ms, P50: 100 * ms, P90: 100 * ms, P99: 100 * ms, Max: 100 * ms}); s.OutageICMP != want {
		t.Errorf("ICMP outage %+v, want %+v (only the run with a ping answered)", s.OutageICMP, want)
	}
	var stages []string
	for _, sd := range s.Stages {
		stages = append(stages, sd.Stage)
	}
	if diff := cmp.Diff([]string{StageDetection, StageDecision, StageClient}, stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if d, ok := s.Stage(StageDetection); !ok || d.N != 2 || d.Max != 101*ms {
		t.Errorf("detection %+v %v", d, ok)
	}
	if _, ok := s.Stage(StageAdded); ok {
		t.Error("a stage found in no run has a distribution")
	}

	b, err := json.Marshal(s.Runs)
	if err != nil {
		t.Fatal(err)
	}
	var runs []map[string]any
	if err := json.Unmarshal(b, &runs); err != nil {
		t.Fatal(err)
	}
	if runs[0]["measured"] != true || runs[0]["outage_ms"] != 110.0 || runs[0]["outage_icmp_ms"] != 100.0 || runs[0]["lost"] != 11.0 ||
		runs[0]["stages_ms"].(map[string]any)[StageDecision] != 125.0 {
		t.Errorf("measured run: %s", b)
	}
	if _, ok := runs[2]["outage_icmp_ms"]; ok {
		t.Errorf("a run without an echo reply has an ICMP outage: %v", runs[2])
	}
	for _, k := range []string{"outage_ms", "outage_icmp_ms", "lost", "stages_ms"} {
		if _, ok := runs[1][k]; ok {
			t.Errorf("unmeasured run has %s: %v", k, runs[1])
		}
	}
	if runs[1]["measured"] != false || runs[1]["reason"] != "the client got no answer from h2: timed out" {
		t.Errorf("unmeasured run: %v", runs[1])
	}

	// A scenario with no measured run prints why, never a number.
	none := ScenarioResult{Name: ScenarioReclaim, Runs: []BenchRun{{Run: 1, Reason: "no answer from h1"}}}
	none.summarize()
	res := &BenchResult{Scenarios: []ScenarioResult{s, none}}
	text := res.Text()
	for _, want := range []string{`(?m)^reclaim +1 +0 +not measured +- +- +- +-$`, `(?m)^  run 1 not measured \(no answer from h1\)$`,
		`(?m)^  run 2 not measured \(the client got no answer from h2: timed out\)$`,
		`(?m)^power-pull +3 +2 +110\.0 ms +110\.0 ms +120\.0 ms +120\.0 ms +120\.0 ms$`,
		`(?m)^power-pull +3 +1 +100\.0 ms +100\.0 ms +100\.0 ms +100\.0 ms +100\.0 ms$`} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("text does not match %s:\n%s", want, text)
		}
	}
	if line := grepLine(text, "reclaim "); strings.Contains(line, " ms") {
		t.Errorf("unmeasured scenario shows a number: %q", line)
	}
	md := res.Markdown("failover lab bench")
	for _, want := range []string{"| reclaim | 1 | 0 | not measured | - | - | - | - |", "- run 1 not measured (no answer from h1)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func grepLine(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
