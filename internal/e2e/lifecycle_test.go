package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// SIGTERM is a planned hand-over: h1 releases and tells h2, which takes over
// without waiting for a deadtime. The deadtime here (20s) is longer than the
// wait for the takeover (10s), so a takeover that waited for it could not
// pass.
func TestPrivilegedSIGTERMHandover(t *testing.T) {
	const deadtime, bound = 20 * time.Second, 10 * time.Second
	rg := newRig(t, rig.Options{Interval: 100 * time.Millisecond, Deadtime: deadtime, Startup: time.Second})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	sampler := rg.Sample("web")

	t0 := time.Now()
	if err := rg.Signal("h1", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := rig.Poll(ctx, "web on h2 within "+bound.String()+" (deadtime "+deadtime.String()+")", rg.Settled("web", "h2", t0, "h1")); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGTERM h1: web: client saw %s", rg.Prober("web").Outage(t0, time.Now()))
	d := rg.Daemon("h1")
	select {
	case <-d.Done():
		if d.Err() != nil {
			t.Errorf("failoverd h1 after SIGTERM: %v, want exit 0", d.Err())
		}
	case <-time.After(waitBound):
		t.Fatal("failoverd h1 did not exit after SIGTERM")
	}
	if present, _ := rg.Present("h1", "web"); present {
		t.Error("h1 exited but left the VIP on eth0")
	}
	samples, overlaps, holders := sampler.Stop()
	t.Logf("VIP holders seen (%d samples): %v", samples, holders)
	if len(overlaps) > 0 {
		t.Errorf("VIP on two hosts at once: %v", overlaps)
	}

	// Started again, h1 reclaims.
	t1 := time.Now()
	if _, err := rg.StartDaemon("h1"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1 restarted")
}

// SIGKILL with a permanent address (lifetime 0) leaves h1's VIP behind, and
// the kernel in h1 still answers ARP for it: h2 sees h1 dead but must not
// claim an address someone answers for. A restarted h1 keeps the address
// its earlier run left, hears that nobody else holds the service, claims it
// and the cluster ends with a single owner.
func TestPrivilegedSIGKILLRestart(t *testing.T) {
	rg := newRig(t, rig.Options{ConfigHook: func(host, cfg string) string {
		// The service table is the last one: make its address permanent,
		// so the stale VIP cannot expire by itself.
		return cfg + "lifetime = \"0s\"\n"
	}})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)

	if err := rg.Signal("h1", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-rg.Daemon("h1").Done()
	waitFor(t, "h2 sees h1 dead", func(ctx context.Context) (bool, string) {
		v, paths, err := peerState(ctx, rg, "h2", "h1")
		return err == nil && v == "dead", v + " " + fmtPaths(paths)
	})
	stale, _ := rg.Present("h1", "web")
	if !stale {
		t.Fatal("h1's VIP is gone after SIGKILL although its lifetime is forever")
	}
	holders, _ := rg.Holders("web")
	st, _ := rg.Status(context.Background(), "h2")
	var alarms []string
	for _, a := range st.Alarms {
		alarms = append(alarms, a.Text)
	}
	t.Logf("after SIGKILL: holders %v (h1's is stale), h2's alarms %q", holders, alarms)
	if slices.Contains(holders, "h2") {
		t.Error("h2 claimed the VIP while h1's stale address still answered ARP (two owners)")
	}

	t1 := time.Now()
	if _, err := rg.StartDaemon("h1"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1 restarted")
	holders, err := rg.Holders("web")
	if err != nil || len(holders) != 1 || holders[0] != "h1" {
		t.Errorf("holders after restart: %v %v, want [h1]", holders, err)
	}
}

// SIGKILL with the default lifetime: h1's address expires by itself, h2
// takes over; restarted, h1 reclaims; one owner at the end.
func TestPrivilegedSIGKILLLifetimeExpires(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	t0 := time.Now()
	if err := rg.Signal("h1", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-rg.Daemon("h1").Done()
	settle(t, rg, "web", "h2", t0, "SIGKILL h1 (stale VIP expires after its lifetime)", "h1")
	if present, _ := rg.Present("h1", "web"); present {
		t.Error("h1's stale VIP is still there after h2 took over")
	}
	t1 := time.Now()
	if _, err := rg.StartDaemon("h1"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1 restarted")
}

// An invalid config: failoverd and failover check-config exit 2 and list
// every problem as file:line: key: message.
func TestInvalidConfigExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(`cluster = "lab"
node = "h1"
insecure_no_auth = true
control_socket = "`+filepath.Join(dir, "h1.sock")+`"
log_levle = "debug"

[timers]
interval = "100ms"
deadtime = "120ms"

[[peer]]
name = "h2"

[[path]]
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"

[[service]]
name = "web"
vip = "198.18.1.100"
interface = "eth9"
priority = {h1 = 2, h2 = 1}
`), 0o600)

	cmd := exec.Command(bin(t, "failoverd"), "--config", bad)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("failoverd with an invalid config: %v, want exit status 2\n%s", err, out)
	}
	t.Logf("failoverd --config bad.toml:\n%s", out)
	for _, want := range []string{"log_levle", "deadtime", "eth9"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("failoverd's complaint does not name %q", want)
		}
	}

	code, stdout, stderr := failover(t, "check-config", bad)
	if code != 2 {
		t.Fatalf("failover check-config: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 3 {
		t.Errorf("want at least 3 problems, got:\n%s", stdout)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, bad+":") {
			t.Errorf("%q is not file:line: key: message", l)
		}
	}
}

// Without a daemon, every command says so in one plain line and exits 1.
func TestCLIDaemonNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "failover.sock")
	for _, args := range [][]string{{"status"}, {"watch"}, {"fail", "web"}, {"recover", "web"}, {"log-level", "info"}, {"stress"}} {
		code, out, errs := failover(t, append([]string{"--socket", sock}, args...)...)
		if want := "failoverd is not running: cannot reach " + sock + "\n"; code != 1 || errs != want || out != "" {
			t.Errorf("failover %v: exit %d, stdout %q, stderr %q; want 1 and %q", args, code, out, errs, want)
		}
	}
}

