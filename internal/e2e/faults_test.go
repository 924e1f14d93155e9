package e2e

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
	"github.com/failover-ha/failover/transport"
)

// The faults of real machines (issue 12): a service NIC set down and up, a
// host stalled past its VIP's lifetime, a flapping NIC, a USB serial adapter
// replugged, noise and forged frames. Every assertion is about owners,
// counts and order; the outages are logged (go test -v) and measured in
// docs/benchmarks.md.

// logMark is the size of a daemon's log now: lines after it are new.
func logMark(t *testing.T, rg *rig.Rig, host string) int64 {
	t.Helper()
	fi, err := os.Stat(rg.LogFile(host))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logSince returns the lines of host's daemon log written after mark.
func logSince(t *testing.T, rg *rig.Rig, host string, mark int64) []string {
	t.Helper()
	b, err := os.ReadFile(rg.LogFile(host))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) < mark {
		mark = 0
	}
	return strings.Split(strings.TrimRight(string(b[mark:]), "\n"), "\n")
}

func grep(lines []string, words ...string) []string {
	var out []string
	for _, l := range lines {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// logTime is the time= of a daemon's text log line.
func logTime(line string) time.Time {
	f := strings.Fields(line)
	if len(f) == 0 {
		return time.Time{}
	}
	at, _ := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time="))
	return at
}

// neighLog records the client's neighbour entry for ip: every update, in
// order.
type neighLog struct {
	mu  sync.Mutex
	ups []neighUpdate
}

type neighUpdate struct {
	at    time.Time
	state int
	mac   net.HardwareAddr
}

func watchNeigh(t *testing.T, rg *rig.Rig, ip netip.Addr) *neighLog {
	t.Helper()
	ch := make(chan netlink.NeighUpdate, 1024)
	done := make(chan struct{})
	ns := rg.Lab.Client().NS()
	if err := netlink.NeighSubscribeWithOptions(ch, done, netlink.NeighSubscribeOptions{Namespace: &ns}); err != nil {
		t.Fatal(err)
	}
	n := &neighLog{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for u := range ch {
			got, _ := netip.AddrFromSlice(u.IP)
			if got.Unmap() != ip || u.Type != unix.RTM_NEWNEIGH {
				continue
			}
			n.mu.Lock()
			n.ups = append(n.ups, neighUpdate{at: time.Now(), state: u.State, mac: append(net.HardwareAddr(nil), u.HardwareAddr...)})
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(done)
		wg.Wait()
	})
	return n
}

// since returns the updates after t.
func (n *neighLog) since(t time.Time) []neighUpdate {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []neighUpdate
	for _, u := range n.ups {
		if !u.at.Before(t) {
			out = append(out, u)
		}
	}
	return out
}

func neighState(s int) string {
	for _, x := range []struct {
		bit  int
		name string
	}{{netlink.NUD_INCOMPLETE, "INCOMPLETE"}, {netlink.NUD_REACHABLE, "REACHABLE"}, {netlink.NUD_STALE, "STALE"},
		{netlink.NUD_DELAY, "DELAY"}, {netlink.NUD_PROBE, "PROBE"}, {netlink.NUD_FAILED, "FAILED"},
		{netlink.NUD_NOARP, "NOARP"}, {netlink.NUD_PERMANENT, "PERMANENT"}} {
		if s&x.bit != 0 {
			return x.name
		}
	}
	return fmt.Sprintf("state(%#x)", s)
}

// movedByAnnounce checks that after from the client's entry reached mac
// without the client having to probe or resolve the address first: a
// gratuitous ARP moved it. (A lost announcement leaves the entry on the old
// MAC until it goes PROBE, FAILED and INCOMPLETE: seconds without answer.)
func movedByAnnounce(ups []neighUpdate, mac net.HardwareAddr) (bool, string) {
	var seen []string
	for _, u := range ups {
		seen = append(seen, neighState(u.state)+" "+u.mac.String())
		if u.state&(netlink.NUD_PROBE|netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) != 0 {
			return false, strings.Join(seen, ", ")
		}
		if bytes.Equal(u.mac, mac) {
			return true, strings.Join(seen, ", ")
		}
	}
	return false, strings.Join(seen, ", ") + " (never " + mac.String() + ")"
}

// The service NIC set down and up inside the master (ifdown/ifup, a driver
// reset): h2 takes over, and once h1's NIC has been up for the settle time
// h1 reclaims; the client follows h1's announcement (its first send on the
// ARP socket that was open across the down now lands), without resolving
// the address again. Never two owners.
func TestPrivilegedAdminDownUpServiceNIC(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	neigh := watchNeigh(t, rg, rig.DefaultVIP.Addr())
	sampler := rg.Sample("web")

	t0 := time.Now()
	if err := rg.Lab.AdminDown("h1", "eth0"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h2", t0, "h1 eth0 admin down", "h1")
	waitFor(t, "h1 in fail", func(ctx context.Context) (bool, string) {
		s, _, err := rg.State(ctx, "h1", "web")
		return err == nil && s == "fail", s
	})
	mark2 := logMark(t, rg, "h2")
	t1 := time.Now()
	if err := rg.Lab.AdminUp("h1", "eth0"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "h1 eth0 admin up (reclaim)")
	_, overlaps, seq := sampler.Stop()
	t.Logf("VIP holders seen: %v", seq)
	if len(overlaps) > 0 {
		t.Errorf("VIP on two hosts at once: %v", overlaps)
	}
	if !logHas(t, rg.LogFile("h1"), "from=reclaim to=up") {
		t.Error("h1's return did not go through reclaim")
	}
	rel := grep(logSince(t, rg, "h2", mark2), "service state", "reclaimed by h1")
	if len(rel) == 0 {
		t.Fatal("h2's log shows no release to h1's reclaim")
	}
	released := logTime(rel[0])
	if ok, seen := movedByAnnounce(neigh.since(released), rg.Lab.Host("h1").MAC("eth0")); !ok {
		t.Errorf("the client's entry for the VIP after h2 released it: %s; want it moved to h1 by h1's announcement", seen)
	}
	o := rg.Prober("web").Outage(released.Add(-rig.ProbeInterval), time.Now())
	st, err := rg.Status(context.Background(), "h1")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reclaim after admin down/up: client saw %s; h1's announce failures %d (%s)", o, st.Services[0].AnnounceFailures, st.Services[0].AnnounceError)
}

// A master frozen longer than its VIP's lifetime (SIGSTOP, a paused VM):
// its address expires meanwhile and h2 takes over. Thawed, h1 finds it was
// away, drops its claims before anything else, and returns only by
// reclaim. At no sampled instant do both hosts hold the VIP; nobody alarms
// about a split brain or a duplicate address.
func TestPrivilegedFreezeLongerThanLifetime(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	t0 := time.Now()
	if err := rg.Lab.Freeze("h1"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h2", t0, "freeze h1", "h1")
	// The fault is a stop longer than the lifetime (2s): h1's kernel drops
	// its copy of the address meanwhile.
	waitFor(t, "h1's VIP expired while h1 is frozen", func(ctx context.Context) (bool, string) {
		present, err := rg.Present("h1", "web")
		return err == nil && !present && time.Since(t0) > 2*time.Second, "h1 still has it"
	})
	marks := map[string]int64{"h1": logMark(t, rg, "h1"), "h2": logMark(t, rg, "h2")}
	sampler := rg.Sample("web") // both hosts' address lists
	t1 := time.Now()
	if err := rg.Lab.Thaw("h1"); err != nil {
		t.Fatal(err)
	}
	settle(t, rg, "web", "h1", t1, "thaw h1 after "+t1.Sub(t0).Round(100*time.Millisecond).String())
	samples, overlaps, seq := sampler.Stop()
	t.Logf("VIP holders after the thaw (%d samples): %v", samples, seq)
	if len(overlaps) > 0 {
		t.Errorf("VIP on both hosts after the thaw: %v", overlaps)
	}
	h1 := logSince(t, rg, "h1", marks["h1"])
	if len(grep(h1, "ALARM", "stalled for", "dropping claims")) != 1 {
		t.Errorf("h1's log after the thaw has no single stall line:\n%s", strings.Join(grep(h1, "ALARM"), "\n"))
	}
	if len(grep(h1, "service state", "from=reclaim to=up")) == 0 {
		t.Error("h1's return after the thaw did not go through reclaim")
	}
	for _, h := range []string{"h1", "h2"} {
		lines := logSince(t, rg, h, marks[h])
		if bad := append(grep(lines, "split brain"), grep(lines, "duplicate address")...); len(bad) > 0 {
			t.Errorf("%s after the thaw:\n%s", h, strings.Join(bad, "\n"))
		}
	}
	st, err := rg.Status(context.Background(), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Stalls != 1 {
		t.Errorf("h1 status: %d stalls, want 1", st.Stalls)
	}
}

// The master's service NIC goes down and up every 150ms for 10s: the
// address moves out once and back once, after the flapping stopped; the
// status says flapping meanwhile.
func TestPrivilegedServiceNICFlap(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	sampler := rg.Sample("web")
	t0 := time.Now()
	tick := time.NewTicker(150 * time.Millisecond)
	end := time.Now().Add(10 * time.Second)
	down := false
	for ; time.Now().Before(end); <-tick.C {
		down = !down
		var err error
		if down {
			err = rg.Lab.AdminDown("h1", "eth0")
		} else {
			err = rg.Lab.AdminUp("h1", "eth0")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tick.Stop()
	if err := rg.Lab.AdminUp("h1", "eth0"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	st, err := rg.Status(context.Background(), "h1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Paths {
		if p.Name == "eth0" && !p.Flapping {
			t.Errorf("h1's own eth0 not flapping in status right after the flaps: %+v", p)
		}
	}
	if st.Services[0].State != "fail" {
		t.Errorf("h1 web %s right after the flaps, want fail (held)", st.Services[0].State)
	}
	settle(t, rg, "web", "h1", stopped, "flapping stopped")
	_, overlaps, seq := sampler.Stop()
	if len(overlaps) > 0 {
		t.Errorf("VIP on two hosts at once: %v", overlaps)
	}
	seq = append([]string{"h1"}, seq...) // it was h1's when the flaps began
	if n := ownerChanges(seq); n > 2 {
		t.Errorf("VIP changed owner %d times (%v), want at most 2", n, seq)
	} else {
		t.Logf("flap every 150ms for 10s: %d owner changes (%v); client saw %s from the first flap to h1's return",
			n, seq, rg.Prober("web").Outage(t0, time.Now()))
	}
	if !logHas(t, rg.LogFile("h1"), "from=reclaim to=up") {
		t.Error("h1's return did not go through reclaim")
	}
}

// ownerChanges counts the moves of the address in a Sampler sequence: each
// time it lands on another host than the one that held it last.
func ownerChanges(seq []string) int {
	n, last := 0, ""
	for _, h := range seq {
		if h == "-" || strings.Contains(h, "+") {
			continue
		}
		if last != "" && h != last {
			n++
		}
		last = h
	}
	return n
}

// The USB serial adapter at the master's end is unplugged and plugged back,
// coming back as another ttyUSBn behind the same by-id path; noise is
// written into the line. Each costs at most the serial path: no failover,
// and the path returns by itself.
func TestPrivilegedSerialReplugAndNoise(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	sampler := rg.Sample("web")
	c := rg.Lab.Cable("h1", "h2")
	before, _ := c.Nodes()
	if err := c.Unplug("h1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "h2 sees h1 degraded, serial0 down", func(ctx context.Context) (bool, string) {
		v, paths, err := peerState(ctx, rg, "h2", "h1")
		return err == nil && v == "degraded" && paths["serial0"] == "down", v + " " + fmtPaths(paths)
	})
	holds(t, rg, "web", "h1", 2)
	if err := c.Replug("h1"); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Nodes()
	t.Logf("h1's adapter: %s, then %s", before, after)
	allAlive(t, rg)
	for range 20 {
		if err := c.Inject("h2", []byte("\x00\x17 line noise \xff\xfe\x00garbage")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "h1 counts the noise as damaged frames on serial0", func(ctx context.Context) (bool, string) {
		st, err := rg.Status(ctx, "h1")
		if err != nil {
			return false, err.Error()
		}
		for _, p := range st.Paths {
			if p.Name == "serial0" {
				return p.Damaged > 0, fmt.Sprintf("damaged %d", p.Damaged)
			}
		}
		return false, "no serial0"
	})
	holds(t, rg, "web", "h1", 2)
	allAlive(t, rg)
	_, overlaps, seq := sampler.Stop()
	if len(overlaps) > 0 || ownerChanges(seq) > 0 {
		t.Errorf("the address moved: %v (overlaps %v)", seq, overlaps)
	}
	if logHas(t, rg.LogFile("h2"), "to=indoubt") {
		t.Error("h2 went indoubt: the serial faults cost more than the serial path")
	}
}

// A path on which the peer does not hear us is an alarm on our side and
// shows as one-way in the text status; forged and replayed frames are
// counted apart in the text status and logged once per source and minute.
func TestPrivilegedOneWayAndRejectedFrames(t *testing.T) {
	rg := newRig(t, rig.Options{})
	settle(t, rg, "web", "h1", time.Time{}, "start")
	allAlive(t, rg)
	mark := logMark(t, rg, "h1")
	if err := rg.Lab.Drop("h2", "eth1", lab.DirToHost); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "h1 alarms that h2 does not hear it on eth1", func(ctx context.Context) (bool, string) {
		st, err := rg.Status(ctx, "h1")
		if err != nil {
			return false, err.Error()
		}
		for _, a := range st.Alarms {
			if a.Text == "one-way: h2 does not hear us on eth1" {
				return true, ""
			}
		}
		return false, fmt.Sprint(st.Alarms)
	})
	out := mustFailover(t, "--socket", rg.Socket("h1"), "status")
	if !strings.Contains(out, "up one-way") {
		t.Errorf("status on h1 does not show eth1 one-way:\n%s", out)
	}
	if err := rg.Lab.Heal(); err != nil {
		t.Fatal(err)
	}

	// From the client (on eth0's segment): a datagram of garbage and a
	// heartbeat sealed with another key, three times each.
	var conn *net.UDPConn
	if err := rg.Lab.Client().Do(func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	to := netip.AddrPortFrom(rg.Lab.Host("h1").Addr("eth0"), 7405)                         // h1's heartbeat socket on eth0
	ring, err := transport.NewKeyring(map[uint8][]byte{1: bytes.Repeat([]byte{7}, 32)}, 1) // not the cluster's key
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := transport.NewSealer(crc32.ChecksumIEEE([]byte("lab")), ring)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		forged, err := sealer.Seal(transport.Frame{Kind: transport.KindHeartbeat, Node: "h2", Epoch: 1, Seq: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{forged, {1, 1, 0} /* shorter than a header */} {
			if _, err := conn.WriteToUDPAddrPort(b, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "h1 counts the rejected frames on eth0", func(ctx context.Context) (bool, string) {
		st, err := rg.Status(ctx, "h1")
		if err != nil {
			return false, err.Error()
		}
		for _, p := range st.Paths {
			if p.Name == "eth0" {
				return p.Damaged >= 3 && p.AuthFail >= 3, fmt.Sprintf("damaged %d, bad tag %d", p.Damaged, p.AuthFail)
			}
		}
		return false, "no eth0"
	})
	out = mustFailover(t, "--socket", rg.Socket("h1"), "status")
	if !strings.Contains(out, "BAD TAG  DAMAGED") {
		t.Errorf("status has no BAD TAG and DAMAGED columns:\n%s", out)
	}
	lines := grep(logSince(t, rg, "h1", mark), "level=INFO", "frame rejected", "path=eth0")
	if len(grep(lines, `why="bad tag"`)) != 1 || len(grep(lines, "why=malformed")) != 1 {
		t.Errorf("h1 logged, for three forged and three damaged frames from one source, want one line each:\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("failover status on h1:\n%s", out)
}
