package lab_test

import (
	"bytes"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/failover-ha/failover/internal/lab"
)

func openPort(t *testing.T, path string) serial.Port {
	t.Helper()
	p, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if err := p.ResetInputBuffer(); err != nil {
		t.Fatalf("reset %s: %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func openCable(t *testing.T, c *lab.Cable) (a, b serial.Port) {
	t.Helper()
	if c == nil {
		t.Fatal("no cable")
	}
	pa, pb := c.Ends()
	return openPort(t, pa), openPort(t, pb)
}

// readUntil reads from p until want has arrived, within d. Other bytes
// before it are tolerated: pty numbers are reused, so a stray writer from an
// earlier run elsewhere on the machine may still hold an old path.
func readUntil(p serial.Port, want []byte, d time.Duration) ([]byte, error) {
	var got []byte
	deadline := time.Now().Add(d)
	buf := make([]byte, 256)
	for !bytes.Contains(got, want) {
		left := time.Until(deadline)
		if left <= 0 {
			return got, errors.New("timed out")
		}
		p.SetReadTimeout(left)
		k, err := p.Read(buf)
		if err != nil {
			return got, err
		}
		got = append(got, buf[:k]...)
	}
	return got, nil
}

// roundTrip checks that bytes cross the cable both ways.
func roundTrip(t *testing.T, a, b serial.Port, when string) {
	t.Helper()
	for _, d := range []struct {
		from, to serial.Port
		name     string
	}{{a, b, "a->b"}, {b, a, "b->a"}} {
		msg := []byte("hello " + d.name + " " + when)
		if _, err := d.from.Write(msg); err != nil {
			t.Fatalf("%s %s: write: %v", when, d.name, err)
		}
		got, err := readUntil(d.to, msg, 2*time.Second)
		if err != nil {
			t.Fatalf("%s %s: read %q, %v; want %q", when, d.name, got, err, msg)
		}
	}
}

// silent reports whether bytes written at either end fail to arrive: the
// reader's timeout expires with Read returning (0, nil).
func silent(t *testing.T, a, b serial.Port) bool {
	t.Helper()
	for _, d := range [][2]serial.Port{{a, b}, {b, a}} {
		if _, err := d[0].Write([]byte("lost")); err != nil {
			t.Fatalf("write: %v", err)
		}
		d[1].SetReadTimeout(200 * time.Millisecond)
		n, err := d[1].Read(make([]byte, 16))
		if n != 0 || err != nil {
			t.Logf("read = %d, %v; want 0, nil", n, err)
			return false
		}
	}
	return true
}

func TestPrivilegedSerial(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 3, Serial: [][2]int{{1, 2}}, NoClient: true})
	c := l.Cable("h2", "h1")
	if c == nil || l.Cable("h1", "h3") != nil {
		t.Fatalf("Cable lookup wrong: h1-h2 %v, h1-h3 %v", c, l.Cable("h1", "h3"))
	}
	pa, pb := c.Ends()
	if got := l.Host("h1").SerialPort("h2"); got != pa {
		t.Errorf("h1.SerialPort(h2) = %q, want %q", got, pa)
	}
	if got := l.Host("h2").SerialPort("h1"); got != pb {
		t.Errorf("h2.SerialPort(h1) = %q, want %q", got, pb)
	}
	if got := l.Host("h3").SerialPort("h1"); got != "" {
		t.Errorf("h3.SerialPort(h1) = %q, want none", got)
	}
	a, b := openCable(t, c)
	roundTrip(t, a, b, "fresh")
	top := t // ports reopened in subtests must outlive them

	t.Run("Cut", func(t *testing.T) {
		if err := c.Cut(); err != nil {
			t.Fatal(err)
		}
		if !silent(t, a, b) {
			t.Errorf("cut cable carries bytes")
		}
		if err := c.Heal(); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, a, b, "after cut+heal")
	})

	t.Run("Hangup", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() {
			a.SetReadTimeout(serial.NoTimeout)
			_, err := a.Read(make([]byte, 16))
			errc <- err
		}()
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
		for _, p := range []serial.Port{b} {
			p.SetReadTimeout(2 * time.Second)
			_, err := p.Read(make([]byte, 16))
			checkClosed(t, "idle reader", err)
		}
		select {
		case err := <-errc:
			checkClosed(t, "blocked reader", err)
		case <-time.After(5 * time.Second):
			t.Fatal("blocked reader still blocked 5 s after Hangup")
		}
		if p, err := serial.Open(pa, &serial.Mode{}); err == nil {
			p.Close()
			t.Errorf("opening %s after Hangup succeeded; want an error", pa)
		} else {
			t.Logf("open after Hangup: %v", err)
		}
		if err := c.Heal(); err != nil {
			t.Fatal(err)
		}
		a.Close()
		b.Close()
		a, b = openCable(top, c)
		roundTrip(t, a, b, "after hangup+heal")
	})

	t.Run("LabHeal", func(t *testing.T) {
		if err := c.Cut(); err != nil {
			t.Fatal(err)
		}
		if err := l.Heal(); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, a, b, "after lab heal")
	})
}

