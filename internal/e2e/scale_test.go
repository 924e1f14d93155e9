package e2e

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// "failover lab scale --json" at two small sizes: the report has a row per
// size, in order, with every host's CPU and RSS, traffic on every path,
// a detection time from every host but the frozen one, the client's outage,
// and the growth per peer; --plot writes a PNG. Nothing is timed: the
// figures are only logged.
func TestPrivilegedLabScale(t *testing.T) {
	lab.Require(t)
	plot := filepath.Join(t.TempDir(), "scale.png")
	code, out, errs := failover(t, "lab", "scale", "--nodes", "2,3", "--window", "2s", "--runs", "1", "--json", "--plot", plot)
	if code != 0 {
		t.Fatalf("failover lab scale: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "sampling 3 idle daemons") {
		t.Errorf("no progress on stderr:\n%s", errs)
	}

	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"when", "rows", "growth", "verdict", "load_end"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	rows, _ := raw["rows"].([]any)
	if len(rows) == 2 {
		row := rows[0].(map[string]any)
		for _, k := range []string{"nodes", "serial", "window", "load_before", "load_after", "interval", "deadtime",
			"cpu_ms_per_s_mean", "cpu_ms_per_s_max", "cpu_pct_core_mean", "wakeups_per_s_mean", "rss_bytes_mean",
			"bytes_out_per_s_per_node", "bytes_in_per_s_per_node", "frames_out_per_s_per_node", "frames_in_per_s_per_node",
			"paths", "hosts", "victim", "next_owner", "runs", "detection", "outage"} {
			if _, ok := row[k]; !ok {
				t.Errorf("row lacks %q", k)
			}
		}
	}

	var rep rig.ScaleReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Nodes != 2 || rep.Rows[1].Nodes != 3 {
		t.Fatalf("rows for %v, want 2 and 3 nodes", nodesOf(rep.Rows))
	}
	for _, r := range rep.Rows {
		if !r.Serial || r.SerialNote != "" {
			t.Errorf("%d nodes: serial %v (%q), want the serial cables", r.Nodes, r.Serial, r.SerialNote)
		}
		if r.Victim != "h1" || r.NextOwner != "h2" || r.Runs != 1 {
			t.Errorf("%d nodes: victim %q, next owner %q, runs %d; want h1, h2, 1", r.Nodes, r.Victim, r.NextOwner, r.Runs)
		}
		var hosts []string
		for _, h := range r.Hosts {
			hosts = append(hosts, h.Host)
			if h.CPUms <= 0 || h.RSS <= 0 || h.FramesOut <= 0 || h.FramesIn <= 0 || h.BytesOut <= 0 {
				t.Errorf("%d nodes, %s: CPU %.2f ms/s, RSS %d, frames out %.1f in %.1f, bytes out %.0f: want all measured",
					r.Nodes, h.Host, h.CPUms, h.RSS, h.FramesOut, h.FramesIn, h.BytesOut)
			}
			wantDet := 1
			if h.Host == "h1" {
				wantDet = 0 // the frozen host
			}
			if len(h.Detection) != wantDet {
				t.Errorf("%d nodes, %s: %d detection times %v, want %d", r.Nodes, h.Host, len(h.Detection), h.Detection, wantDet)
			}
			for _, d := range h.Detection {
				if d <= 0 {
					t.Errorf("%d nodes, %s: detection %v ms, want a positive time", r.Nodes, h.Host, d)
				}
			}
		}
		if want := []string{"h1", "h2", "h3"}[:r.Nodes]; !slices.Equal(hosts, want) {
			t.Errorf("%d nodes: hosts %v, want %v", r.Nodes, hosts, want)
		}
		var paths []string
		for _, p := range r.Paths {
			paths = append(paths, p.Path)
			if p.Nodes == 0 || p.FrameBytes <= 0 {
				t.Errorf("%d nodes, path %s: %d nodes, %.0f bytes per frame", r.Nodes, p.Path, p.Nodes, p.FrameBytes)
			}
		}
		if !slices.Equal(paths, []string{"eth0", "eth1", "serial"}) {
			t.Errorf("%d nodes: paths %v, want eth0, eth1, serial", r.Nodes, paths)
		}
		if r.Detection.Samples != r.Nodes-1 || r.Detection.Median <= 0 || r.Outage.Samples != 1 {
			t.Errorf("%d nodes: detection %+v, outage %+v: want %d detections and one outage", r.Nodes, r.Detection, r.Outage, r.Nodes-1)
		}
		t.Logf("%d nodes: CPU %.1f ms/s mean, %.0f B/s out and %.0f B/s in per node, detection %.0f ms median (max %.0f), s1 outage %.0f ms",
			r.Nodes, r.CPUmsMean, r.BytesOut, r.BytesIn, r.Detection.Median, r.Detection.Max, r.Outage.Max)
	}
	if len(rep.Growth) != 2 || rep.Growth[0].OutRatio != 1 || rep.Growth[1].OutPerPeer <= 0 || rep.Verdict == "" {
		t.Errorf("growth %+v, verdict %q", rep.Growth, rep.Verdict)
	}
	t.Log(rep.Verdict)

	f, err := os.Open(plot)
	if err != nil {
		t.Fatalf("--plot: %v", err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("--plot wrote no PNG: %v", err)
	}
}

func nodesOf(rows []rig.ScaleRow) []int {
	var out []int
	for _, r := range rows {
		out = append(out, r.Nodes)
	}
	return out
}
