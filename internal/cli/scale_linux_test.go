package cli

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failover-ha/failover/internal/rig"
)

// --from prints and plots a saved --json run without building anything.
func TestLabScaleFrom(t *testing.T) {
	dir := t.TempDir()
	rows := []rig.ScaleRow{
		{Nodes: 2, Serial: true, BytesOut: 17000, BytesIn: 17000, CPUPctMean: 1, Detection: rig.Spread{Samples: 3, Median: 86, Max: 90}},
		{Nodes: 4, Serial: true, BytesOut: 31000, BytesIn: 83000, CPUPctMean: 1.4},
	}
	rep := rig.ScaleReport{Command: "sudo failover lab scale --nodes 2,4", Machine: "a machine", Rows: rows, Growth: rig.GrowthOf(rows)}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "scale.json")
	if err := os.WriteFile(saved, b, 0o644); err != nil {
		t.Fatal(err)
	}
	plot, md := filepath.Join(dir, "scale.png"), filepath.Join(dir, "scale.md")
	code, out, errs := run(t, "lab", "scale", "--from", saved, "--plot", plot, "--out", md)
	if code != 0 || !strings.Contains(out, "`sudo failover lab scale --nodes 2,4` on") || !strings.Contains(out, "| 4 | yes |") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if got, err := os.ReadFile(md); err != nil || string(got) != out {
		t.Errorf("--out differs from stdout (%v)", err)
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("--plot: %v", err)
	}
	code, out, _ = run(t, "lab", "scale", "--from", saved, "--json")
	var back rig.ScaleReport
	if err := json.Unmarshal([]byte(out), &back); code != 0 || err != nil || len(back.Rows) != 2 {
		t.Errorf("--json: exit %d, %v:\n%s", code, err, out)
	}
	code, _, errs = run(t, "lab", "scale", "--from", md)
	if code != ExitFailure || !strings.Contains(errs, "not the --json output of failover lab scale") {
		t.Errorf("--from a Markdown file: exit %d, %s", code, errs)
	}
}