func checkClosed(t *testing.T, who string, err error) {
	t.Helper()
	var pe *serial.PortError
	if !errors.As(err, &pe) || pe.Code() != serial.PortClosed {
		t.Errorf("%s after Hangup: err = %v, want serial.PortError PortClosed", who, err)
	}
}

func TestPrivilegedCleanup(t *testing.T) {
	lab.Require(t)
	before := namedNS(t)
	l, err := lab.New(lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAILOVER_LAB_ECHO="+l.Host("h1").Addr("eth0").String()+":7777")
	if err := l.Host("h1").Start(cmd); err != nil {
		t.Fatal(err)
	}
	pa, pb := l.Cable("h1", "h2").Ends()
	dir := filepath.Dir(pa)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := procState(cmd.Process.Pid); s != "Z" && s != "gone" {
		t.Errorf("started process is %s after Close, want dead", s)
	}
	if err := cmd.Wait(); err == nil {
		t.Errorf("started process exited cleanly; want killed")
	}
	for _, p := range []string{pa, pb, dir} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after Close (%v)", p, err)
		}
	}
	if after := namedNS(t); len(after) > len(before) {
		t.Errorf("named namespaces before %v, after %v", before, after)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Pull("h1", "eth0"); err == nil {
		t.Errorf("Pull after Close succeeded")
	}
}

// namedNS lists fo-* named namespaces.
func namedNS(t *testing.T) []string {
	m, _ := filepath.Glob("/run/netns/fo-*")
	return m
}

// A USB serial adapter unplugged at one end: that host's port closes, its
// device node and stable path go; plugged back it is another ttyUSBn behind
// the same stable path, and the other host's port, never reopened, carries
// bytes again.
func TestPrivilegedSerialReplug(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	c := l.Cable("h1", "h2")
	pa, _ := c.Ends()
	if want := "/serial/by-id/"; !strings.Contains(pa, want) {
		t.Errorf("stable path %s has no %s", pa, want)
	}
	nodeA, nodeB := c.Nodes()
	if nodeA == "" || nodeB == "" || nodeA == nodeB {
		t.Fatalf("device nodes %q %q", nodeA, nodeB)
	}
	a, b := openCable(t, c)
	roundTrip(t, a, b, "fresh")
	errc := make(chan error, 1)
	go func() {
		a.SetReadTimeout(serial.NoTimeout)
		_, err := a.Read(make([]byte, 16))
		errc <- err
	}()
	if err := c.Unplug("h1"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		checkClosed(t, "h1's reader", err)
	case <-time.After(5 * time.Second):
		t.Fatal("h1's reader still blocked 5 s after Unplug")
	}
	for _, p := range []string{pa, nodeA} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Unplug (%v)", p, err)
		}
	}
	if p, err := serial.Open(pa, &serial.Mode{}); err == nil {
		p.Close()
		t.Errorf("opening %s while unplugged succeeded", pa)
	}
	if err := c.Inject("h1", []byte("x")); err == nil {
		t.Error("Inject at an unplugged end succeeded")
	}
	if err := c.Replug("h1"); err != nil {
		t.Fatal(err)
	}
	newA, newB := c.Nodes()
	if newA == "" || newA == nodeA || newB != nodeB {
		t.Errorf("after Replug nodes %q %q, want a new one for h1 (was %q) and %q for h2", newA, newB, nodeA, nodeB)
	}
	if target, err := os.Readlink(pa); err != nil || target != newA {
		t.Errorf("%s -> %q (%v), want %s", pa, target, err, newA)
	}
	a.Close()
	a = openPort(t, pa)
	roundTrip(t, a, b, "after replug (h2 never reopened)")

	// Heal plugs an unplugged end back too.
	if err := c.Unplug("h2"); err != nil {
		t.Fatal(err)
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	_, pb := c.Ends()
	b = openPort(t, pb)
	roundTrip(t, a, b, "after unplug and lab heal")
}
