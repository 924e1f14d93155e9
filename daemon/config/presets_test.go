package config

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/quorum"
)

// TestLanIsTheDefault: the lan preset holds the defaults chosen by "failover
// lab sweep" (docs/benchmarks.md: 20ms/80ms; 20ms/100ms before), Default and
// DefaultService take them from it, and a file that names no preset gets
// them.
func TestLanIsTheDefault(t *testing.T) {
	lan, ok := LookupPreset(DefaultPreset)
	if !ok || DefaultPreset != "lan" {
		t.Fatalf("default preset %q not found", DefaultPreset)
	}
	want := Timers{Interval: 20 * time.Millisecond, Deadtime: 80 * time.Millisecond, Startup: 240 * time.Millisecond,
		Damping: 10 * time.Second, FlapLimit: 3, CarrierSettle: time.Second}
	if diff := cmp.Diff(want, lan.Timers); diff != "" {
		t.Errorf("lan timers (-want +lan):\n%s", diff)
	}
	if lan.ProbeWindow != 20*time.Millisecond {
		t.Errorf("lan probe window %s, want 20ms", lan.ProbeWindow)
	}
	if d := Default(); d.Timers != lan.Timers || d.Preset != "lan" {
		t.Errorf("Default: preset %q, timers %+v; want lan's", d.Preset, d.Timers)
	}
	if DefaultService().ProbeWindow != lan.ProbeWindow {
		t.Errorf("DefaultService probe window %s, want lan's %s", DefaultService().ProbeWindow, lan.ProbeWindow)
	}
	c, err := Parse("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Preset != "lan" || c.Timers != lan.Timers || c.Services[0].ProbeWindow != lan.ProbeWindow || len(c.From) != 0 {
		t.Errorf("no preset: preset %q, timers %+v, probe window %s, from %v", c.Preset, c.Timers, c.Services[0].ProbeWindow, c.From)
	}
	if got, want := PresetNames(), []string{"fast", "lan", "wan"}; !slices.Equal(got, want) {
		t.Errorf("PresetNames() = %q, want %q", got, want)
	}
}

// TestPresetsValid: each preset passes validation, the CPU budget and the
// serial line budget (a 115200 baud cable besides two NICs) for 2 to 16
// nodes, and a file naming it gets its values. The presets are ordered:
// each detects a dead peer later than the one before.
func TestPresetsValid(t *testing.T) {
	var prev time.Duration
	for _, pr := range Presets() {
		if pr.Timers.Deadtime <= prev {
			t.Errorf("%s: deadtime %s not longer than the faster preset's %s", pr.Name, pr.Timers.Deadtime, prev)
		}
		prev = pr.Timers.Deadtime
		if pr.Use == "" {
			t.Errorf("%s: no Use", pr.Name)
		}
		for n := 2; n <= 16; n++ {
			c, err := Parse("f.toml", []byte(cluster(n, 115200, `preset = "`+pr.Name+`"`)))
			if err != nil {
				t.Errorf("%s, %d nodes:\n%v", pr.Name, n, err)
				continue
			}
			if c.Preset != pr.Name || c.Timers != pr.Timers || c.Services[0].ProbeWindow != pr.ProbeWindow {
				t.Errorf("%s, %d nodes: got preset %q, timers %+v, probe window %s", pr.Name, n, c.Preset, c.Timers, c.Services[0].ProbeWindow)
			}
			if err := c.Core().Validate(); err != nil {
				t.Errorf("%s, %d nodes: core config: %v", pr.Name, n, err)
			}
		}
	}
}

// The reason fast's interval is not 10ms: at 13 nodes it costs more CPU
// than the budget (the comment in presets.go says so).
func TestFastAt10msOverBudget(t *testing.T) {
	_, err := Parse("f.toml", []byte(cluster(13, 115200, "preset = \"fast\"\ninterval = \"10ms\"")))
	if err == nil || !strings.Contains(err.Error(), "timers.interval: 10ms would cost about 52ms of CPU a second") {
		t.Errorf("want the CPU budget refusing 10ms at 13 nodes, got %v", err)
	}
}

