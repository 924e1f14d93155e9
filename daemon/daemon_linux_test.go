//go:build linux

package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/internal/lab"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/vishvananda/netlink"
)

func TestMain(m *testing.M) { lab.Main(m) }

var testVIP = netip.MustParseAddr("198.18.1.100")

// syncBuf collects a daemon's log; shown when a test fails.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type labDaemon struct {
	daemon *Daemon
	name   string
	host   *lab.Host
	sock   string
	cancel context.CancelFunc
	done   chan error
	log    *syncBuf
	reload chan struct{}
	file   string
}

// stop is a planned shutdown; it waits for Run to return.
func (d *labDaemon) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	if err := <-d.done; err != nil {
		t.Errorf("%s: Run: %v", d.name, err)
	}
	d.done = nil
}

func labConfig(t *testing.T, dir string, l *lab.Lab, self, peer string, prio map[string]int) string {
	h, p := l.Host(self), l.Host(peer)
	key := filepath.Join(dir, "key")
	if _, err := os.Stat(key); err != nil {
		os.WriteFile(key, []byte("1 00112233445566778899aabbccddeeff send\n"), 0o600)
	}
	// realtime_priority = 0: these daemons run inside the test binary,
	// which keeps the normal policy; TestPrivilegedRealtime and the e2e
	// tests (real failoverd processes) cover SCHED_RR.
	text := fmt.Sprintf(`cluster = "lab"
node = %q
key_file = %q
control_socket = %q
realtime_priority = 0

[[peer]]
name = %q

[[path]]
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"
unicast = ["%s:7405"]

[[path]]
kind = "udp"
interface = "eth1"
multicast = "239.192.0.1:7405"

[[path]]
name = "serial0"
kind = "serial"
device = %q

[[service]]
name = "web"
vip = %q
interface = "eth0"
priority = {%s = %d, %s = %d}
`, self, key, filepath.Join(dir, self+".sock"), peer, p.Addr("eth0"), h.SerialPort(peer), testVIP.String(),
		self, prio[self], peer, prio[peer])
	f := filepath.Join(dir, self+".toml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func startLabDaemon(t *testing.T, l *lab.Lab, dir, self, peer string) *labDaemon {
	t.Helper()
	h := l.Host(self)
	file := labConfig(t, dir, l, self, peer, map[string]int{"h1": 100, "h2": 50})
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	buf := &syncBuf{}
	lv := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: lv}))
	ready := make(chan struct{})
	reload := make(chan struct{})
	d, err := New(cfg, Options{Logger: log, Level: lv, Net: NewNet(h.Netlink(), h.NS(), h.Do), Ready: func() { close(ready) }, Reload: reload})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ld := &labDaemon{daemon: d, name: self, host: h, sock: cfg.ControlSocket, cancel: cancel, done: make(chan error, 1), log: buf, reload: reload, file: file}
	go func() { ld.done <- d.Run(ctx) }()
	select {
	case <-ready:
	case err := <-ld.done:
		t.Fatalf("%s: Run: %v", self, err)
	}
	t.Cleanup(func() {
		if ld.done != nil {
			cancel()
			<-ld.done
		}
		if t.Failed() || os.Getenv("FAILOVER_TEST_LOG") != "" {
			t.Logf("log of %s:\n%s", self, buf.String())
		}
	})
	return ld
}

