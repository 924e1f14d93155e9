package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readPage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no page: %v", err)
	}
	return string(b)
}

func TestStatusHTML(t *testing.T) {
	sock, _ := fakeDaemon(t)
	page := filepath.Join(t.TempDir(), "status.html")
	code, out, errs := run(t, "--socket", sock, "status", "--html", page)
	if code != 0 || out != "" {
		t.Fatalf("status --html: exit %d, stdout %q: %s", code, out, errs)
	}
	got := readPage(t, page)
	for _, want := range []string{`<meta http-equiv="refresh" content="60">`, "failover node h1", "degraded", "198.18.1.100/32", "h2=recover", "theirs 30ms", "from " + sock} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q:\n%s", want, got)
		}
	}
	if code, _, _ := run(t, "--socket", sock, "status", "--html", page, "--refresh", "10ms"); code != ExitUsage {
		t.Errorf("--refresh 10ms: exit %d, want %d", code, ExitUsage)
	}
}

func TestStatusHTMLNotRunning(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "status.html")
	code, _, errs := run(t, "--socket", filepath.Join(dir, "none.sock"), "status", "--html", page)
	if code == 0 {
		t.Fatalf("status --html without a daemon: exit 0")
	}
	got := readPage(t, page)
	if !strings.Contains(got, "failover: no status") || !strings.Contains(got, "not running") {
		t.Errorf("page does not say the daemon is down (stderr %s):\n%s", errs, got)
	}
}

func TestWatchHTML(t *testing.T) {
	sock, _ := fakeDaemon(t)
	page := filepath.Join(t.TempDir(), "status.html")
	// The first page is written at once; the context only ends the watch.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wout, werr bytes.Buffer
	if code := Main(ctx, []string{"--socket", sock, "watch", "--html", page, "--refresh", "30s"}, Env{Stdout: &wout, Stderr: &werr}); code != 0 {
		t.Fatalf("watch --html: exit %d: %s", code, werr.String())
	}
	if wout.Len() != 0 {
		t.Errorf("watch --html printed %q", wout.String())
	}
	got := readPage(t, page)
	for _, want := range []string{`content="30"`, "failover node h1", "reloads every 30s"} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q:\n%s", want, got)
		}
	}
	if code, _, _ := run(t, "--socket", sock, "watch", "--html", page, "--refresh", "100ms"); code != ExitUsage {
		t.Errorf("--refresh 100ms: exit %d, want %d", code, ExitUsage)
	}
}
