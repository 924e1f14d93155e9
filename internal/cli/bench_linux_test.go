package cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/internal/rig"
)

// Bad flags are refused before anything is built (no root needed): exit 2,
// one line naming the flag and what is valid.
func TestLabBenchRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // substrings of the one line on stderr
	}{
		{[]string{"--runs", "0"}, []string{"--runs 0", "want 1..100000"}},
		{[]string{"--runs", "-1"}, []string{"--runs -1", "want 1..100000"}},
		{[]string{"--runs", "100001"}, []string{"--runs 100001", "want 1..100000"}},
		{[]string{"-n", "0"}, []string{"-n 0", "want 1..100000"}},
		{[]string{"--scenario", "foo"}, []string{`--scenario: unknown scenario "foo"`,
			"power-pull, cable-pull, handover-term, handover-fail, reclaim", "or all"}},
		{[]string{"--scenario", "power-pull,handover"}, []string{`unknown scenario "handover"`, "handover-term, handover-fail"}},
		{[]string{"--deadtime", "30ms"}, []string{"--deadtime 30ms (timers.deadtime)", "more than 2 x interval (40ms)"}},
		{[]string{"--interval", "60ms"}, []string{"timers.deadtime (failoverd's default; set it with --deadtime)", "more than 2 x interval (120ms)"}},
		{[]string{"--interval", "0s"}, []string{"--interval 0s (timers.interval)", "must be more than 0"}},
		{[]string{"--interval", "fast"}, []string{`--interval "fast" is not a duration`}},
		{[]string{"--adaptive-floor", "10ms"}, []string{"--adaptive-floor 10ms (timers.adaptive_floor)", "between 2 x interval (40ms) and deadtime (80ms)"}},
		{[]string{"--indoubt-hold", "-1s"}, []string{"--indoubt-hold -1s (timers.indoubt_hold)", "negative"}},
		{[]string{"--startup", "-5s"}, []string{"--startup -5s (timers.startup)", "negative"}},
		{[]string{"--damping", "50ms"}, []string{"--damping 50ms (timers.damping)", "at least 2 x deadtime (160ms)"}},
		{[]string{"--window", "500ms"}, []string{"--window 500ms", "at least 1s"}},
		{[]string{"--idle", "--window", "0"}, []string{"--idle with --window 0"}},
		{[]string{"--gomaxprocs", "-1"}, []string{"--gomaxprocs -1"}},
		{[]string{"--timeout", "0s"}, []string{"--timeout 0s", "positive"}},
		{[]string{"--bogus"}, []string{"flag provided but not defined: -bogus"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := run(t, append([]string{"lab", "bench"}, tc.args...)...)
			if code != ExitUsage || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, one line on stderr", code, out, errs, ExitUsage)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
		})
	}
}

// Good flags become the bench's options: the timer flags as [timers] keys,
// the scenarios in the bench's order.
func TestLabBenchFlags(t *testing.T) {
	r := &runner{env: Env{Stdout: io.Discard, Stderr: io.Discard}}
	c := &command{name: "lab bench"}
	bf, err := r.parseBench(c, []string{"--runs", "3", "--scenario", "reclaim,power-pull", "--interval", "50ms",
		"--deadtime", "500ms", "--indoubt-hold", "0s", "--gomaxprocs", "1", "--window", "0", "--no-serial", "--out", "x.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := rig.BenchOptions{
		Runs: 3, Scenarios: []string{"power-pull", "reclaim"}, Timeout: 20 * time.Second,
		Rig: rig.Options{NoSerial: true, Env: []string{"GOMAXPROCS=1"},
			TimerKeys: map[string]string{"interval": "50ms", "deadtime": "500ms", "indoubt_hold": "0s"}},
	}
	if diff := cmp.Diff(want, bf.opts, cmp.Comparer(func(a, b func(string, ...any)) bool { return a == nil && b == nil })); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if bf.out != "x.md" {
		t.Errorf("out %q", bf.out)
	}
	bf, err = r.parseBench(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bf.opts.Runs != 20 || !cmp.Equal(bf.opts.Scenarios, rig.BenchScenarios()) || bf.opts.IdleWindow != 20*time.Second || bf.opts.Rig.TimerKeys != nil {
		t.Errorf("defaults: %+v", bf.opts)
	}
}