// hasVIP reports whether host carries the test VIP on eth0.
func hasVIP(t *testing.T, h *lab.Host) bool {
	t.Helper()
	link, err := h.Netlink().LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.Netlink().AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == testVIP {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("gave up after %v waiting for: %s", limit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func webState(t *testing.T, sock string) string {
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status(context.Background())
	if err != nil {
		return "error: " + err.Error()
	}
	for _, s := range st.Services {
		if s.Name == "web" {
			return s.State
		}
	}
	return "missing"
}

func TestPrivilegedTwoDaemonsPowerPull(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1, h2 := l.Host("h1"), l.Host("h2")
	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	d2 := startLabDaemon(t, l, dir, "h2", "h1")

	waitFor(t, "VIP on the master h1", 5*time.Second, func() bool { return hasVIP(t, h1) })
	waitFor(t, "h2 in recover", 5*time.Second, func() bool { return webState(t, d2.sock) == "recover" })
	if hasVIP(t, h2) {
		t.Fatal("VIP on both hosts")
	}
	c1 := mustClient(t, d1.sock)
	waitFor(t, "h1 sees h2 alive on all three paths", 5*time.Second, func() bool {
		st, err := c1.Status(context.Background())
		return err == nil && len(st.Peers) == 1 && st.Peers[0].State == "alive" && len(st.Peers[0].Paths) == 3
	})

	// Power pull: every path of h1 goes silent.
	if err := l.Freeze("h1"); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "VIP on the backup h2", 5*time.Second, func() bool { return hasVIP(t, h2) })
	t.Logf("takeover after power pull: VIP on h2 %v after the freeze", took.Round(time.Millisecond))
	if got := webState(t, d2.sock); got != "up" {
		t.Errorf("h2 web = %s, want up", got)
	}

	// Power back: h1 reclaims (failback), h2 lets go.
	if err := l.Thaw("h1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "VIP back on h1 and gone from h2", 10*time.Second, func() bool { return hasVIP(t, h1) && !hasVIP(t, h2) })
}

func TestPrivilegedPlannedHandover(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1, h2 := l.Host("h1"), l.Host("h2")
	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	d2 := startLabDaemon(t, l, dir, "h2", "h1")
	waitFor(t, "VIP on the master h1", 5*time.Second, func() bool { return hasVIP(t, h1) })
	waitFor(t, "h2 in recover", 5*time.Second, func() bool { return webState(t, d2.sock) == "recover" })

	start := time.Now()
	d1.stop(t) // SIGTERM: planned hand-over
	t.Logf("h1 Run returned %v after cancel", time.Since(start).Round(time.Millisecond))
	if hasVIP(t, h1) {
		t.Error("h1 still holds the VIP after a planned shutdown")
	}
	took := waitFor(t, "VIP on h2", 5*time.Second, func() bool { return hasVIP(t, h2) })
	t.Logf("planned hand-over: VIP on h2 %v after h1 stopped", took.Round(time.Millisecond))
	if _, err := os.Stat(d1.sock); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
}

func TestPrivilegedOperatorFailRecover(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1, h2 := l.Host("h1"), l.Host("h2")
	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	d2 := startLabDaemon(t, l, dir, "h2", "h1")
	waitFor(t, "VIP on the master h1", 5*time.Second, func() bool { return hasVIP(t, h1) })
	waitFor(t, "h2 in recover", 5*time.Second, func() bool { return webState(t, d2.sock) == "recover" })

	c := mustClient(t, d1.sock)
	if _, err := c.Fail(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "VIP moves to h2 after fail", 5*time.Second, func() bool { return hasVIP(t, h2) && !hasVIP(t, h1) })
	if _, err := c.Recover(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "VIP back on h1 after recover", 10*time.Second, func() bool { return hasVIP(t, h1) && !hasVIP(t, h2) })
}

func mustClient(t *testing.T, sock string) *client.Client {
	t.Helper()
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPrivilegedReload(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1 := l.Host("h1")
	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	d2 := startLabDaemon(t, l, dir, "h2", "h1")
	waitFor(t, "VIP on the master h1", 5*time.Second, func() bool { return hasVIP(t, h1) })
	waitFor(t, "h2 in recover", 5*time.Second, func() bool { return webState(t, d2.sock) == "recover" })
	c := mustClient(t, d1.sock)
	ctx := context.Background()
	orig, err := os.ReadFile(d1.file)
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Log level only: applied in place, same epoch.
	os.WriteFile(d1.file, append([]byte("log_level = \"debug\"\n"), orig...), 0o644)
	d1.reload <- struct{}{}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LogLevel != "debug" || st.Epoch != before.Epoch {
		t.Errorf("after a log-level reload: level %s epoch %d, want debug and epoch %d", st.LogLevel, st.Epoch, before.Epoch)
	}

	// Invalid: kept, still running.
	os.WriteFile(d1.file, append([]byte("log_levle = \"info\"\n"), orig...), 0o644)
	d1.reload <- struct{}{}
	if st, err := c.Status(ctx); err != nil || st.LogLevel != "debug" {
		t.Errorf("after an invalid reload: %v, level %v", err, st)
	}
	if !strings.Contains(d1.log.String(), "config not reloaded") {
		t.Error("invalid reload not logged")
	}

	// Structural: the core restarts (new epoch), the VIP stays with h1.
	os.WriteFile(d1.file, []byte(strings.Replace(string(orig), "[[peer]]", "[timers]\nindoubt_hold = \"10ms\"\n\n[[peer]]", 1)), 0o644)
	d1.reload <- struct{}{}
	waitFor(t, "h1 restarted its core and holds web", 5*time.Second, func() bool {
		st, err := c.Status(ctx)
		return err == nil && st.Epoch != before.Epoch && len(st.Services) == 1 && st.Services[0].State == "up" && hasVIP(t, h1)
	})
}

// addStale puts the test VIP on h's eth0 with no lifetime, as a daemon
// killed while it held the address leaves it.
func addStale(t *testing.T, h *lab.Host) {
	t.Helper()
	link, err := h.Netlink().LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	stale := &netlink.Addr{IPNet: netlink.NewIPNet(testVIP.AsSlice())}
	if err := h.Netlink().AddrAdd(link, stale); err != nil {
		t.Fatal(err)
	}
	if !hasVIP(t, h) {
		t.Fatal("stale VIP not in place")
	}
}

// A crashed master left its VIP: started again (its peer is not running),
// it keeps the address through the startup listen and claims it, without
// ever removing it. Only a stall of the daemon (the stall guard drops every
// claim: a loaded machine running this under -race) may take it away.
func TestPrivilegedStaleVIPKept(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1 := l.Host("h1")
	addStale(t, h1)
	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	gone := false
	waitFor(t, "web up on h1", 5*time.Second, func() bool {
		gone = gone || !hasVIP(t, h1)
		return webState(t, d1.sock) == "up"
	})
	if !hasVIP(t, h1) {
		t.Error("web up on h1 without its VIP")
	}
	log := d1.log.String()
	if !strings.Contains(log, "kept the VIP an earlier run left") {
		t.Error("h1 did not report the VIP it kept")
	}
	removed := gone || strings.Contains(log, "VIP released") || strings.Contains(log, "removed a stale VIP")
	switch {
	case removed && strings.Contains(log, "stalled for"):
		t.Log("h1 stalled (a loaded machine) and its stall guard dropped the VIP; it claimed it again")
	case removed:
		t.Error("h1 removed the VIP its earlier run left")
	case !strings.Contains(log, "kept the address an earlier run of ours left"):
		t.Error("h1 is up, but not by keeping the address")
	}
}

// A crashed backup left the VIP behind (it held it while the master was
// failed, say): the master h1, started first, finds it answering its probes
// and stays indoubt; h2, started again, keeps it and is up once it has
// heard h1, which then asks for it back (failback). The service ends on
// h1 alone. A second daemon with h2's config is refused.
func TestPrivilegedStaleVIPOfBackupAndSecondDaemon(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1, h2 := l.Host("h1"), l.Host("h2")
	addStale(t, h2)

	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	waitFor(t, "h1 indoubt (h2's stale VIP answers its probe)", 5*time.Second, func() bool { return webState(t, d1.sock) == "indoubt" })
	d2 := startLabDaemon(t, l, dir, "h2", "h1")
	waitFor(t, "VIP on the master h1 only", 5*time.Second, func() bool { return hasVIP(t, h1) && !hasVIP(t, h2) })
	if !strings.Contains(d2.log.String(), "kept the VIP an earlier run left") {
		t.Error("h2 did not report the VIP it kept")
	}
	waitFor(t, "web up on h1", 5*time.Second, func() bool { return webState(t, d1.sock) == "up" })
	if !strings.Contains(d1.log.String(), "released by h2 (reclaim)") {
		// A stall of either daemon (a loaded machine under -race) drops
		// claims; h1 then claims the address the normal way.
		t.Log("h1 did not get web by a reclaim from h2")
	}

	// A second daemon with h2's config must refuse to start.
	cfg, err := config.Load(d2.file)
	if err != nil {
		t.Fatal(err)
	}
	lv := new(slog.LevelVar)
	d, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler), Level: lv, Net: NewNet(h2.Netlink(), h2.NS(), h2.Do)})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another failoverd is running") {
		t.Errorf("second daemon: Run = %v, want \"another failoverd is running\"", err)
	}
	if hasVIP(t, h2) || !hasVIP(t, h1) {
		t.Error("the refused daemon touched the VIP")
	}
}

