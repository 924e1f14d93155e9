package lab_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/lab"
)

func TestPrivilegedDropOneDirection(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1, h2 := l.Host("h1"), l.Host("h2")
	// Resolve neighbours first: a one-way drop also eats half of ARP.
	for _, p := range [][2]*lab.Host{{h1, h2}, {h2, h1}} {
		if !reaches(t, p[0], p[1], "eth0", 2*time.Second) {
			t.Fatalf("%s -> %s on eth0 lost before any fault", p[0].Name(), p[1].Name())
		}
	}
	for _, tc := range []struct {
		dir      lab.Direction
		to, from bool // h1->h2 arrives, h2->h1 arrives
	}{
		{lab.DirToHost, false, true},
		{lab.DirFromHost, true, false},
		{lab.DirBoth, false, false},
	} {
		t.Run(tc.dir.String(), func(t *testing.T) {
			if err := l.Drop("h2", "eth0", tc.dir); err != nil {
				t.Fatal(err)
			}
			if got := reaches(t, h1, h2, "eth0", wait(tc.to)); got != tc.to {
				t.Errorf("h1 -> h2 arrived = %v, want %v", got, tc.to)
			}
			if got := reaches(t, h2, h1, "eth0", wait(tc.from)); got != tc.from {
				t.Errorf("h2 -> h1 arrived = %v, want %v", got, tc.from)
			}
			if !reaches(t, h1, h2, "eth1", 2*time.Second) {
				t.Errorf("h1 -> h2 on eth1 lost; only eth0 has a drop")
			}
			if link, err := h2.Netlink().LinkByName("eth0"); err != nil || link.Attrs().OperState != 6 /* up */ {
				t.Errorf("h2 eth0 not up under a silent drop: %v %v", link.Attrs().OperState, err)
			}
		})
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if !reaches(t, h1, h2, "eth0", 2*time.Second) || !reaches(t, h2, h1, "eth0", 2*time.Second) {
		t.Errorf("eth0 still drops after Heal")
	}
}

// wait is how long to wait for a datagram expected (or not) to arrive.
func wait(arrives bool) time.Duration {
	if arrives {
		return 2 * time.Second
	}
	return 200 * time.Millisecond
}

// delivered sends n numbered datagrams from a to b on nic and returns how
// many arrived. The receiver reads concurrently; the count is final once
// nothing more has arrived for quiet.
func delivered(t *testing.T, a, b *lab.Host, nic string, n int) int {
	t.Helper()
	src := listen(t, a, nic, 0)
	dst := listen(t, b, nic, 0)
	dst.SetReadBuffer(4 << 20)
	to := netip.MustParseAddrPort(dst.LocalAddr().String())
	got := make(chan int)
	sent := make(chan struct{})
	go func() {
		seen := map[int]bool{}
		buf := make([]byte, 64)
		const quiet = 300 * time.Millisecond
		for {
			select {
			case <-sent:
				dst.SetReadDeadline(time.Now().Add(quiet))
			default:
				dst.SetReadDeadline(time.Now().Add(10 * time.Second))
			}
			k, err := dst.Read(buf)
			if err != nil {
				got <- len(seen)
				return
			}
			if i, err := strconv.Atoi(string(buf[:k])); err == nil {
				seen[i] = true
			}
		}
	}()
	for i := range n {
		if _, err := src.WriteToUDPAddrPort([]byte(strconv.Itoa(i)), to); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%50 == 49 {
			time.Sleep(time.Millisecond) // pacing, not waiting: keep the backlog queue short
		}
	}
	close(sent)
	// Nudge the reader out of its long deadline.
	src.WriteToUDPAddrPort([]byte("end"), to)
	return <-got
}

func TestPrivilegedLoss(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1, h2 := l.Host("h1"), l.Host("h2")
	const n = 1000
	if got := delivered(t, h1, h2, "eth0", n); got != n {
		t.Fatalf("without loss %d of %d datagrams arrived; the measurement itself loses", got, n)
	}
	if err := l.Loss("h2", "eth0", 30); err != nil {
		t.Fatal(err)
	}
	got := delivered(t, h1, h2, "eth0", n)
	loss := 100 * float64(n-got) / n
	t.Logf("Loss 30%%: %d of %d datagrams arrived, measured loss %.1f%%", got, n, loss)
	if loss < 20 || loss > 40 {
		t.Errorf("measured loss %.1f%%, want 20..40%%", loss)
	}
	if got := delivered(t, h1, h2, "eth1", n); got != n {
		t.Errorf("eth1 has no loss but %d of %d arrived", got, n)
	}
	if err := l.Loss("h2", "eth0", 0); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, h1, h2, "eth0", n); got != n {
		t.Errorf("after Loss 0: %d of %d arrived", got, n)
	}
	if err := l.Loss("h2", "eth0", 101); err == nil {
		t.Errorf("Loss 101%% accepted")
	}
	if err := l.Loss("h9", "eth0", 10); err == nil {
		t.Errorf("Loss on unknown host accepted")
	}
}

// The test binary doubles as a helper process: an UDP echo server on every
// address given in FAILOVER_LAB_ECHO.
func init() {
	addrs := os.Getenv("FAILOVER_LAB_ECHO")
	if addrs == "" {
		return
	}
	for _, a := range strings.Split(addrs, ",") {
		c, err := net.ListenPacket("udp4", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					os.Exit(3)
				}
				c.WriteTo(buf[:n], from)
			}
		}()
	}
	select {}
}

