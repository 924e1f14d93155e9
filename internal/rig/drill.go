package rig

import (
	"fmt"
	"slices"
	"strings"
)

// DrillScenario is one fault of the drill's matrix. Faults are done to h1,
// the settled owner, unless the description says otherwise.
type DrillScenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// OwnerHealthy: h1 stays healthy and reachable on some path, so any
	// change of the holder is a false failover.
	OwnerHealthy bool `json:"owner_healthy"`
	// MaxMoves is how many owner changes a run may show (0 when
	// OwnerHealthy; 2 = out and back).
	MaxMoves int `json:"max_moves"`
	// ReclaimOnly: once h1 is back it may take the VIP back only by an
	// orderly reclaim (or from indoubt while nobody holds it).
	ReclaimOnly bool `json:"reclaim_only"`
}

// DrillScenarios is the drill's fault matrix, in the order it runs.
func DrillScenarios() []DrillScenario {
	return []DrillScenario{
		{Name: "power-pull", Description: "freeze h1 (processes stopped, every cable pulled) past the VIP lifetime, then power back", MaxMoves: 2, ReclaimOnly: true},
		{Name: "cable-eth0", Description: "pull h1's eth0 cable (the service NIC): h2 serves until it is plugged back", MaxMoves: 2},
		{Name: "cable-eth1", Description: "pull h1's eth1 cable: eth0 and serial still carry heartbeats", OwnerHealthy: true},
		{Name: "both-nics", Description: "pull both of h1's NIC cables, serial alive: h2 takes over, told by the serial line", MaxMoves: 2},
		{Name: "serial-cut", Description: "the serial adapters hang up (both ends closed): eth0 and eth1 remain", OwnerHealthy: true},
		{Name: "silent-eth0", Description: "the switch drops every frame of h1's eth0, link up: eth1 and serial remain", OwnerHealthy: true},
		{Name: "silent-eth1", Description: "the switch drops every frame of h1's eth1, link up: eth0 and serial remain", OwnerHealthy: true},
		{Name: "silent-serial", Description: "the serial cable drops every byte, ports open: eth0 and eth1 remain", OwnerHealthy: true},
		{Name: "one-way", Description: "the switch drops frames to h1 on eth0 and eth1, frames from h1 pass: h1 hears h2 on serial only", OwnerHealthy: true},
		{Name: "loss-30", Description: "30% random loss each way on h1's eth0 and eth1 (every UDP path; the lab cannot lose serial bytes at random)", OwnerHealthy: true},
		{Name: "cpu-hog", Description: "NumCPU busy loops in every host for 60s (5s with --quick)", OwnerHealthy: true},
		{Name: "kill-owner", Description: "SIGKILL h1's failoverd (its VIP stays in the kernel until the lifetime ends), restart it", MaxMoves: 2},
		{Name: "kill-backup", Description: "SIGKILL h2's failoverd, restart it", OwnerHealthy: true},
		{Name: "boot-together", Description: "stop both daemons, start both at once: one owner (h1) without a detour, never two", MaxMoves: 0},
		{Name: "flap-eth0", Description: "h1's eth0 admin down/up every 200ms for 10s (4s with --quick): the service moves at most twice", MaxMoves: 2},
		{Name: "admin-down-up", Description: "h1's eth0 (the service NIC) admin down, then up: h2 serves meanwhile", MaxMoves: 2},
		{Name: "stall", Description: "SIGSTOP h1's failoverd (cables in) longer than the VIP lifetime, then SIGCONT: never two owners, back only by reclaim", MaxMoves: 2, ReclaimOnly: true},
	}
}

// DrillScenarioNames lists the scenario names in order.
func DrillScenarioNames() []string {
	var out []string
	for _, s := range DrillScenarios() {
		out = append(out, s.Name)
	}
	return out
}

// SelectScenarios returns the named scenarios in the given order (all for
// none); an unknown or repeated name is an error listing the valid ones.
func SelectScenarios(names []string) ([]DrillScenario, error) {
	all := DrillScenarios()
	if len(names) == 0 {
		return all, nil
	}
	var out []DrillScenario
	var unknown []string
	for _, n := range names {
		i := slices.IndexFunc(all, func(s DrillScenario) bool { return s.Name == n })
		switch {
		case i < 0:
			unknown = append(unknown, fmt.Sprintf("%q", n))
		case slices.ContainsFunc(out, func(s DrillScenario) bool { return s.Name == n }):
			return nil, fmt.Errorf("scenario %q given twice", n)
		default:
			out = append(out, all[i])
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown scenario %s: valid scenarios are %s", strings.Join(unknown, ", "), strings.Join(DrillScenarioNames(), ", "))
	}
	return out, nil
}

// MaxDrillRuns bounds DrillOptions.Runs.
const MaxDrillRuns = 1000

// ScenarioReport is every run of one scenario.
type ScenarioReport struct {
	Scenario DrillScenario `json:"scenario"`
	Runs     []RunResult   `json:"runs"`
}

// Count returns how many runs failed the named verdict.
func (s ScenarioReport) Count(verdict string) int {
	n := 0
	for _, r := range s.Runs {
		if r.Verdict(verdict).Failed() {
			n++
		}
	}
	return n
}

// Failed reports whether any run failed.
func (s ScenarioReport) Failed() bool {
	return slices.ContainsFunc(s.Runs, RunResult.Failed)
}

// DrillReport is the outcome of a drill.
type DrillReport struct {
	Started   string            `json:"started"`
	Timers    map[string]string `json:"timers"` // the effective timers, by config key
	Window    Millis            `json:"window_ms"`
	Quick     bool              `json:"quick"`
	Load      []string          `json:"load"` // /proc/loadavg before and after
	Took      Millis            `json:"took_ms"`
	Scenarios []ScenarioReport  `json:"scenarios"`
	// Totals: runs that failed each verdict.
	SplitBrains    int `json:"split_brains"`
	FalseFailovers int `json:"false_failovers"`
	Orphans        int `json:"orphans"`
	FailedRuns     int `json:"failed_runs"`
}

// Failed reports whether any run failed a verdict or broke off.
func (r *DrillReport) Failed() bool { return r.FailedRuns > 0 }

// total recounts the totals from the scenarios.
func (r *DrillReport) total() {
	r.SplitBrains, r.FalseFailovers, r.Orphans, r.FailedRuns = 0, 0, 0, 0
	for _, s := range r.Scenarios {
		r.SplitBrains += s.Count(VerdictSplitBrain)
		r.FalseFailovers += s.Count(VerdictFalseFailover)
		r.Orphans += s.Count(VerdictOrphan)
		for _, run := range s.Runs {
			if run.Failed() {
				r.FailedRuns++
			}
		}
	}
}

// Failures lists every failed verdict of every run with its evidence, one
// line each ("stall run 1: split_brain: ...").
func (r *DrillReport) Failures() []string {
	var out []string
	for _, s := range r.Scenarios {
		for _, run := range s.Runs {
			prefix := fmt.Sprintf("%s run %d: ", s.Scenario.Name, run.Run)
			if run.Error != "" {
				out = append(out, prefix+"error: "+run.Error)
			}
			for _, v := range run.Verdicts {
				if v.Failed() {
					out = append(out, prefix+v.Name+": "+v.Evidence)
				}
			}
			if run.Failed() && run.LogDir != "" {
				out = append(out, prefix+"logs in "+run.LogDir)
			}
		}
	}
	return out
}