// TestPrivilegedDuplicateAddressAlarm: while h1 owns the VIP, a host with no
// daemon (h2) claims the address with gratuitous ARP replies; h1 raises one
// duplicate-address alarm naming h2's MAC however often it claims, and keeps
// the address (the heartbeats, not a stray ARP, decide ownership).
func TestPrivilegedDuplicateAddressAlarm(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}})
	dir := t.TempDir()
	h1, h2, cl := l.Host("h1"), l.Host("h2"), l.Client()
	d1 := startLabDaemon(t, l, dir, "h1", "h2")
	waitFor(t, "VIP on h1 (no peer running)", 10*time.Second, func() bool { return hasVIP(t, h1) })

	claim := func(h *lab.Host) {
		t.Helper()
		mac := h.MAC("eth0")
		err := h.Do(func() error {
			ifi, err := net.InterfaceByName("eth0")
			if err != nil {
				return err
			}
			c, err := arp.Dial(ifi)
			if err != nil {
				return err
			}
			defer c.Close()
			p, err := arp.NewPacket(arp.OperationReply, mac, testVIP, mac, testVIP)
			if err != nil {
				return err
			}
			return c.WriteTo(p, ethernet.Broadcast)
		})
		if err != nil {
			t.Fatalf("gratuitous ARP from %s: %v", h.Name(), err)
		}
	}
	c1 := mustClient(t, d1.sock)
	dups := func(h *lab.Host) int {
		st, err := c1.Status(context.Background())
		if err != nil {
			return 0
		}
		n := 0
		for _, a := range st.Alarms {
			if strings.Contains(a.Text, "duplicate address") && strings.Contains(a.Text, h.MAC("eth0").String()) {
				n++
			}
		}
		return n
	}
	// The watch starts right after the address is added: claim until seen.
	waitFor(t, "a duplicate-address alarm for h2 on h1", 5*time.Second, func() bool {
		claim(h2)
		return dups(h2) > 0
	})
	for range 5 {
		claim(h2)
	}
	// A claim from the client, sent after h2's, marks when h2's have been
	// read: once its alarm shows, h2's repeats were seen too.
	waitFor(t, "a duplicate-address alarm for the client on h1", 5*time.Second, func() bool {
		claim(cl)
		return dups(cl) > 0
	})
	if n := dups(h2); n != 1 {
		t.Errorf("%d duplicate-address alarms for h2's MAC, want 1", n)
	}
	if !hasVIP(t, h1) {
		t.Error("h1 dropped the VIP on a stray ARP claim")
	}
	if got := webState(t, d1.sock); got != "up" {
		t.Errorf("h1 web = %s, want up", got)
	}
}