// The operator commands against a live cluster: status (text and JSON),
// log-level, stress, and watch's change log.
func TestPrivilegedCLIAgainstCluster(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	sock := rg.Socket("h1")

	out := mustFailover(t, "--socket", sock, "status")
	for _, want := range []string{"node h1", "h2", "alive", "eth0", "eth1", "serial0", "web", "198.18.1.100/32", "up"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	var st client.Status
	if err := json.Unmarshal([]byte(mustFailover(t, "status", "--json", "--socket", sock)), &st); err != nil || st.Node != "h1" {
		t.Errorf("status --json: %v %+v", err, st)
	}
	if out := mustFailover(t, "--socket", sock, "log-level", "debug"); !strings.Contains(out, "debug") {
		t.Errorf("log-level: %s", out)
	}
	out = mustFailover(t, "--socket", sock, "stress", "-n", "500", "-c", "8")
	t.Logf("failover stress -n 500 -c 8:\n%s", out)
	if !strings.Contains(out, "errors: 0") {
		t.Errorf("stress: %s", out)
	}

	// watch on h2 as a pipe prints the change log; fail web on h1 shows up.
	w := exec.Command(bin(t, "failover"), "--socket", rg.Socket("h2"), "watch", "--interval", "20ms")
	var wout syncBuffer
	w.Stdout, w.Stderr = &wout, &wout
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Process.Kill()
	watchSays := func(what string) func(context.Context) (bool, string) {
		return func(context.Context) (bool, string) {
			return strings.Contains(wout.String(), what), "watch printed so far:\n" + wout.String()
		}
	}
	waitFor(t, "watch to print the status", watchSays("--- changes ---"))
	mustFailover(t, "--socket", sock, "fail", "web")
	settle(t, rg, "web", "h2", time.Now().Add(-time.Second), "fail h1 (watch)", "h1")
	waitFor(t, "watch to log web up on h2", watchSays("-> up (owner h2)"))
	mustFailover(t, "--socket", sock, "recover", "web")
	settle(t, rg, "web", "h1", time.Time{}, "recover h1 (watch)")
	waitFor(t, "watch to log web back on h1", watchSays("-> recover (owner h1)"))
	w.Process.Signal(os.Interrupt) // Ctrl-C
	if err := w.Wait(); err != nil {
		t.Errorf("failover watch after Ctrl-C: %v, want exit 0", err)
	}
	t.Logf("failover watch on h2:\n%s", wout.String())
}

// syncBuffer is a strings.Builder safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// "failover lab demo" as a user runs it: exit 0, every step PASS.
func TestPrivilegedLabDemo(t *testing.T) {
	lab.Require(t)
	code, out, errs := failover(t, "lab", "demo")
	if code != 0 || !strings.Contains(out, "PASS: every step held") {
		t.Fatalf("failover lab demo: exit %d\n%s%s", code, out, errs)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "PASS  ") && strings.Contains(l, "ms without answer") {
			t.Log(l)
		}
	}
}

