package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/internal/rig"
)

// h2 runs another deadtime than h1. h1's status names it, with both
// values, in --json (mismatch_detail and the mismatches lines) and in the
// text under MISMATCHES, and the alarm lists it; the startup that follows
// from it is named too, and the fingerprint is not listed, since the
// timers explain it. After h2's config is fixed and reloaded the mismatch
// clears. Each phase logs h1's bytes per heartbeat on eth0: the timer
// section is sent only while the configs differ.
func TestPrivilegedTimerMismatch(t *testing.T) {
	deadtime := fmt.Sprintf("deadtime = %q", testDeadtime.String())
	rg := newRig(t, rig.Options{ConfigHook: func(host, cfg string) string {
		if host != "h2" {
			return cfg
		}
		if !strings.Contains(cfg, deadtime) {
			t.Errorf("h2's config has no %q line:\n%s", deadtime, cfg)
		}
		return strings.Replace(cfg, deadtime, `deadtime = "200ms"`, 1)
	}})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	sock := rg.Socket("h1")
	ours := testDeadtime.String()

	var st client.Status
	waitFor(t, "h1 to name h2's deadtime", func(ctx context.Context) (bool, string) {
		st = client.Status{}
		if err := json.Unmarshal([]byte(mustFailover(t, "status", "--json", "--socket", sock)), &st); err != nil {
			t.Fatalf("status --json: %v", err)
		}
		for _, m := range st.MismatchDetail {
			if m.Peer == "h2" && m.Key == "timers.deadtime" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("mismatch_detail %+v", st.MismatchDetail)
	})
	t.Logf("h1: mismatches %q", st.Mismatch)
	want := map[string][2]string{
		"timers.deadtime": {ours, "200ms"},
		"timers.startup":  {(3 * testDeadtime).String(), "600ms"}, // 3 x deadtime unless given
	}
	for _, m := range st.MismatchDetail {
		w, ok := want[m.Key]
		if m.Peer != "h2" || !ok {
			t.Errorf("unexpected mismatch %+v", m)
			continue
		}
		if m.Ours != w[0] || m.Theirs != w[1] {
			t.Errorf("%s: ours %s theirs %s, want %s %s", m.Key, m.Ours, m.Theirs, w[0], w[1])
		}
		delete(want, m.Key)
	}
	if len(want) > 0 {
		t.Errorf("not named: %v", want)
	}
	line := "h2: timers.deadtime: ours " + ours + ", theirs 200ms"
	if !strings.Contains(strings.Join(st.Mismatch, "\n"), line) {
		t.Errorf("mismatches %q lack %q", st.Mismatch, line)
	}
	alarm := "config mismatch with h2: timers.deadtime ours " + ours + " theirs 200ms"
	found := false
	for _, a := range st.Alarms {
		found = found || strings.Contains(a.Text, alarm)
		if strings.Contains(a.Text, "fingerprint") {
			t.Errorf("alarm names the fingerprint: %q", a.Text)
		}
	}
	if !found {
		t.Errorf("alarms %+v lack %q", st.Alarms, alarm)
	}
	text := mustFailover(t, "--socket", sock, "status")
	if i := strings.Index(text, "MISMATCHES"); i < 0 || !strings.Contains(text[i:], line) {
		t.Errorf("text status does not name the deadtime under MISMATCHES:\n%s", text)
	}
	// h2 names it the other way round.
	waitFor(t, "h2 to name h1's deadtime", func(ctx context.Context) (bool, string) {
		st2, err := rg.Status(ctx, "h2")
		if err != nil {
			return false, err.Error()
		}
		for _, m := range st2.MismatchDetail {
			if m.Key == "timers.deadtime" && m.Ours == "200ms" && m.Theirs == ours {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", st2.MismatchDetail)
	})
	mismatched := frameBytes(t, rg, "h1", "eth0")

	// Fixed and reloaded (a new session: a new epoch), h2 agrees.
	if err := rg.WriteConfig("h2", rg.Config("h2")); err != nil {
		t.Fatal(err)
	}
	if err := rg.Signal("h2", syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mismatch to clear on both", func(ctx context.Context) (bool, string) {
		for _, h := range rg.Hosts() {
			st, err := rg.Status(ctx, h)
			if err != nil {
				return false, err.Error()
			}
			if len(st.Mismatch) > 0 {
				return false, h + ": " + strings.Join(st.Mismatch, "; ")
			}
		}
		return true, ""
	})
	agreeing := frameBytes(t, rg, "h1", "eth0")
	t.Logf("h1's heartbeats on eth0: %.1f bytes a frame while h2 differs, %.1f once it agrees", mismatched, agreeing)
	if mismatched <= agreeing {
		t.Errorf("frames while mismatched (%.1f bytes) are not larger than agreeing ones (%.1f): the timers were not sent", mismatched, agreeing)
	}
	holds(t, rg, "web", "h1", 1)
}

// frameBytes is the mean size of the next 20 frames host sends on path
// (from its status counters).
func frameBytes(t *testing.T, rg *rig.Rig, host, path string) float64 {
	t.Helper()
	snap := func(ctx context.Context) (frames, bytes uint64, err error) {
		st, err := rg.Status(ctx, host)
		if err != nil {
			return 0, 0, err
		}
		for _, p := range st.Paths {
			if p.Name == path {
				return p.Sent, p.BytesSent, nil
			}
		}
		return 0, 0, fmt.Errorf("%s has no path %s", host, path)
	}
	f0, b0, err := snap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var f1, b1 uint64
	waitFor(t, host+" to send 20 frames on "+path, func(ctx context.Context) (bool, string) {
		f1, b1, err = snap(ctx)
		if err != nil {
			return false, err.Error()
		}
		return f1-f0 >= 20, fmt.Sprintf("%d sent", f1-f0)
	})
	return float64(b1-b0) / float64(f1-f0)
}
