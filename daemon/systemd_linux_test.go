//go:build linux

package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/lab"
)

// notifyListener is the service manager's end of $NOTIFY_SOCKET.
type notifyListener struct {
	t    *testing.T
	conn *net.UnixConn
}

type notifyMsg struct {
	at    time.Time
	lines []string
}

func (m notifyMsg) has(line string) bool {
	for _, l := range m.lines {
		if l == line {
			return true
		}
	}
	return false
}

func (m notifyMsg) status() string {
	for _, l := range m.lines {
		if s, ok := strings.CutPrefix(l, "STATUS="); ok {
			return s
		}
	}
	return ""
}

func listenNotify(t *testing.T) *notifyListener {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return &notifyListener{t: t, conn: conn}
}

// next returns the next message, or ok=false if none came within limit.
func (n *notifyListener) next(limit time.Duration) (notifyMsg, bool) {
	n.t.Helper()
	buf := make([]byte, 4096)
	n.conn.SetReadDeadline(time.Now().Add(limit))
	k, err := n.conn.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return notifyMsg{}, false
		}
		n.t.Fatalf("read notify socket: %v", err)
	}
	return notifyMsg{at: time.Now(), lines: strings.Split(string(buf[:k]), "\n")}, true
}

// until reads messages until one has line; it returns that message and the
// ones before it. The limit only keeps a broken daemon from hanging the test.
func (n *notifyListener) until(line string, limit time.Duration) (notifyMsg, []notifyMsg) {
	n.t.Helper()
	var before []notifyMsg
	end := time.Now().Add(limit)
	for {
		m, ok := n.next(time.Until(end))
		if !ok {
			n.t.Fatalf("no %s within %v; got %v", line, limit, before)
		}
		if m.has(line) {
			return m, before
		}
		before = append(before, m)
	}
}

// TestPrivilegedSystemdNotify runs a daemon under a fake service manager (a
// unixgram socket in $NOTIFY_SOCKET, $WATCHDOG_USEC = 100ms): READY=1 comes
// only once the daemon has decided and holds the VIP, STATUS= says so, the
// watchdog pings come from the loop and stop while the loop is stalled, and
// STOPPING=1 starts the hand-over.
func TestPrivilegedSystemdNotify(t *testing.T) {
	lab.Require(t)
	n := listenNotify(t)
	const watchdog = 100 * time.Millisecond
	t.Setenv("WATCHDOG_USEC", "100000")
	os.Unsetenv("WATCHDOG_PID")
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	dir := t.TempDir()
	h1 := l.Host("h1")
	start := time.Now()
	// h2 never runs: h1 listens for the startup period, then claims.
	d1 := startLabDaemon(t, l, dir, "h1", "h2")

	ready, before := n.until("READY=1", 10*time.Second)
	if !hasVIP(t, h1) {
		t.Error("READY=1 before the VIP is on h1")
	}
	if got := webState(t, d1.sock); got != "up" {
		t.Errorf("at READY=1 web is %s, want up", got)
	}
	if startup := d1.daemon.Config().Timers.Startup; ready.at.Sub(start) < startup {
		t.Errorf("READY=1 %v after the start, inside the startup listen (%v)", ready.at.Sub(start), startup)
	}
	status := ready.status()
	for i := len(before) - 1; status == "" && i >= 0; i-- {
		status = before[i].status()
	}
	if !strings.HasPrefix(status, "web up") || !strings.Contains(status, "peer h2") {
		t.Errorf("STATUS at READY = %q, want web up and the peer's verdict", status)
	}
	for _, m := range before {
		if strings.HasPrefix(m.status(), "web up") {
			t.Errorf("STATUS %q came before READY=1 in a message of its own", m.status())
		}
	}

	// The pings: from the loop, at most every half interval.
	var pings []time.Time
	for len(pings) < 4 {
		m, _ := n.until("WATCHDOG=1", 5*time.Second)
		pings = append(pings, m.at)
	}
	for i := 1; i < len(pings); i++ {
		if gap := pings[i].Sub(pings[i-1]); gap < watchdog/2-5*time.Millisecond {
			t.Errorf("pings %v apart, more often than half the watchdog interval", gap)
		}
	}

	// A stalled loop: a control request that does not return.
	stalled, release := make(chan struct{}), make(chan struct{})
	go d1.daemon.call(context.Background(), func(*session) { close(stalled); <-release })
	<-stalled
	for { // what the loop sent before it stalled
		if _, ok := n.next(0); !ok {
			break
		}
	}
	if m, ok := n.next(5 * watchdog); ok {
		t.Errorf("the loop is stalled, yet %q arrived", m.lines)
	}
	close(release)
	n.until("WATCHDOG=1", 5*time.Second) // pings resume with the loop

	d1.stop(t)
	n.until("STOPPING=1", 5*time.Second)
}
