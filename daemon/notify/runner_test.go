package notify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// start runs r until the test ends.
func start(t *testing.T, r *Runner) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return cancel
}

// waitFor polls cond, bounded.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func change(svc, from, to, why string) Change {
	return Change{At: time.Now(), Node: "h1", Service: svc, From: from, To: to, Reason: why, VIP: "198.18.1.100/32"}
}

// recorder is a hook that appends its argument and environment to a file.
func recorder(t *testing.T, dir string) (argv func(tag string) []string, file string) {
	t.Helper()
	file = filepath.Join(dir, "calls")
	script := filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\necho \"$1 $FAILOVER_NODE $FAILOVER_SERVICE $FAILOVER_FROM>$FAILOVER_TO vip=$FAILOVER_VIP why=$FAILOVER_REASON\" >> " + file + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return func(tag string) []string { return []string{script, tag} }, file
}

func lines(file string) []string {
	b, _ := os.ReadFile(file)
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestHooksInOrder(t *testing.T) {
	dir := t.TempDir()
	argv, file := recorder(t, dir)
	r := New(Config{Global: argv("global"), Service: map[string][]string{"web": argv("web"), "db": argv("db")}, Timeout: 5 * time.Second}, Options{})
	// Queued before Run starts, and while it runs: the order holds.
	r.Notify(change("web", "recover", "indoubt", "peer h2 dead"))
	r.Notify(change("web", "indoubt", "up", "claimed"))
	start(t, r)
	r.Notify(change("db", "recover", "fail", "health: check tcp failing"))
	r.Notify(change("mail", "up", "recover", "shutdown")) // no service hook: global only
	want := []string{
		"web h1 web recover>indoubt vip=198.18.1.100/32 why=peer h2 dead",
		"global h1 web recover>indoubt vip=198.18.1.100/32 why=peer h2 dead",
		"web h1 web indoubt>up vip=198.18.1.100/32 why=claimed",
		"global h1 web indoubt>up vip=198.18.1.100/32 why=claimed",
		"db h1 db recover>fail vip=198.18.1.100/32 why=health: check tcp failing",
		"global h1 db recover>fail vip=198.18.1.100/32 why=health: check tcp failing",
		"global h1 mail up>recover vip=198.18.1.100/32 why=shutdown",
	}
	// The file has a run's line before the runner has recorded the run.
	waitFor(t, "7 hook runs", func() bool { return len(lines(file)) >= 7 && len(r.Status().Recent) == 7 })
	if diff := cmp.Diff(want, lines(file)); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}
	st := r.Status()
	if len(st.Recent) != 7 {
		t.Fatalf("%d recent runs, want 7", len(st.Recent))
	}
	for _, run := range st.Recent {
		if !run.OK() || run.Exit != 0 || run.Duration <= 0 {
			t.Errorf("run %+v, want exit 0 with a duration", run)
		}
	}
	var hooks []string
	for _, h := range st.Hooks {
		hooks = append(hooks, fmt.Sprintf("%s/%s %d", h.Service, h.Hook, h.Runs))
	}
	if diff := cmp.Diff([]string{"db/service 1", "db/global 1", "mail/global 1", "web/service 2", "web/global 2"}, hooks); diff != "" {
		t.Errorf("hook stats (-want +got):\n%s", diff)
	}
}

