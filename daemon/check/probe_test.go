package check

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func run(t *testing.T, sp Spec) (bool, string, time.Duration) {
	t.Helper()
	sp.Service, sp.Name = "web", "t"
	if sp.Interval == 0 {
		sp.Interval = time.Second
	}
	if sp.Timeout == 0 {
		sp.Timeout = 5 * time.Second
	}
	sp.Rise, sp.Fall, sp.Effect = 1, 1, EffectFail
	if err := sp.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New([]Spec{sp}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := s.runOnce(t.Context(), s.checks[0])
	return res.OK, res.Output, res.Duration
}

func TestExec(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv []string
		ok   bool
		out  string
	}{
		{"exit 0 with output", []string{"/bin/sh", "-c", "echo all good; echo more"}, true, "all good"},
		{"exit 0 silent", []string{"/bin/true"}, true, "exit status 0"},
		{"exit 2 with stderr", []string{"/bin/sh", "-c", "echo nginx down >&2; exit 2"}, false, "exit status 2: nginx down"},
		{"sees its service", []string{"/bin/sh", "-c", `test "$FAILOVER_SERVICE/$FAILOVER_CHECK" = web/t`}, true, "exit status 0"},
		{"command does not exist", []string{"/nonexistent/check-web"}, false, "not started: fork/exec /nonexistent/check-web: no such file or directory"},
		{"not in PATH", []string{"no-such-check-command"}, false, "not started: exec: \"no-such-check-command\": executable file not found in $PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, out, _ := run(t, Spec{Kind: KindExec, Command: tc.argv})
			if ok != tc.ok || out != tc.out {
				t.Errorf("ok %v output %q, want %v %q", ok, out, tc.ok, tc.out)
			}
		})
	}
}

// A hung check is killed at its timeout with its whole process group: the
// grandchild it left running dies too.
func TestExecHungKilledWithGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "grandchild")
	script := fmt.Sprintf("sleep 60 & echo $! > %s; echo started; sleep 60", pidFile)
	ok, out, took := run(t, Spec{Kind: KindExec, Command: []string{"/bin/sh", "-c", script}, Timeout: 300 * time.Millisecond})
	if ok || out != "timed out after 300ms: process group killed" {
		t.Errorf("ok %v output %q, want a failure at the timeout", ok, out)
	}
	t.Logf("hung check returned after %v (timeout 300ms)", took)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The grandchild was SIGKILLed; it is gone once its parent (the killed
	// shell) is reaped and init reaps it. Poll, bounded.
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d still alive after the group kill", pid)
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			break // a zombie: dead, waiting for its reaper
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ok, out, _ := run(t, Spec{Kind: KindTCP, Target: addr})
	if !ok || !strings.HasPrefix(out, "connected to "+addr) {
		t.Errorf("listening: ok %v output %q", ok, out)
	}
	l.Close()
	ok, out, _ = run(t, Spec{Kind: KindTCP, Target: addr})
	if ok || !strings.Contains(out, "connection refused") {
		t.Errorf("closed: ok %v output %q, want connection refused", ok, out)
	}
}

func TestHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			fmt.Fprintln(w, "status: ready")
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusFound)
		case "/hang":
			<-r.Context().Done()
		default:
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		path   string
		status int
		body   string
		ok     bool
		out    string
	}{
		{"200", "/health", 0, "", true, "HTTP 200 OK"},
		{"body found", "/health", 0, "ready", true, `HTTP 200 OK, body has "ready"`},
		{"body missing", "/health", 0, "alive", false, `HTTP 200 OK: body lacks "alive"`},
		{"503", "/down", 0, "", false, "HTTP 503 Service Unavailable, want 200"},
		{"503 expected", "/down", 503, "maintenance", true, `HTTP 503 Service Unavailable, body has "maintenance"`},
		{"redirect not followed", "/moved", 0, "", false, "HTTP 302 Found, want 200"},
		{"hang", "/hang", 0, "", false, "timed out after 300ms: context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, out, _ := run(t, Spec{Kind: KindHTTP, Target: srv.URL + tc.path, Status: tc.status, Body: tc.body, Timeout: 300 * time.Millisecond})
			if ok != tc.ok || out != tc.out {
				t.Errorf("ok %v output %q, want %v %q", ok, out, tc.ok, tc.out)
			}
		})
	}
	url := srv.URL
	srv.Close()
	ok, out, _ := run(t, Spec{Kind: KindHTTP, Target: url})
	if ok || !strings.Contains(out, "connection refused") {
		t.Errorf("server gone: ok %v output %q, want connection refused", ok, out)
	}
}

func TestICMPLoopback(t *testing.T) {
	ok, out, _ := run(t, Spec{Kind: KindPing, Target: "127.0.0.1", Timeout: 2 * time.Second})
	if !ok || !strings.HasPrefix(out, "echo reply from 127.0.0.1") {
		t.Errorf("ping 127.0.0.1: ok %v output %q", ok, out)
	}
}