// echoes reports whether h's echo server on nic answers from within d.
func echoes(t *testing.T, from, h *lab.Host, nic string, d time.Duration) bool {
	t.Helper()
	c := listen(t, from, nic, 0)
	to := netip.AddrPortFrom(h.Addr(nic), 7777)
	deadline := time.Now().Add(d)
	buf := make([]byte, 100)
	for time.Now().Before(deadline) {
		c.WriteToUDPAddrPort([]byte("ping"), to)
		next := time.Now().Add(100 * time.Millisecond)
		if next.After(deadline) {
			next = deadline
		}
		c.SetReadDeadline(next)
		if n, err := c.Read(buf); err == nil && string(buf[:n]) == "ping" {
			return true
		}
	}
	return false
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}

func TestPrivilegedFreeze(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	h1, h2 := l.Host("h1"), l.Host("h2")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAILOVER_LAB_ECHO="+h2.Addr("eth0").String()+":7777,"+h2.Addr("eth1").String()+":7777")
	cmd.Stderr = os.Stderr
	if err := h2.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close() // kills cmd; then reap it
		cmd.Wait()
	})
	for _, nic := range []string{"eth0", "eth1"} {
		if !echoes(t, h1, h2, nic, 5*time.Second) {
			t.Fatalf("h2 echo on %s does not answer before Freeze", nic)
		}
	}
	a, b := openCable(t, l.Cable("h1", "h2"))
	roundTrip(t, a, b, "before freeze")

	if err := l.Freeze("h2"); err != nil {
		t.Fatal(err)
	}
	// SIGSTOP takes effect asynchronously: poll the state.
	for deadline := time.Now().Add(5 * time.Second); procState(cmd.Process.Pid) != "T"; {
		if time.Now().After(deadline) {
			t.Fatalf("h2's process state after Freeze = %s, want T (stopped)", procState(cmd.Process.Pid))
		}
		time.Sleep(time.Millisecond)
	}
	for _, nic := range []string{"eth0", "eth1"} {
		if echoes(t, h1, h2, nic, 300*time.Millisecond) {
			t.Errorf("h2 answers on %s while frozen", nic)
		}
	}
	if silent(t, a, b) == false {
		t.Errorf("cable carries bytes while h2 frozen")
	}

	if err := l.Thaw("h2"); err != nil {
		t.Fatal(err)
	}
	for _, nic := range []string{"eth0", "eth1"} {
		if !echoes(t, h1, h2, nic, 5*time.Second) {
			t.Errorf("h2 does not answer on %s after Thaw", nic)
		}
	}
	roundTrip(t, a, b, "after thaw")
}

// AdminDown sets a host's NIC down inside the host: no IFF_UP there, no
// carrier on the switch side, nothing gets through; AdminUp and Heal undo
// it.
func TestPrivilegedAdminDownUp(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1, h2 := l.Host("h1"), l.Host("h2")
	if !reaches(t, h1, h2, "eth0", 2*time.Second) {
		t.Fatal("h1 -> h2 on eth0 lost before any fault")
	}
	up := func(h *lab.Host) bool {
		link, err := h.Netlink().LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		return link.Attrs().Flags&net.FlagUp != 0
	}
	for round, heal := range []func() error{
		func() error { return l.AdminUp("h1", "eth0") },
		l.Heal,
	} {
		if err := l.AdminDown("h1", "eth0"); err != nil {
			t.Fatal(err)
		}
		if up(h1) {
			t.Errorf("round %d: h1 eth0 still IFF_UP after AdminDown", round)
		}
		if reaches(t, h2, h1, "eth0", wait(false)) {
			t.Errorf("round %d: h2 -> h1 on eth0 arrived while h1's eth0 is down", round)
		}
		if !reaches(t, h1, h2, "eth1", 2*time.Second) {
			t.Errorf("round %d: eth1 lost; only eth0 is down", round)
		}
		if err := heal(); err != nil {
			t.Fatal(err)
		}
		if !up(h1) || !reaches(t, h1, h2, "eth0", 2*time.Second) {
			t.Errorf("round %d: h1 eth0 not back after undoing AdminDown", round)
		}
	}
	if err := l.AdminDown("h1", "eth9"); err == nil {
		t.Error("AdminDown of a NIC that does not exist succeeded")
	}
}

// Freeze returns once every process of the host is stopped, and Thaw
// continues them only once the host's NICs are up again: a frozen process
// never runs while its cables are pulled.
func TestPrivilegedFreezeStopsFirst(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1 := l.Host("h1")
	cmd := exec.Command("sleep", "30")
	if err := h1.Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for range 3 {
		if err := l.Freeze("h1"); err != nil {
			t.Fatal(err)
		}
		if s := procState(cmd.Process.Pid); s != "T" {
			t.Errorf("process state %q right after Freeze, want T (stopped)", s)
		}
		if err := l.Thaw("h1"); err != nil {
			t.Fatal(err)
		}
		for _, nic := range h1.NICs() {
			link, err := h1.Netlink().LinkByName(nic)
			if err != nil || link.Attrs().OperState != 6 /* up */ {
				t.Errorf("%s not up right after Thaw: %v %v", nic, link.Attrs().OperState, err)
			}
		}
	}
}
