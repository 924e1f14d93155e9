package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/daemon/config"
)

// TestCheckConfigTimers: a valid file is followed by its effective timers,
// each with where it came from (the preset, the file, a rule), in text and
// in --json.
func TestCheckConfigTimers(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("1 00112233445566778899aabbccddeeff\n"), 0o600)
	file := filepath.Join(dir, "f.toml")
	os.WriteFile(file, []byte(`cluster = "lab"
node = "n1"
key_file = "`+key+`"

[timers]
preset = "wan"
deadtime = "2s"

[[peer]]
name = "n2"

[[path]]
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"

[[service]]
name = "web"
vip = "198.18.1.100"
interface = "eth0"
priority = {n1 = 2, n2 = 1}
probe_window = "50ms"
`), 0o600)
	code, out, errs := run(t, "check-config", file)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"timers (preset wan):",
		"timers.interval 200ms preset wan",
		"timers.deadtime 2s file",
		"timers.adaptive_floor 0s preset wan",
		"timers.startup 6s 3 x deadtime",
		"timers.indoubt_hold 0s preset wan",
		"timers.damping 30s preset wan",
		"timers.flap_limit 3 preset wan",
		"timers.carrier_settle 1s preset wan",
		"service[0].probe_window 50ms file (service web)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timers (-want +got):\n%s\nstdout:\n%s", diff, out)
	}

	code, out, _ = run(t, "check-config", "--json", file)
	var res CheckResult
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if res.Preset != "wan" || len(res.Timers) != len(want)-1 ||
		res.Timers[1] != (config.TimerSetting{Key: "timers.deadtime", Value: "2s", From: "file"}) ||
		res.Timers[8] != (config.TimerSetting{Key: "service[0].probe_window", Value: "50ms", From: "file", Service: "web"}) {
		t.Errorf("--json: %+v", res)
	}

	// An unknown preset is a problem naming the key and the choices.
	os.WriteFile(file, []byte(strings.Replace(readOrFail(t, file), `preset = "wan"`, `preset = "slow"`, 1)), 0o600)
	code, out, _ = run(t, "check-config", file)
	if want := file + `:6: timers.preset: "slow" is not a preset: want fast, lan or wan`; code != ExitUsage || strings.TrimSpace(out) != want {
		t.Errorf("unknown preset: exit %d, stdout %q; want 2 and %q", code, out, want)
	}
}

func readOrFail(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
