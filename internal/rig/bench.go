package rig

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The bench's scenarios. Each run starts from a settled cluster (h1 holds
// the service, every path alive), injects one fault at t0, measures until
// the new owner holds the service, and then puts the cluster back (not
// measured).
const (
	// ScenarioPowerPull freezes h1 (the lab's power pull: its processes
	// stop, every NIC and cable goes silent); h2 takes over when it
	// declares h1 dead. Restore: thaw h1, which reclaims.
	ScenarioPowerPull = "power-pull"
	// ScenarioCablePull pulls h1's service NIC (eth0) cable; h1 loses
	// carrier, fails the service and releases it to h2. Restore: plug it
	// back (h1 waits carrier_settle, then reclaims).
	ScenarioCablePull = "cable-pull"
	// ScenarioHandoverTerm sends SIGTERM to h1's failoverd, which
	// releases the service to h2 and exits. Restore: start it again.
	ScenarioHandoverTerm = "handover-term"
	// ScenarioHandoverFail runs "failover fail web" on h1, which releases
	// the service to h2. Restore: "failover recover web".
	ScenarioHandoverFail = "handover-fail"
	// ScenarioReclaim measures the master's return after a power pull:
	// h1 is frozen and h2 settled as the owner (not measured), then h1 is
	// thawed at t0 and the run ends when h1 holds the service again.
	ScenarioReclaim = "reclaim"
)

// BenchScenarios returns the names of the bench's scenarios, in the order
// RunBench runs them.
func BenchScenarios() []string {
	return []string{ScenarioPowerPull, ScenarioCablePull, ScenarioHandoverTerm, ScenarioHandoverFail, ScenarioReclaim}
}

// MaxBenchRuns bounds BenchOptions.Runs.
const MaxBenchRuns = 100000

// ErrBenchOptions is wrapped by the errors of RunBench and
// BenchOptions.Check about options that cannot work (an unknown scenario, a
// run count out of range, a timer failoverd refuses), before anything is
// built.
var ErrBenchOptions = errors.New("bad bench options")

// ParseScenarios reads a comma-separated list of scenario names; "" and
// "all" mean every scenario. Duplicates are dropped and the result is in
// BenchScenarios order. An unknown name is an error (wrapping
// ErrBenchOptions) that lists the valid ones.
func ParseScenarios(list string) ([]string, error) {
	all := BenchScenarios()
	if strings.TrimSpace(list) == "" || strings.TrimSpace(list) == "all" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("%w: unknown scenario %q: want one or more of %s (comma-separated), or all",
				ErrBenchOptions, n, strings.Join(all, ", "))
		}
		want[n] = true
	}
	var out []string
	for _, n := range all {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
