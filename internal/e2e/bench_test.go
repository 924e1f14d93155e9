package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/failover-ha/failover/internal/lab"
)

// benchJSON is the part of "failover lab bench --json" this test reads.
type benchJSON struct {
	Runs   int               `json:"runs"`
	Timers map[string]string `json:"timers"`
	Idle   *struct {
		Hosts []struct {
			Host string `json:"host"`
		} `json:"hosts"`
	} `json:"idle"`
	Scenarios []struct {
		Name       string `json:"name"`
		Detection  string `json:"detection"`
		Measured   int    `json:"measured"`
		Unmeasured int    `json:"unmeasured"`
		Outage     struct {
			N   int      `json:"n"`
			Min *float64 `json:"min_ms"`
			P50 *float64 `json:"p50_ms"`
			Max *float64 `json:"max_ms"`
		} `json:"outage"`
		Stages []struct {
			Stage string `json:"stage"`
		} `json:"stages"`
		Runs []struct {
			Run      int                `json:"run"`
			Measured bool               `json:"measured"`
			Reason   string             `json:"reason"`
			Outage   *float64           `json:"outage_ms"`
			ICMP     *float64           `json:"outage_icmp_ms"`
			Stages   map[string]float64 `json:"stages_ms"`
			Missing  []string           `json:"missing_stages"`
		} `json:"runs"`
	} `json:"scenarios"`
}

// "failover lab bench" as a script runs it: JSON with every scenario asked
// for, each run measured, its stages in the order they must happen. Only
// structure and order are checked, never a speed.
func TestPrivilegedLabBench(t *testing.T) {
	lab.Require(t)
	code, out, errs := failover(t, "lab", "bench", "--runs", "1", "--scenario", "power-pull,handover-fail", "--json",
		"--window", "1s", "--interval", testInterval.String(), "--deadtime", testDeadtime.String())
	if code != 0 {
		t.Fatalf("failover lab bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"power-pull run 1/1: ", "handover-fail run 1/1: ", "sampling the idle daemons"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks the progress line %q:\n%s", want, errs)
		}
	}
	var res benchJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, out)
	}
	if res.Runs != 1 || res.Timers["interval"] != testInterval.String() || res.Timers["deadtime"] != testDeadtime.String() {
		t.Errorf("runs %d, timers %v; want 1 run, interval %s, deadtime %s", res.Runs, res.Timers, testInterval, testDeadtime)
	}
	if res.Idle == nil || len(res.Idle.Hosts) != 2 {
		t.Errorf("idle sample: %+v, want both hosts", res.Idle)
	}
	var names []string
	for _, s := range res.Scenarios {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"power-pull", "handover-fail"}) {
		t.Fatalf("scenarios %v, want [power-pull handover-fail]", names)
	}
	wantDetection := map[string]string{
		"power-pull":    `h2 "peer state" peer=h1 to=dead`,
		"handover-fail": `h1 "control sent" op=release service=web`,
	}
	order := []string{"detection", "decision", "address_added", "client_convergence"}
	for _, s := range res.Scenarios {
		if s.Detection != wantDetection[s.Name] {
			t.Errorf("%s: detection %q, want %q", s.Name, s.Detection, wantDetection[s.Name])
		}
		if len(s.Runs) != 1 || s.Measured+s.Unmeasured != 1 {
			t.Fatalf("%s: %d runs, %d measured, %d not; want 1 run", s.Name, len(s.Runs), s.Measured, s.Unmeasured)
		}
		r := s.Runs[0]
		if !r.Measured {
			t.Errorf("%s: run not measured: %s", s.Name, r.Reason)
			continue
		}
		if r.Outage == nil || *r.Outage < 0 {
			t.Errorf("%s: outage %v, want a number of ms", s.Name, r.Outage)
		}
		if r.ICMP == nil || *r.ICMP < 0 {
			t.Errorf("%s: ICMP outage %v, want a number of ms", s.Name, r.ICMP)
		}
		if s.Outage.N != 1 || s.Outage.P50 == nil || s.Outage.Min == nil || s.Outage.Max == nil || *s.Outage.P50 != *r.Outage {
			t.Errorf("%s: outage distribution %+v does not hold the run's %v", s.Name, s.Outage, r.Outage)
		}
		if len(r.Missing) > 0 {
			t.Errorf("%s: stages not found in the logs: %v", s.Name, r.Missing)
		}
		prev := ""
		for _, st := range append(order, "first_announcement") {
			if _, ok := r.Stages[st]; !ok {
				t.Errorf("%s: stage %s missing from %v", s.Name, st, r.Stages)
			}
		}
		for _, st := range order {
			if prev != "" && r.Stages[st] < r.Stages[prev] {
				t.Errorf("%s: %s at %.3f ms before %s at %.3f ms", s.Name, st, r.Stages[st], prev, r.Stages[prev])
			}
			prev = st
		}
		if r.Stages["first_announcement"] < r.Stages["address_added"] {
			t.Errorf("%s: first announcement before the address was added: %v", s.Name, r.Stages)
		}
		if len(s.Stages) != 5 {
			t.Errorf("%s: %d stage distributions, want 5: %+v", s.Name, len(s.Stages), s.Stages)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", errs)
	}
}
