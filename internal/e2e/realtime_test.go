package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// TestPrivilegedRealtime: real failoverd processes run every thread
// SCHED_RR at realtime_priority (10 by default) and log it, while the notify
// hook h1 runs as it takes the service is SCHED_OTHER (reset on fork). In a user namespace
// (a rootless run) the daemon cannot: it warns once and works on at the
// normal policy.
func TestPrivilegedRealtime(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "policy-hook")
	// The hook records its own /proc stat line: $$ is the shell the daemon
	// started.
	if err := os.WriteFile(hook, []byte("#!/bin/sh\ncat /proc/$$/stat >> \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stats := func(host string) string { return filepath.Join(dir, host+".stat") }
	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			return withGlobals(cfg, fmt.Sprintf("notify = [%q, %q]", hook, stats(host)))
		},
	})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	rooted := initUserNS()
	t.Logf("in the host's user namespace: %v (want SCHED_RR; else one warning)", rooted)
	for _, host := range rg.Hosts() {
		d := rg.Daemon(host)
		logText := func() string { b, _ := os.ReadFile(rg.LogFile(host)); return string(b) }
		if rooted {
			if !strings.Contains(logText(), `msg="realtime scheduling applied" policy=SCHED_RR realtime_priority=10`) {
				t.Errorf("%s: no info line saying what was applied:\n%s", host, logText())
			}
			// Threads started after the first pass are set within a second.
			waitFor(t, host+"'s threads SCHED_RR 10", func(context.Context) (bool, string) {
				bad := threadsNot(t, d.Cmd.Process.Pid, 2, 10)
				return len(bad) == 0, fmt.Sprintf("not yet: %v", bad)
			})
		} else {
			if n := strings.Count(logText(), "realtime_priority not applied: heartbeats may be late on a saturated host"); n != 1 {
				t.Errorf("%s: %d warnings about realtime_priority, want 1:\n%s", host, n, logText())
			}
			if bad := threadsNot(t, d.Cmd.Process.Pid, 0, 0); len(bad) > 0 {
				t.Errorf("%s: threads changed although refused: %v", host, bad)
			}
		}
		if host != "h1" {
			continue // h2 stays in recover: no change, no hook
		}
		waitFor(t, host+"'s hook ran", func(context.Context) (bool, string) {
			return len(fileLines(stats(host))) > 0, "no run yet"
		})
		for _, l := range fileLines(stats(host)) {
			pol, pr, err := statPolicy(l)
			if err != nil {
				t.Fatal(err)
			}
			if pol != 0 || pr != 0 {
				t.Errorf("%s: hook ran with policy %d priority %d, want SCHED_OTHER (0) 0", host, pol, pr)
			}
		}
	}
}

// threadsNot lists the threads of pid whose policy or rt priority differ
// from the given, as "tid:policy/prio".
func threadsNot(t *testing.T, pid int, policy, prio uint64) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat"))
		if err != nil {
			continue // exited
		}
		pol, pr, err := statPolicy(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if pol != policy || pr != prio {
			bad = append(bad, fmt.Sprintf("%s:%d/%d", e.Name(), pol, pr))
		}
	}
	return bad
}

// statPolicy reads rt_priority (field 40) and policy (field 41) of a
// /proc/PID/stat line; the name (field 2) may hold spaces and ')'.
func statPolicy(stat string) (policy, prio uint64, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("stat %q: no ')'", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3
	if len(f) < 41-2 {
		return 0, 0, fmt.Errorf("stat: %d fields", len(f)+2)
	}
	pr, err1 := strconv.ParseUint(f[40-3], 10, 32)
	pol, err2 := strconv.ParseUint(f[41-3], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("stat: bad rt_priority %q or policy %q", f[40-3], f[41-3])
	}
	return pol, pr, nil
}

// initUserNS reports whether this process is in the host's user namespace
// (not the one a rootless run re-executes in).
func initUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}