func TestPresetParse(t *testing.T) {
	wan, _ := LookupPreset("wan")
	fast, _ := LookupPreset("fast")
	for _, tt := range []struct {
		name   string
		timers string // [timers] lines
		svc    string // lines added to the [[service]]
		want   func(*Timers)
		from   map[string]string
		probe  time.Duration
		errs   []string // every problem, in order; none: valid
	}{
		{name: "wan", timers: `preset = "wan"`, want: func(t *Timers) { *t = wan.Timers }, probe: wan.ProbeWindow},
		{name: "wan, deadtime and probe window given", timers: "preset = \"wan\"\ndeadtime = \"2s\"", svc: `probe_window = "50ms"`,
			want: func(t *Timers) { *t = wan.Timers; t.Deadtime, t.Startup = 2*time.Second, 6*time.Second },
			from: map[string]string{"timers.deadtime": "file", "timers.startup": "3 x deadtime", "service[0].probe_window": "file"}, probe: 50 * time.Millisecond},
		{name: "fast, every timer given", timers: "preset = \"fast\"\ninterval = \"20ms\"\ndeadtime = \"200ms\"\nadaptive_floor = \"50ms\"\nstartup = \"1s\"\n" +
			"indoubt_hold = \"10ms\"\ndamping = \"5s\"\nflap_limit = 4\ncarrier_settle = \"2s\"",
			want: func(t *Timers) {
				*t = Timers{Interval: 20 * time.Millisecond, Deadtime: 200 * time.Millisecond, AdaptiveFloor: 50 * time.Millisecond, Startup: time.Second,
					IndoubtHold: 10 * time.Millisecond, Damping: 5 * time.Second, FlapLimit: 4, CarrierSettle: 2 * time.Second}
			},
			from: map[string]string{"timers.interval": "file", "timers.deadtime": "file", "timers.adaptive_floor": "file", "timers.startup": "file",
				"timers.indoubt_hold": "file", "timers.damping": "file", "timers.flap_limit": "file", "timers.carrier_settle": "file"},
			probe: fast.ProbeWindow},
		{name: "deadtime past half the damping raises it", timers: "preset = \"fast\"\ndeadtime = \"6s\"",
			want: func(t *Timers) {
				*t = fast.Timers
				t.Deadtime, t.Startup, t.Damping = 6*time.Second, 18*time.Second, 12*time.Second
			},
			from:  map[string]string{"timers.deadtime": "file", "timers.startup": "3 x deadtime", "timers.damping": "2 x deadtime"},
			probe: fast.ProbeWindow},
		{name: "unknown preset", timers: `preset = "slow"`,
			errs: []string{`f.toml:6: timers.preset: "slow" is not a preset: want fast, lan or wan`}},
		{name: "unknown preset: the values standing in are not blamed on it", timers: "preset = \"slow\"\ninterval = \"500ms\"",
			errs: []string{`f.toml:6: timers.preset: "slow" is not a preset: want fast, lan or wan`,
				`f.toml:5: timers.deadtime: 80ms must be more than 2 x interval (1s): one lost heartbeat would declare a path dead`}},
		{name: "typo", timers: `preset = "lna"`,
			errs: []string{`f.toml:6: timers.preset: "lna" is not a preset: want fast, lan or wan (did you mean "lan"?)`}},
		{name: "empty", timers: `preset = ""`,
			errs: []string{`f.toml:6: timers.preset: "" is not a preset: want fast, lan or wan`}},
		{name: "not a string", timers: `preset = 1`,
			errs: []string{`f.toml:6: timers.preset: want a string, got a number (durations and addresses are quoted: "20ms", "198.18.1.100")`}},
		{name: "misspelt key", timers: `presett = "wan"`,
			errs: []string{`f.toml:6: timers.presett: unknown key (did you mean "preset"?)`}},
		{name: "a given value against the preset's", timers: "preset = \"wan\"\ninterval = \"500ms\"",
			errs: []string{`f.toml:6: timers.deadtime: 1s must be more than 2 x interval (1s): one lost heartbeat would declare a path dead (the value of preset "wan"; set deadtime to override it)`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(base, "[[peer]]", "[timers]\n"+tt.timers+"\n\n[[peer]]", 1) + tt.svc + "\n"
			c, err := Parse("f.toml", []byte(text))
			if len(tt.errs) > 0 {
				var got []string
				if err != nil {
					got = strings.Split(err.Error(), "\n")
				}
				if diff := cmp.Diff(tt.errs, got); diff != "" {
					t.Errorf("problems (-want +got):\n%s\nfile:\n%s", diff, text)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\nfile:\n%s", err, text)
			}
			var want Timers
			tt.want(&want)
			if diff := cmp.Diff(want, c.Timers); diff != "" {
				t.Errorf("timers (-want +got):\n%s", diff)
			}
			if tt.from == nil {
				tt.from = map[string]string{}
			}
			if diff := cmp.Diff(tt.from, c.From); diff != "" {
				t.Errorf("from (-want +got):\n%s", diff)
			}
			if got := c.Services[0].ProbeWindow; got != tt.probe {
				t.Errorf("probe window %s, want %s", got, tt.probe)
			}
		})
	}
}

// A timer key out of [timers] says where it belongs.
func TestPresetOutsideTimers(t *testing.T) {
	_, err := Parse("f.toml", []byte("preset = \"wan\"\n"+base))
	if want := `f.toml:1: preset: unknown key (preset belongs in [timers])`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestTimerSettings(t *testing.T) {
	text := strings.Replace(base, "[[peer]]", "[timers]\npreset = \"wan\"\ndeadtime = \"2s\"\n\n[[peer]]", 1)
	c, err := Parse("f.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []TimerSetting{
		{Key: "timers.interval", Value: "200ms", From: "preset wan"},
		{Key: "timers.deadtime", Value: "2s", From: "file"},
		{Key: "timers.adaptive_floor", Value: "0s", From: "preset wan"},
		{Key: "timers.startup", Value: "6s", From: "3 x deadtime"},
		{Key: "timers.indoubt_hold", Value: "0s", From: "preset wan"},
		{Key: "timers.damping", Value: "30s", From: "preset wan"},
		{Key: "timers.flap_limit", Value: "3", From: "preset wan"},
		{Key: "timers.carrier_settle", Value: "1s", From: "preset wan"},
		{Key: "service[0].probe_window", Value: "100ms", From: "preset wan", Service: "web"},
	}
	if diff := cmp.Diff(want, c.TimerSettings()); diff != "" {
		t.Errorf("TimerSettings (-want +got):\n%s", diff)
	}
	d := Default()
	if got := d.TimerSettings(); len(got) != 8 || got[0].From != "preset lan" {
		t.Errorf("Default().TimerSettings() = %+v", got)
	}
}

// TestPresetMismatchNamed: two nodes with different presets have different
// fingerprints, and the core of one names each timer that differs with
// both values, as failover status and the alarm show them. The fingerprint
// covers the effective timers, not the preset's name.
func TestPresetMismatchNamed(t *testing.T) {
	node := func(t *testing.T, self, peer, timers string) *Config {
		t.Helper()
		text := strings.Replace(base, `node = "n1"`, `node = "`+self+`"`, 1)
		text = strings.Replace(text, `name = "n2"`, `name = "`+peer+`"`, 1)
		if timers != "" {
			text = strings.Replace(text, "[[peer]]", "[timers]\n"+timers+"\n\n[[peer]]", 1)
		}
		c, err := Parse("f.toml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	n1, n2 := node(t, "n1", "n2", ""), node(t, "n2", "n1", `preset = "fast"`)
	if n1.Fingerprint() == n2.Fingerprint() {
		t.Fatal("lan and fast have the same fingerprint")
	}
	if lan := node(t, "n2", "n1", `preset = "lan"`); lan.Fingerprint() != n1.Fingerprint() {
		t.Error(`preset = "lan" moved the fingerprint of a file naming no preset`)
	}
	same := node(t, "n2", "n1", "preset = \"fast\"\ninterval = \"20ms\"\ndeadtime = \"80ms\"\nstartup = \"240ms\"")
	if same.Fingerprint() != n1.Fingerprint() {
		t.Error("fast with lan's timers given differs from lan: the fingerprint must cover the effective timers only")
	}

	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	core, err := quorum.New(n1.Core(), t0)
	if err != nil {
		t.Fatal(err)
	}
	theirs := n2.CoreTimers()
	var alarms []string
	for i := range 20 {
		h := quorum.Heard{At: t0.Add(time.Duration(i) * n2.Timers.Interval), Peer: "n2", Path: "eth0", Epoch: 1, Seq: uint64(i + 1),
			Interval: n2.Timers.Interval, Fingerprint: n2.Fingerprint(),
			Services: []quorum.ServiceState{{Name: "web", State: quorum.StateRecover, Priority: 50}}}
		if i > 0 { // its first frame went out before it heard us
			h.Timers = &theirs
		}
		acts, err := core.Step(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if al, ok := a.(quorum.Alarm); ok {
				alarms = append(alarms, al.Text)
			}
		}
	}
	var got []string
	for _, m := range core.Status().Mismatches {
		got = append(got, m.Key+" ours "+m.Ours+" theirs "+m.Theirs)
	}
	want := []string{"interval ours 20ms theirs 15ms", "timers.deadtime ours 80ms theirs 60ms", "timers.startup ours 240ms theirs 180ms"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatches (-want +got):\n%s", diff)
	}
	wantAlarm := "config mismatch with n2: " + strings.Join(want, "; ")
	if len(alarms) != 1 || alarms[0] != wantAlarm {
		t.Errorf("alarms %q, want one: %q", alarms, wantAlarm)
	}
}

// TestExampleDocumentsPresets: failover.toml.example lists each preset
// with the values of the table.
func TestExampleDocumentsPresets(t *testing.T) {
	b, err := os.ReadFile("../../failover.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Presets() {
		if line := "#   " + p.Name + ": " + p.Summary(); !strings.Contains(string(b), line+"\n") {
			t.Errorf("failover.toml.example lacks the line\n%s", line)
		}
	}
}