// "failover lab up" in the background, driven by the other lab commands.
func TestPrivilegedLabUpCommands(t *testing.T) {
	lab.Require(t)
	dir := t.TempDir()
	labSock := filepath.Join(dir, "lab.sock")
	sockDir := filepath.Join(dir, "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := exec.CommandContext(ctx, bin(t, "failover"), "lab", "up", "--lab-socket", labSock, "--socket-dir", sockDir)
	up.Cancel = func() error { return up.Process.Signal(os.Interrupt) }
	var upOut syncBuffer
	up.Stdout, up.Stderr = &upOut, &upOut
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- up.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("failover lab up:\n%s", upOut.String())
		}
	}()
	labStatus := func() LabView {
		code, out, _ := failover(t, "lab", "status", "--json", "--lab-socket", labSock)
		var v LabView
		if code == 0 {
			json.Unmarshal([]byte(out), &v)
		}
		return v
	}
	answeredBy := func(host string) func(context.Context) (bool, string) {
		return func(context.Context) (bool, string) {
			v := labStatus()
			if len(v.Services) == 0 {
				return false, "no lab status yet"
			}
			s := v.Services[0]
			return s.AnsweredBy == host && slices.Equal(s.Holders, []string{host}),
				fmt.Sprintf("held by %v, answered by %s", s.Holders, s.AnsweredBy)
		}
	}
	waitFor(t, "web on h1 in lab status", answeredBy("h1"))
	out := mustFailover(t, "--socket", filepath.Join(sockDir, "h2.sock"), "status")
	if !strings.Contains(out, "node h2") {
		t.Errorf("status of h2 through the lab socket dir:\n%s", out)
	}
	mustFailover(t, "lab", "crash", "h1", "--lab-socket", labSock)
	waitFor(t, "the client answered by h2 after the crash", answeredBy("h2"))
	mustFailover(t, "lab", "heal", "--lab-socket", labSock)
	waitFor(t, "web back on h1 after heal", answeredBy("h1"))
	mustFailover(t, "lab", "cut", "h1", "eth0", "--lab-socket", labSock)
	waitFor(t, "web on h2 after cutting h1's eth0", answeredBy("h2"))
	mustFailover(t, "lab", "plug", "h1", "eth0", "--lab-socket", labSock)
	waitFor(t, "web back on h1 after plugging eth0", answeredBy("h1"))
	if code, _, errs := failover(t, "lab", "cut", "h1", "eth7", "--lab-socket", labSock); code == 0 || !strings.Contains(errs, "eth0, eth1 or serial") {
		t.Errorf("lab cut h1 eth7: exit %d: %s", code, errs)
	}
	mustFailover(t, "lab", "down", "--lab-socket", labSock)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("failover lab up after lab down: %v", err)
		}
	case <-time.After(waitBound):
		t.Fatal("failover lab up did not exit after lab down")
	}
	if _, err := os.Stat(labSock); !os.IsNotExist(err) {
		t.Errorf("lab socket left behind: %v", err)
	}
	if code, _, errs := failover(t, "lab", "status", "--lab-socket", labSock); code != 1 || !strings.Contains(errs, "no lab is running") {
		t.Errorf("lab status after down: exit %d: %s", code, errs)
	}
	t.Logf("failover lab up printed:\n%s", upOut.String())
}

// LabView is the part of "failover lab status --json" the tests read.
type LabView struct {
	Services []struct {
		Name       string   `json:"name"`
		Holders    []string `json:"holders"`
		AnsweredBy string   `json:"answered_by"`
	} `json:"services"`
}

// Remote status: the client host asks h1's TCP status listener with the
// cluster key; a wrong key and a write request are refused.
func TestPrivilegedRemoteStatus(t *testing.T) {
	rg := newRig(t, rig.Options{ConfigHook: func(host, cfg string) string {
		addr := map[string]string{"h1": "198.18.1.1:7406", "h2": "198.18.1.2:7406"}[host]
		return strings.Replace(cfg, "\ncontrol_socket", "\nstatus_listen = \""+addr+"\"\ncontrol_socket", 1)
	}})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	os.WriteFile(wrong, []byte("1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"), 0o600)

	// run failover inside the client namespace.
	inClient := func(args ...string) (int, string) {
		cmd := exec.Command(bin(t, "failover"), args...)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := rg.Lab.Client().Start(cmd); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	code, out := inClient("--host", "198.18.1.1:7406", "--key-file", rg.KeyFile(), "status")
	if code != 0 || !strings.Contains(out, "node h1") || !strings.Contains(out, "web") {
		t.Errorf("remote status: exit %d\n%s", code, out)
	}
	code, out = inClient("--host", "198.18.1.1:7406", "--key-file", wrong, "status")
	if code != 1 || !strings.Contains(out, "refused") {
		t.Errorf("remote status with a wrong key: exit %d\n%s", code, out)
	}
	code, out = inClient("--host", "198.18.1.2:7406", "--key-file", rg.KeyFile(), "fail", "web")
	if code != 1 || !strings.Contains(out, "read-only") {
		t.Errorf("remote fail: exit %d\n%s", code, out)
	}
	code, out = inClient("--host", "198.18.1.3:7406", "--key-file", rg.KeyFile(), "--timeout", "2s", "status")
	t.Logf("remote status of a host that does not exist: exit %d: %s", code, out)
	if code != 1 {
		t.Errorf("remote status of nobody: exit %d", code)
	}
}

// The configs the lab generates are valid for check-config, for 2..4 hosts.
func TestPrivilegedLabConfigsCheck(t *testing.T) {
	for _, n := range []int{2, 3, 4} {
		rg := newRig(t, rig.Options{Hosts: n, Interval: 20 * time.Millisecond, Deadtime: 100 * time.Millisecond})
		for _, h := range rg.Hosts() {
			out := mustFailover(t, "check-config", rg.ConfigFile(h))
			if !strings.Contains(out, fmt.Sprintf("%d peer", n-1)) {
				t.Errorf("%d hosts, %s: %s", n, h, out)
			}
		}
	}
}
