package proc

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestOutputCapped(t *testing.T) {
	cmd, out := Command(context.Background(), []string{"sh", "-c", "printf 0123456789; printf abc >&2"}, []string{"X=1"}, 8)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "01234567" {
		t.Errorf("output %q, want the first 8 bytes", got)
	}
}

func TestEnvAdded(t *testing.T) {
	cmd, out := Command(context.Background(), []string{"sh", "-c", "printf %s \"$FAILOVER_X\""}, []string{"FAILOVER_X=yes"}, 64)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "yes" {
		t.Errorf("env not passed: %q", out.String())
	}
}

// TestCancelKillsGroup: ending the context kills the grandchild too, not
// only the shell that started it.
func TestCancelKillsGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd, _ := Command(ctx, []string{"sh", "-c", "sleep 60 & echo $! >&3; wait"}, nil, 64)
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	buf := make([]byte, 32)
	n, _ := r.Read(buf)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("grandchild pid %q: %v", buf[:n], err)
	}
	cancel()
	if err := cmd.Wait(); err == nil {
		t.Fatal("Wait after cancel: nil error")
	}
	// The grandchild was in the group: killed, and reaped by init (or a
	// zombie for a moment); either way signal 0 must not find it running.
	for range 1000 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
			return
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 1e6}, nil)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("grandchild %d still running after the context ended", pid)
}