// A hook that hangs is killed with its process group at the timeout, and
// Notify never waits for it.
func TestHungHookKilledNotifyNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	started := filepath.Join(dir, "started")
	hang := []string{"/bin/sh", "-c", fmt.Sprintf("sleep 60 & echo $! > %s; touch %s; sleep 60", pidFile, started)}
	r := New(Config{Service: map[string][]string{"web": hang, "db": {"/bin/true"}}, Timeout: 2 * time.Second}, Options{})
	start(t, r)
	r.Notify(change("web", "recover", "up", "first"))
	waitFor(t, "the hook started", func() bool { _, err := os.Stat(started); return err == nil })
	// The hook runs now. Notify must return at once; if it waited for the
	// hook it would not return within the bound below.
	returned := make(chan struct{})
	go func() {
		for i := range 100 {
			r.Notify(change("db", "up", "recover", "flap "+strconv.Itoa(i)))
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(time.Second):
		t.Fatal("Notify blocked while a hook ran")
	}
	if q := r.Status().Queued; q != 100 {
		t.Errorf("queued %d, want 100", q)
	}
	waitFor(t, "the first run recorded", func() bool { return len(r.Status().Recent) >= 1 })
	run := r.Status().Recent[0]
	if !run.TimedOut || run.Exit != -1 || run.Error != "timed out after 2s; process group killed" {
		t.Errorf("hung run = %+v, want timed out and killed", run)
	}
	t.Logf("hung hook recorded after %v (timeout 2s)", run.Duration)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitFor(t, "grandchild dead", func() bool {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err == nil && strings.Contains(string(st), ") Z ")
	})
	waitFor(t, "the queued hooks ran", func() bool { return r.Status().Queued == 0 })
}

func TestHookFailures(t *testing.T) {
	r := New(Config{
		Service: map[string][]string{
			"exit3":   {"/bin/sh", "-c", "echo cannot reload nginx >&2; exit 3"},
			"missing": {"/nonexistent/notify-hook"},
		},
		Timeout: 5 * time.Second,
	}, Options{})
	start(t, r)
	r.Notify(change("exit3", "recover", "up", ""))
	r.Notify(change("missing", "recover", "up", ""))
	waitFor(t, "two runs", func() bool { return len(r.Status().Recent) == 2 })
	st := r.Status()
	a, b := st.Recent[0], st.Recent[1]
	if a.Exit != 3 || a.Error != "exit status 3" || a.Output != "cannot reload nginx" || a.OK() {
		t.Errorf("exit 3 run = %+v", a)
	}
	if b.Exit != -1 || !strings.HasPrefix(b.Error, "not started: fork/exec /nonexistent/notify-hook") || b.OK() {
		t.Errorf("missing command run = %+v", b)
	}
	for _, h := range st.Hooks {
		if h.Runs != 1 || h.Failed != 1 {
			t.Errorf("stats %+v, want 1 run 1 failed", h)
		}
	}
}

func TestQueueBounded(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	r := New(Config{Global: []string{"/bin/sh", "-c", "touch " + started + "; sleep 60"}, Timeout: 500 * time.Millisecond}, Options{QueueLen: 2})
	start(t, r)
	r.Notify(change("web", "recover", "up", "")) // runs
	waitFor(t, "the hook started", func() bool { _, err := os.Stat(started); return err == nil })
	for range 5 {
		r.Notify(change("web", "up", "recover", ""))
	}
	if st := r.Status(); st.Queued != 2 || st.Dropped != 3 {
		t.Errorf("queued %d dropped %d, want 2 and 3", st.Queued, st.Dropped)
	}
}

// What is queued when Run's context ends still runs.
func TestDrainAtShutdown(t *testing.T) {
	dir := t.TempDir()
	argv, file := recorder(t, dir)
	r := New(Config{Global: argv("g"), Timeout: 5 * time.Second}, Options{})
	for i := range 3 {
		r.Notify(change("web", "up", "recover", "shutdown "+strconv.Itoa(i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(lines(file)); got != 3 {
		t.Errorf("%d hooks ran at shutdown, want 3", got)
	}
	if err := r.Run(ctx); err != ErrRunTwice {
		t.Errorf("second Run = %v, want ErrRunTwice", err)
	}
}

func TestLine(t *testing.T) {
	c := Change{At: time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC), Node: "h1", Service: "web", From: "recover", To: "up",
		VIP: "198.18.1.100/32", Reason: `claimed: peer h2 dead: eth0 "silent"`}
	want := `2026-01-02T15:04:05.123456789Z h1 web recover up 198.18.1.100/32 "claimed: peer h2 dead: eth0 \"silent\""` + "\n"
	if got := Line(c); got != want {
		t.Errorf("Line =\n%s want\n%s", got, want)
	}
	c.VIP = ""
	if got := Line(c); !strings.Contains(got, ` up "" "claimed`) {
		t.Errorf("empty field not quoted: %s", got)
	}
}
