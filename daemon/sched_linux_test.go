package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/proc"
	"github.com/failover-ha/failover/internal/lab"
	"golang.org/x/sys/unix"
)

// rtHelperEnv makes TestRealtimeHelper do its work: "root" (expect
// SCHED_RR) or "userns" (expect one warning and the normal policy).
const rtHelperEnv = "FAILOVER_RT_HELPER"

// TestPrivilegedRealtime runs startRealtime in a fresh process (so that
// this test binary keeps the normal policy): as root every thread, also
// the ones the runtime starts later, ends up SCHED_RR at the priority
// while a child started through daemon/proc runs SCHED_OTHER; started
// SCHED_RR 20 (as systemd's CPUSchedulingPolicy does) it keeps that,
// children included; in a user namespace (no CAP_SYS_NICE, RLIMIT_RTPRIO
// 0) it warns once and changes nothing.
func TestPrivilegedRealtime(t *testing.T) {
	lab.Require(t)
	for _, mode := range []string{"root", "kept", "userns"} {
		t.Run(mode, func(t *testing.T) {
			if mode != "userns" && !initUserNS() {
				t.Skip("in a user namespace (rootless run): SCHED_RR needs root of the host")
			}
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run=^TestRealtimeHelper$", "-test.v", "-test.count=1")
			if mode == "kept" {
				// As systemd's CPUSchedulingPolicy=rr starts it.
				chrt, err := exec.LookPath("chrt")
				if err != nil {
					t.Fatalf("chrt (util-linux) is needed to start a process realtime: %v", err)
				}
				cmd = exec.Command(chrt, append([]string{"-r", "20", exe}, cmd.Args[1:]...)...)
			}
			cmd.Env = append(os.Environ(), rtHelperEnv+"="+mode)
			if mode == "userns" {
				cmd.SysProcAttr = &syscall.SysProcAttr{
					Cloneflags:  syscall.CLONE_NEWUSER,
					UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
					GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
				}
			}
			out, err := cmd.CombinedOutput()
			t.Logf("helper (%s):\n%s", mode, out)
			if err != nil {
				t.Fatalf("helper failed: %v", err)
			}
			if !bytes.Contains(out, []byte("rt-helper done "+mode)) {
				t.Fatal("the helper did not run to its end")
			}
		})
	}
}

// TestRealtimeHelper is TestPrivilegedRealtime's child; alone it does
// nothing.
func TestRealtimeHelper(t *testing.T) {
	mode := os.Getenv(rtHelperEnv)
	if mode == "" {
		return
	}
	if mode == "userns" {
		// As an unprivileged user would be: no realtime by rlimit either.
		if err := unix.Setrlimit(unix.RLIMIT_RTPRIO, &unix.Rlimit{}); err != nil {
			t.Fatal(err)
		}
	}
	var logBuf syncBuf
	d := &Daemon{log: slog.New(slog.NewTextHandler(&logBuf, nil))}
	const prio = 10
	stop := d.startRealtime(prio)
	defer stop()

	before, err := taskIDs()
	if err != nil {
		t.Fatal(err)
	}
	// Threads the runtime starts from now on: each locked goroutine holds
	// a thread of its own, blocked in a system call, so the runtime needs
	// more threads than it had.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var locked sync.WaitGroup
	for range 6 {
		locked.Add(1)
		go func() {
			runtime.LockOSThread()
			locked.Done()
			var b [1]byte
			syscall.Read(int(r.Fd()), b[:])
		}()
	}
	locked.Wait()
	after, err := taskIDs()
	if err != nil {
		t.Fatal(err)
	}
	if fresh := len(slices.DeleteFunc(after, func(id int) bool { return slices.Contains(before, id) })); fresh == 0 {
		t.Fatalf("no thread started after startRealtime (before %v): the test proves nothing", before)
	} else {
		fmt.Printf("rt-helper: %d threads at start, %d started later\n", len(before), fresh)
	}

	log := logBuf.String()
	switch mode {
	case "root":
		if !strings.Contains(log, "realtime scheduling applied") {
			t.Errorf("no info line about what was applied:\n%s", log)
		}
		// Poll until the re-apply has caught the new threads; the bound is
		// five re-apply periods.
		deadline := time.After(5 * rtRecheck)
		tick := time.NewTicker(rtRecheck / 10)
		defer tick.Stop()
		for other := threadsNot(t, os.Getpid(), unix.SCHED_RR, prio); len(other) > 0; other = threadsNot(t, os.Getpid(), unix.SCHED_RR, prio) {
			select {
			case <-deadline:
				t.Fatalf("threads not SCHED_RR %d after %s: %v", prio, 5*rtRecheck, other)
			case <-tick.C:
			}
		}
		n, _ := taskIDs()
		fmt.Printf("rt-helper: %d threads SCHED_RR %d\n", len(n), prio)
	case "kept":
		if !strings.Contains(log, `msg="already running realtime: kept" policy=SCHED_RR priority=20 realtime_priority=10 checks_and_hooks="inherit it"`) {
			t.Errorf("no info line about the policy kept:\n%s", log)
		}
		if other := threadsNot(t, os.Getpid(), unix.SCHED_RR, 20); len(other) > 0 {
			t.Errorf("threads not SCHED_RR 20: %v", other)
		}
	case "userns":
		if got := strings.Count(log, "level=WARN"); got != 1 ||
			!strings.Contains(log, "realtime_priority not applied: heartbeats may be late on a saturated host") ||
			!strings.Contains(log, "realtime_priority=10") || !strings.Contains(log, "operation not permitted") {
			t.Errorf("want one warning naming realtime_priority and EPERM, got:\n%s", log)
		}
		if rt := threadsNot(t, os.Getpid(), unix.SCHED_NORMAL, 0); len(rt) != 0 {
			t.Errorf("threads changed policy although it failed: %v", rt)
		}
	}

	// A health check or hook runs at the normal policy.
	dir := t.TempDir()
	cmd, out := proc.Command(context.Background(), []string{"/bin/sh", "-c", "cat /proc/$$/stat > " + filepath.Join(dir, "stat")}, nil, 1024)
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v: %s", err, out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		t.Fatal(err)
	}
	pol, pr, err := statPolicy(string(b))
	if err != nil {
		t.Fatal(err)
	}
	wantPol, wantPr := uint32(unix.SCHED_NORMAL), uint32(0)
	if mode == "kept" {
		wantPol, wantPr = unix.SCHED_RR, 20 // no reset-on-fork: inherited
	}
	if pol != wantPol || pr != wantPr {
		t.Errorf("child started through daemon/proc: policy %s priority %d, want %s %d", policyName(pol), pr, policyName(wantPol), wantPr)
	}
	fmt.Printf("rt-helper: child %s %d\n", policyName(pol), pr)
	t.Logf("log:\n%s", log)
	fmt.Printf("rt-helper done %s\n", mode)
}

// threadsNot lists the threads of pid whose policy or priority differ
// from the given, as "tid:policy/prio".
func threadsNot(t *testing.T, pid int, policy uint32, prio uint32) []string {
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
			bad = append(bad, fmt.Sprintf("%s:%s/%d", e.Name(), policyName(pol), pr))
		}
	}
	return bad
}

// statPolicy reads rt_priority (field 40) and policy (field 41) of a
// /proc/PID/stat line; the name (field 2) may hold spaces and ')'.
func statPolicy(stat string) (policy, prio uint32, err error) {
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
	return uint32(pol), uint32(pr), nil
}

// initUserNS reports whether this process is in the host's user namespace.
func initUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}
