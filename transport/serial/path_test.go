package serial

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failover-ha/failover/transport"
	"github.com/google/go-cmp/cmp"
	bugst "go.bug.st/serial"
)

// fakeLine is a device that can be unplugged and replugged. Its ports
// deliver what the test feeds and record what the path writes.
type fakeLine struct {
	mu      sync.Mutex
	present bool
	opens   []time.Time
	port    *fakePort
	written []byte
	writes  int // Write calls
}

func (l *fakeLine) open(name string, mode *bugst.Mode) (bugst.Port, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opens = append(l.opens, time.Now())
	if !l.present {
		return nil, errors.New("no such file or directory")
	}
	l.port = &fakePort{line: l, in: make(chan []byte, 16), gone: make(chan struct{})}
	return l.port, nil
}

func (l *fakeLine) feed(b []byte) { l.mu.Lock(); p := l.port; l.mu.Unlock(); p.in <- b }

func (l *fakeLine) unplug() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.present = false
	l.port.hangup()
}

func (l *fakeLine) plug() { l.mu.Lock(); l.present = true; l.mu.Unlock() }

type fakePort struct {
	bugst.Port // unimplemented methods panic
	line       *fakeLine
	in         chan []byte
	gone       chan struct{}
	once       sync.Once
	resets     int
}

func (p *fakePort) hangup() { p.once.Do(func() { close(p.gone) }) }

func (p *fakePort) Read(b []byte) (int, error) {
	select {
	case d := <-p.in:
		return copy(b, d), nil
	case <-p.gone:
		return 0, errors.New("port has been closed")
	}
}

func (p *fakePort) Write(b []byte) (int, error) {
	select {
	case <-p.gone:
		return 0, errors.New("input/output error")
	default:
	}
	p.line.mu.Lock()
	p.line.written = append(p.line.written, b...)
	p.line.writes++
	p.line.mu.Unlock()
	return len(b), nil
}

func (p *fakePort) ResetInputBuffer() error { p.resets++; return nil }
func (p *fakePort) Close() error            { p.hangup(); return nil }

type events struct {
	mu sync.Mutex
	ev []string
}

func (e *events) add(ev transport.LinkEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := "down"
	if ev.Up {
		s = "up"
	}
	e.ev = append(e.ev, s+" "+strings.SplitN(ev.Reason, ":", 2)[0])
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.ev...)
}

func TestPathHangupAndReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := &fakeLine{present: true}
		var ev events
		p, err := New(Config{Name: "serial0", Port: "/dev/fake"}, WithOpener(line.open), WithLinkEvents(ev.add))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if line.port.resets != 1 {
			t.Errorf("ResetInputBuffer called %d times after open, want 1", line.port.resets)
		}
		// a frame split over two reads, behind some garbage
		enc := AppendFrame([]byte{9, 9, 9}, []byte("hello"))
		line.feed(enc[:5])
		line.feed(enc[5:])
		pk, err := p.Recv()
		if err != nil || string(pk.Data) != "hello" || pk.Path != "serial0" {
			t.Fatalf("Recv = %+v, %v", pk, err)
		}
		if err := p.Send([]byte("out")); err != nil {
			t.Fatal(err)
		}
		if got, want := string(line.written), string(AppendFrame(nil, []byte("out"))); got != want {
			t.Errorf("written %q, want %q", got, want)
		}

		start := time.Now()
		line.unplug()
		synctest.Wait()
		if err := p.Send([]byte("x")); !errors.Is(err, transport.ErrDown) {
			t.Errorf("Send while down: %v, want ErrDown", err)
		}
		time.Sleep(5 * time.Second) // fake time: backoff 50ms, 100, 200, ... 2s
		line.plug()
		time.Sleep(time.Second)
		synctest.Wait()

		if diff := cmp.Diff([]string{"up port opened", "down port closed", "up port reopened"}, ev.get()); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		var gaps []time.Duration
		for _, o := range line.opens[1:] {
			gaps = append(gaps, o.Sub(start))
			start = o
		}
		want := []time.Duration{50, 100, 200, 400, 800, 1600, 2000}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if diff := cmp.Diff(want, gaps); diff != "" {
			t.Errorf("reopen backoff (-want +got):\n%s", diff)
		}
		line.feed(AppendFrame(nil, []byte("again")))
		if pk, err := p.Recv(); err != nil || string(pk.Data) != "again" {
			t.Fatalf("Recv after reopen = %+v, %v", pk, err)
		}
		c := p.Counters().Snapshot()
		if c.FramesRecv != 2 || c.FramesSent != 1 || c.Malformed != 1 || c.SendErrors != 1 {
			t.Errorf("counters %+v", c)
		}
	})
}

func TestPathCloseUnblocksRecv(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := &fakeLine{present: true}
		p, err := New(Config{Name: "serial0", Port: "/dev/fake"}, WithOpener(line.open))
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error)
		go func() { _, err := p.Recv(); errc <- err }()
		synctest.Wait()
		p.Close()
		if err := <-errc; !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Recv after Close: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := p.Send([]byte("x")); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
	})
}

