package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/failover-ha/failover/internal/rig"
)

// chromiumPath finds Debian's chromium. Missing, the test fails under CI
// (.ci/run installs it) and skips elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); CI must run the browser test")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium)")
	return ""
}

// TestPrivilegedBrowserStatusPage drives a real headless chromium at the
// status page a lab node serves on metrics_listen: it reads the VIP's
// owner from the DOM, freezes the owner, and sees the page, after its own
// refresh, show the new owner. The browser runs inside the lab's client
// namespace (nsenter), so everything it could send stays in the rack.
//
// FAILOVER_SCREENSHOT=FILE keeps the screenshot there (docs/status-page.png
// was made so); otherwise it goes to the test's temporary directory.
func TestPrivilegedBrowserStatusPage(t *testing.T) {
	chromium := chromiumPath(t)
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Fatalf("nsenter (util-linux) is needed to run the browser in the lab: %v", err)
	}
	rg := newRig(t, rig.Options{
		ConfigHook: func(host, cfg string) string {
			// On eth0 (198.18.1.N), where the client, the operator's
			// browser, reaches it.
			// A gateway check and a hook, so the page shows those tables.
			return withGlobals(cfg, fmt.Sprintf("metrics_listen = \"198.18.1.%s:9406\"", strings.TrimPrefix(host, "h")), `notify = ["/bin/true"]`) +
				checkTOML(`name = "gateway"`, `kind = "ping"`, `target = "198.18.1.250"`)
		},
	})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)

	clientNS := rg.Lab.Client().NS()
	nsPath := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(clientNS))
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// nsenter execs chromium in the client's network namespace; the
			// DevTools pipes (fds 3 and 4) go through.
			cmd.Args = append([]string{"nsenter", "--net=" + nsPath, "--", cmd.Path}, cmd.Args[1:]...)
			cmd.Path = nsenter
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		}),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitBound)
	defer cancel()
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()

	url := "http://" + rg.Lab.Host("h2").Addr("eth0").String() + ":9406/?refresh=1"
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("chromium: navigate %s: %v", url, err)
	}
	owner := chromedp.CSS(`td.owner[data-service="web"]`)
	state := chromedp.CSS(`td.state[data-service="web"]`)
	read := func() (string, string, error) {
		qctx, qcancel := context.WithTimeout(bctx, 3*time.Second)
		defer qcancel()
		o, err := chromedp.Run(qctx, chromedp.Text(owner))
		if err != nil {
			return "", "", err
		}
		s, err := chromedp.Run(qctx, chromedp.Text(state))
		return strings.TrimSpace(o), strings.TrimSpace(s), err
	}
	o, s, err := read()
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	t.Logf("h2's page in chromium: web owner %s, h2 %s", o, s)
	if o != "h1" || s != "recover" {
		t.Fatalf("h2's page says owner %q, h2 %q; want h1 and recover", o, s)
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil || title != "failover h2" {
		t.Errorf("title %q (%v), want \"failover h2\"", title, err)
	}

	t0 := time.Now()
	if err := rg.Lab.Freeze("h1"); err != nil {
		t.Fatal(err)
	}
	// No navigation from here on: the page reloads itself every second.
	deadline := time.Now().Add(waitBound)
	for {
		o, s, err = read()
		if err == nil && o == "h2" && s == "up" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed h2 as owner: owner %q state %q err %v", o, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the page showed owner h2 %v after h1 froze", time.Since(t0).Round(10*time.Millisecond))
	// Let the dead verdict on h1 reach the page too before the picture.
	deadline = time.Now().Add(waitBound)
	for {
		qctx, qcancel := context.WithTimeout(bctx, 3*time.Second)
		body, err := chromedp.Run(qctx, chromedp.Text(chromedp.CSS(`body`)))
		qcancel()
		if err == nil && strings.Contains(body, "dead") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed h1 dead")
		}
		time.Sleep(100 * time.Millisecond)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	file := os.Getenv("FAILOVER_SCREENSHOT")
	if file == "" {
		file = filepath.Join(t.TempDir(), "status-page.png")
	} else if !filepath.IsAbs(file) {
		_, src, _, _ := runtime.Caller(0)
		file = filepath.Join(filepath.Dir(src), "..", "..", file)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot (%d bytes): %s", len(png), file)
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot is not a PNG")
	}
}
