package rig

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// holders builds a sampler timeline: "0:h1 200:- 310:h2" (ms:holders).
func holders(s string) []HolderChange {
	var out []HolderChange
	for _, f := range strings.Fields(s) {
		ms, hs, _ := strings.Cut(f, ":")
		var n int
		for _, c := range ms {
			n = n*10 + int(c-'0')
		}
		c := HolderChange{At: at(n)}
		if hs != "-" {
			c.Holders = strings.Split(hs, "+")
		}
		out = append(out, c)
	}
	return out
}

// answers: one answered probe every 10 ms in [from, to) from host.
func answers(from, to int, host string) []Answer {
	var out []Answer
	for ms := from; ms < to; ms += 10 {
		out = append(out, Answer{Sent: at(ms), At: at(ms + 1), From: host})
	}
	return out
}

func join[T any](xs ...[]T) []T {
	var out []T
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

var (
	healthy   = DrillScenario{Name: "cable-eth1", OwnerHealthy: true}
	unhealthy = DrillScenario{Name: "cable-eth0", MaxMoves: 2}
	mac1      = "02:18:01:00:00:01"
	mac2      = "02:18:01:00:00:02"
)

// base is a quiet run from 0 to 1000 ms on h1.
func base() DrillEvidence {
	return DrillEvidence{
		Owner: "h1", Start: at(0), End: at(1000), Window: 590 * time.Millisecond, ARPPeriod: 25 * time.Millisecond,
		Holders: holders("0:h1"), Answers: answers(0, 1000, "h1"),
	}
}

func results(r RunResult) map[string]string {
	out := map[string]string{}
	for _, v := range r.Verdicts {
		out[v.Name] = v.Result
	}
	return out
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		sc   DrillScenario
		edit func(ev *DrillEvidence)
		want map[string]string
	}{
		{"quiet run on a healthy owner", healthy, func(*DrillEvidence) {},
			map[string]string{"split_brain": Pass, "false_failover": Pass, "orphan": Pass, "settled": Pass}},
		{"a move on a healthy owner is a false failover", healthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 300:- 350:h2 700:h1")
			ev.Answers = join(answers(0, 300, "h1"), answers(360, 700, "h2"), answers(700, 1000, "h1"))
		}, map[string]string{"split_brain": Pass, "false_failover": Fail, "orphan": Pass, "settled": Pass}},
		{"the client answered by another host is a false failover too", healthy, func(ev *DrillEvidence) {
			ev.Answers = join(answers(0, 300, "h1"), answers(300, 310, "h2"), answers(310, 1000, "h1"))
		}, map[string]string{"split_brain": Pass, "false_failover": Fail, "orphan": Pass, "settled": Pass}},
		{"moves within the allowance", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 300:- 350:h2 700:h1")
			ev.Answers = join(answers(0, 300, "h1"), answers(360, 700, "h2"), answers(700, 1000, "h1"))
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"a third move is too many", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 300:h2 500:h1 700:h2 800:h1")
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Fail, "settled": Pass}},
		{"sampler overlap", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 300:h1+h2 310:h2")
			ev.Overlaps = []string{"00:00:00.300 h1+h2"}
		}, map[string]string{"split_brain": Fail, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"a probe answered twice", healthy, func(ev *DrillEvidence) { ev.Duplicates = 1 },
			map[string]string{"split_brain": Fail, "false_failover": Pass, "orphan": Pass, "settled": Pass}},
		{"two MACs answer one who-has", healthy, func(ev *DrillEvidence) {
			ev.ARP = []ARPRequest{{At: at(100), Answers: []ARPSeen{{At: at(101), MAC: mac1, Host: "h1"}, {At: at(102), MAC: mac2, Host: "h2"}}}}
		}, map[string]string{"split_brain": Fail, "false_failover": Pass, "orphan": Pass, "settled": Pass}},
		{"a claim while the other still holds", unhealthy, func(ev *DrillEvidence) {
			// The sampler's first reading after h2's claim still has h1
			// (alone: h2's copy went before it was read).
			ev.Holders = holders("0:h1 100:- 190:h1 212:h1+h2 220:h2")
			ev.Overlaps = nil // a shorter overlap than the sampler confirms
			ev.Claims = []ARPSeen{{At: at(200), MAC: mac1, Host: "h1"}, {At: at(205), MAC: mac2, Host: "h2"}}
		}, map[string]string{"split_brain": Fail, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"a hand-off the sampler read late is no clash", unhealthy, func(ev *DrillEvidence) {
			// The sampler last read h2 before the claims and next after
			// h2 released: its stale reading is no evidence.
			ev.Holders = holders("0:h2 230:h1")
			ev.Claims = []ARPSeen{{At: at(200), MAC: mac2, Host: "h2"}, {At: at(205), MAC: mac1, Host: "h1"}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"a hand-off: the first released right after the other's claim", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h2 207:h1")
			ev.Claims = []ARPSeen{{At: at(200), MAC: mac2, Host: "h2"}, {At: at(205), MAC: mac1, Host: "h1"}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"claims a period apart are not a clash", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 300:h2")
			ev.Claims = []ARPSeen{{At: at(200), MAC: mac1, Host: "h1"}, {At: at(260), MAC: mac2, Host: "h2"}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"no holder and no answer past the window", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 100:- 800:h2")
			ev.Answers = join(answers(0, 100, "h1"), answers(800, 1000, "h2"))
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Fail, "moves": Pass, "settled": Pass}},
		{"no holder but the client still answered is no orphan", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 100:- 800:h2")
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"a gap while nobody could serve is no orphan", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 100:- 800:h1")
			ev.Answers = join(answers(0, 100, "h1"), answers(800, 1000, "h1"))
			ev.NoEligible = []Span{{at(90), at(600)}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "settled": Pass}},
		{"not settled back", healthy, func(ev *DrillEvidence) { ev.Settled = "waiting for web settled back on h1: timeout" },
			map[string]string{"split_brain": Pass, "false_failover": Pass, "orphan": Pass, "settled": Fail}},
		{"back by reclaim", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 100:- 150:h2 600:h1")
			ev.CheckReturns, ev.ResumedAt = true, at(500)
			ev.Returns = []Return{{At: at(600), From: "reclaim"}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "reclaim": Pass, "settled": Pass}},
		{"back from indoubt while h2 held it", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 100:- 150:h2 600:h1")
			ev.CheckReturns, ev.ResumedAt = true, at(500)
			ev.Returns = []Return{{At: at(550), From: "indoubt", Line: "from=indoubt to=up"}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "reclaim": Fail, "settled": Pass}},
		{"back from indoubt while nobody held it", unhealthy, func(ev *DrillEvidence) {
			ev.Holders = holders("0:h1 100:- 600:h1")
			ev.Answers = join(answers(0, 100, "h1"), answers(600, 1000, "h1"))
			ev.NoEligible = []Span{{at(100), at(600)}}
			ev.CheckReturns, ev.ResumedAt = true, at(500)
			ev.Returns = []Return{{At: at(590), From: "indoubt"}}
		}, map[string]string{"split_brain": Pass, "false_failover": NA, "orphan": Pass, "moves": Pass, "reclaim": Pass, "settled": Pass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := base()
			tt.edit(&ev)
			res := Judge(tt.sc, ev)
			if diff := cmp.Diff(tt.want, results(res)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s\n%+v", diff, res.Verdicts)
			}
			for _, v := range res.Verdicts {
				if v.Evidence == "" {
					t.Errorf("%s: no evidence", v.Name)
				}
			}
			wantFailed := false
			for _, r := range tt.want {
				wantFailed = wantFailed || r == Fail
			}
			if res.Failed() != wantFailed {
				t.Errorf("Failed() = %v, want %v", res.Failed(), wantFailed)
			}
		})
	}
}

func TestMoves(t *testing.T) {
	tests := []struct {
		seq  string
		want int
	}{
		{"0:h1", 0},
		{"0:h1 10:- 20:h1", 0},
		{"0:h1 10:- 20:h2", 1},
		{"0:h1 10:h1+h2 20:h2", 1},
		{"0:h1 10:h2 20:h1", 2},
		{"0:- 10:h2 20:- 30:h1 40:h2", 2},
	}
	for _, tt := range tests {
		if got := moves(holders(tt.seq)); got != tt.want {
			t.Errorf("moves(%s) = %d, want %d", tt.seq, got, tt.want)
		}
	}
}

func TestLongestUncovered(t *testing.T) {
	tests := []struct {
		name   string
		spans  []Span
		want   time.Duration
		wantAt time.Time
	}{
		{"nothing covered", nil, time.Second, at(0)},
		{"all covered", []Span{{at(0), at(1000)}}, 0, time.Time{}},
		{"a hole", []Span{{at(0), at(100)}, {at(400), at(1000)}}, 300 * time.Millisecond, at(100)},
		{"overlapping spans", []Span{{at(0), at(500)}, {at(100), at(200)}, {at(600), at(1000)}}, 100 * time.Millisecond, at(500)},
		{"points", []Span{{at(0), at(0)}, {at(10), at(10)}, {at(950), at(950)}}, 940 * time.Millisecond, at(10)},
		{"the tail", []Span{{at(0), at(700)}}, 300 * time.Millisecond, at(700)},
		{"spans past the end", []Span{{at(0), at(100)}, {at(1200), at(1300)}}, 900 * time.Millisecond, at(100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gotAt := longestUncovered(at(0), at(1000), tt.spans)
			if got != tt.want || !gotAt.Equal(tt.wantAt) {
				t.Errorf("got %s at %s, want %s at %s", got, gotAt, tt.want, tt.wantAt)
			}
		})
	}
}

func TestDetectionWindow(t *testing.T) {
	// failoverd's defaults: 80 + max(0, 20) + 20 + 150.
	if got := DetectionWindow(20*time.Millisecond, 80*time.Millisecond, 0, 20*time.Millisecond); got != 270*time.Millisecond {
		t.Errorf("default window = %s, want 270ms", got)
	}
	// An indoubt hold longer than the interval counts instead: 500 + 200 + 20 + 150.
	if got := DetectionWindow(50*time.Millisecond, 500*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond); got != 870*time.Millisecond {
		t.Errorf("window = %s, want 870ms", got)
	}
}

func TestSelectScenarios(t *testing.T) {
	all, err := SelectScenarios(nil)
	if err != nil || len(all) != len(DrillScenarios()) {
		t.Fatalf("all: %d scenarios, %v", len(all), err)
	}
	got, err := SelectScenarios([]string{"stall", "power-pull"})
	if err != nil || len(got) != 2 || got[0].Name != "stall" || got[1].Name != "power-pull" {
		t.Errorf("stall,power-pull: %+v, %v", got, err)
	}
	_, err = SelectScenarios([]string{"stall", "nope"})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "power-pull, cable-eth0") {
		t.Errorf("unknown name: %v; want it named with the valid list", err)
	}
	if _, err := SelectScenarios([]string{"stall", "stall"}); err == nil {
		t.Error("a repeated name was accepted")
	}
	for _, s := range DrillScenarios() {
		if s.OwnerHealthy && s.MaxMoves != 0 {
			t.Errorf("%s: a healthy owner allows no move, has %d", s.Name, s.MaxMoves)
		}
		if s.Description == "" || strings.Contains(s.Description, "\n") {
			t.Errorf("%s: want a one-line description", s.Name)
		}
	}
}

func TestReportTotals(t *testing.T) {
	fail := func(name string) RunResult {
		return RunResult{Run: 1, Verdicts: []Verdict{{Name: name, Result: Fail, Evidence: "seen"}}}
	}
	rep := &DrillReport{Scenarios: []ScenarioReport{
		{Scenario: DrillScenario{Name: "a"}, Runs: []RunResult{fail(VerdictSplitBrain), {Run: 2, Verdicts: []Verdict{{Name: VerdictSplitBrain, Result: Pass}}}}},
		{Scenario: DrillScenario{Name: "b"}, Runs: []RunResult{fail(VerdictOrphan), {Run: 2, Error: "rack: boom"}}},
		{Scenario: DrillScenario{Name: "c"}, Runs: []RunResult{fail(VerdictFalseFailover)}},
	}}
	rep.total()
	if rep.SplitBrains != 1 || rep.Orphans != 1 || rep.FalseFailovers != 1 || rep.FailedRuns != 4 || !rep.Failed() {
		t.Errorf("totals: %+v", rep)
	}
	want := []string{"a run 1: split_brain: seen", "b run 1: orphan: seen", "b run 2: error: rack: boom", "c run 1: false_failover: seen"}
	if diff := cmp.Diff(want, rep.Failures()); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	ok := &DrillReport{Scenarios: []ScenarioReport{{Runs: []RunResult{{Verdicts: []Verdict{{Name: VerdictOrphan, Result: Pass}}}}}}}
	ok.total()
	if ok.Failed() {
		t.Error("a passing report failed")
	}
}

func TestArrows(t *testing.T) {
	if got := arrows([]string{"h1", "-", "h2"}); got != "h1 → - → h2" {
		t.Errorf("short: %q", got)
	}
	var long []string
	for i := range 40 {
		long = append(long, []string{"h1", "-"}[i%2])
	}
	if got, want := arrows(long), "h1 → - → h1 → - → h1 → - → … 28 more … → h1 → - → h1 → - → h1 → -"; got != want {
		t.Errorf("long: %q, want %q", got, want)
	}
}