// Send hands a whole framed payload to the port in one Write: a UART
// driver with room takes it in one write(2), so frames never interleave
// and the line's backlog grows by whole frames (docs/design.md, "Writes").
func TestPathSendOneWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := &fakeLine{present: true}
		p, err := New(Config{Name: "serial0", Port: "/dev/fake"}, WithOpener(line.open))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		payloads := [][]byte{bytes.Repeat([]byte{0, 1, 2}, 80), bytes.Repeat([]byte{7}, 217)}
		var want []byte
		for i, pl := range payloads {
			if err := p.Send(pl); err != nil {
				t.Fatal(err)
			}
			want = AppendFrame(want, pl)
			line.mu.Lock()
			writes, n := line.writes, len(line.written)
			line.mu.Unlock()
			if writes != i+1 || n != len(want) {
				t.Errorf("after %d frames: %d writes, %d bytes; want %d writes, %d bytes", i+1, writes, n, i+1, len(want))
			}
		}
		line.mu.Lock()
		defer line.mu.Unlock()
		if !bytes.Equal(line.written, want) {
			t.Errorf("line carries %x, want %x", line.written, want)
		}
	})
}

func TestPathCloseWhileReopening(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := &fakeLine{present: true}
		p, err := New(Config{Name: "serial0", Port: "/dev/fake"}, WithOpener(line.open))
		if err != nil {
			t.Fatal(err)
		}
		line.unplug()
		time.Sleep(time.Second)
		p.Close() // returns only once the reader goroutine is gone
	})
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	notTTY := filepath.Join(dir, "file")
	os.WriteFile(notTTY, nil, 0o600)
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Name: "serial0", Port: filepath.Join(dir, "ttyS9")}, "serial path serial0: open " + dir + "/ttyS9: no such file"},
		{Config{Name: "serial0", Port: notTTY}, "serial path serial0: open " + notTTY},
		{Config{Port: "x", Baud: -1}, "name is empty"},
	} {
		_, err := New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want it to contain %q", tt.cfg, err, tt.want)
		}
	}
}

// links is a fake /dev/serial/by-id: where each name leads.
type links struct {
	mu sync.Mutex
	to map[string]string
}

func (l *links) set(name, dev string) { l.mu.Lock(); l.to[name] = dev; l.mu.Unlock() }

func (l *links) resolve(name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.to[name]; ok && d != "" {
		return d, nil
	}
	return "", os.ErrNotExist
}

// An adapter that came back as another device while the old port still
// looked open: the by-id name leads elsewhere, so the path closes the old
// port and opens the name again, within one follow period, and says where
// it now leads.
func TestPathFollowsByIDLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := &fakeLine{present: true}
		byID := &links{to: map[string]string{"/dev/serial/by-id/usb-x": "/dev/ttyUSB0"}}
		var ev events
		var reasons []string
		var rmu sync.Mutex
		p, err := New(Config{Name: "serial0", Port: "/dev/serial/by-id/usb-x"}, WithOpener(line.open),
			WithResolver(byID.resolve), WithLinkEvents(func(e transport.LinkEvent) {
				ev.add(e)
				rmu.Lock()
				reasons = append(reasons, e.Reason)
				rmu.Unlock()
			}))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		time.Sleep(3 * time.Second) // fake time: three checks, nothing moved
		synctest.Wait()
		if n := len(line.opens); n != 1 {
			t.Fatalf("%d opens while the link stayed, want 1", n)
		}
		byID.set("/dev/serial/by-id/usb-x", "/dev/ttyUSB1")
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		if diff := cmp.Diff([]string{"up port opened", "down port closed", "up port reopened"}, ev.get()); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		rmu.Lock()
		got := strings.Join(reasons, " | ")
		rmu.Unlock()
		for _, want := range []string{"device moved: /dev/serial/by-id/usb-x led to /dev/ttyUSB0, now to /dev/ttyUSB1",
			"port reopened: /dev/serial/by-id/usb-x -> /dev/ttyUSB1"} {
			if !strings.Contains(got, want) {
				t.Errorf("link event reasons %q lack %q", got, want)
			}
		}
		line.feed(AppendFrame(nil, []byte("moved")))
		if pk, err := p.Recv(); err != nil || string(pk.Data) != "moved" {
			t.Fatalf("Recv after the move = %+v, %v", pk, err)
		}
	})
}

// A name that cannot be resolved at open (not a link, a fake) is not
// followed: the path never closes a working port for it.
func TestPathUnresolvedNotFollowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := &fakeLine{present: true}
		p, err := New(Config{Name: "serial0", Port: "/dev/fake"}, WithOpener(line.open),
			WithResolver(func(string) (string, error) { return "", os.ErrNotExist }))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := len(line.opens); n != 1 {
			t.Errorf("%d opens, want 1", n)
		}
	})
}
