package hwtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReportFormatting(t *testing.T) {
	rec := Recommend([]PathSample{{Name: "eth0", Sent: 100, P50: time.Millisecond, P99: time.Millisecond}}, DefaultPolicy())
	r := (&Report{Command: "nic", Checks: []Check{
		{Name: "link eth0", OK: true, Detail: "eth0 up"},
		{Name: "path eth1 → 198.18.2.2", Detail: "no answer", Hint: "firewall"},
	}, Recommendation: &rec}).Finish()
	var b strings.Builder
	r.WriteText(&b)
	want := "PASS  link eth0: eth0 up\n" +
		"FAIL  path eth1 → 198.18.2.2: no answer\n" +
		"      look at: firewall\n" +
		"\nrecommendation: interval 20ms, deadtime 200ms (k=10 missed heartbeats + 0s jitter margin)\n"
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("text starts\n%s\nwant\n%s", b.String(), want)
	}
	if !strings.HasSuffix(b.String(), "[timers]\ninterval = \"20ms\"\ndeadtime = \"200ms\"\n\nnic: 1 of 2 checks failed\n") {
		t.Errorf("text ends wrong:\n%s", b.String())
	}
	if r.ExitCode() != 1 {
		t.Errorf("exit %d, want 1", r.ExitCode())
	}
	var j bytes.Buffer
	r.WriteJSON(&j)
	var back struct {
		OK     bool
		Checks []Check
		Rec    struct {
			Misses int    `json:"misses"`
			TOML   string `json:"toml"`
		} `json:"recommendation"`
	}
	if err := json.Unmarshal(j.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.OK || len(back.Checks) != 2 || back.Checks[1].Hint != "firewall" || back.Rec.Misses != 10 || back.Rec.TOML != rec.TOML {
		t.Errorf("json round trip: %+v", back)
	}
}
