package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Cable is a null-modem cable between two hosts: two pty pairs whose master
// ends are joined by a relay. Each host opens its end's stable path (a
// symlink to the pty slave) with go.bug.st/serial like a real /dev/ttyS0.
// Methods are safe for concurrent use.
type Cable struct {
	a, b cableEnd

	drop atomic.Bool // relay discards bytes (cut or an end frozen)

	mu     sync.Mutex
	cut    bool
	frozen bool
	hung   bool // masters closed; Heal makes new ptys
	closed bool
	pa, pb *pty
	relays sync.WaitGroup
}

type cableEnd struct {
	host string
	path string // stable symlink
}

// pty is one pty pair: the master the relay uses and a slave fd the lab
// keeps open so the master never sees a hang-up when a host closes its end.
type pty struct {
	master *os.File
	slave  int
	name   string // /dev/pts/N
}

// openPTY opens a pty pair in raw mode. The master is non-blocking so that
// closing it wakes a relay blocked reading it.
func openPTY() (*pty, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening /dev/ptmx: %w", err)
	}
	fail := func(what string, err error) (*pty, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		return fail("unlocking pty (TIOCSPTLCK)", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		return fail("naming pty (TIOCGPTN)", err)
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	s, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail("opening "+name, err)
	}
	if err := makeRaw(s); err != nil {
		unix.Close(s)
		return fail("setting "+name+" raw", err)
	}
	return &pty{master: os.NewFile(uintptr(fd), "ptmx:"+name), slave: s, name: name}, nil
}

// makeRaw is cfmakeraw(3): no echo, no line editing, no translation, so the
// relay never sees its own bytes come back before a host opens the port.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

func (p *pty) close() {
	p.master.Close()
	unix.Close(p.slave)
}

func newCable(dir, a, b string) (*Cable, error) {
	c := &Cable{
		a: cableEnd{a, filepath.Join(dir, a+"-"+b+"."+a)},
		b: cableEnd{b, filepath.Join(dir, a+"-"+b+"."+b)},
	}
	if err := c.connect(); err != nil {
		return nil, fmt.Errorf("lab: serial cable %s-%s: %w", a, b, err)
	}
	return c, nil
}

// connect makes two new pty pairs, points the stable paths at them and
// starts the relay. c.mu must be held (or c not yet shared).
func (c *Cable) connect() error {
	pa, err := openPTY()
	if err != nil {
		return err
	}
	pb, err := openPTY()
	if err != nil {
		pa.close()
		return err
	}
	for _, x := range []struct {
		p   *pty
		end cableEnd
	}{{pa, c.a}, {pb, c.b}} {
		if err := relink(x.p.name, x.end.path); err != nil {
			pa.close()
			pb.close()
			return err
		}
	}
	c.pa, c.pb, c.hung = pa, pb, false
	c.relays.Add(2)
	go c.relay(pa.master, pb.master)
	go c.relay(pb.master, pa.master)
	return nil
}

// relink atomically points link at target.
func relink(target, link string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("linking %s: %w", link, err)
	}
	return nil
}

// relay copies src to dst until src is closed. Bytes are discarded while
// the cable is cut, and when dst cannot take them within relayWait (nobody
// reads that end), as a UART without flow control would overrun.
func (c *Cable) relay(src, dst *os.File) {
	defer c.relays.Done()
	const relayWait = 100 * time.Millisecond
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 && !c.drop.Load() {
			dst.SetWriteDeadline(time.Now().Add(relayWait))
			dst.Write(buf[:n])
		}
		if err != nil {
			// os.ErrClosed: Hangup or Close. Anything else (EIO) cannot
			// heal by itself either; Heal starts a new relay.
			return
		}
	}
}

// Ends returns the stable device paths of the two ends (host a's, host b's).
// They are symlinks that survive Hangup and Heal.
func (c *Cable) Ends() (a, b string) { return c.a.path, c.b.path }

// Hosts returns the names of the hosts at the ends, in the order of Ends.
func (c *Cable) Hosts() (a, b string) { return c.a.host, c.b.host }

// Cut makes the relay discard bytes silently in both directions; readers
// time out. Heal restores it.
func (c *Cable) Cut() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("lab: cable closed")
	}
	c.cut = true
	c.update()
	return nil
}

// Hangup closes both master ends: a go.bug.st/serial reader on either end
// gets a PortError with code PortClosed, as when a USB adapter is unplugged.
// Heal puts new ptys behind the same paths.
func (c *Cable) Hangup() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("lab: cable closed")
	}
	c.hangup()
	return nil
}

func (c *Cable) hangup() {
	if c.hung {
		return
	}
	c.hung = true
	// Point the paths nowhere first: the kernel reuses pty numbers, and a
	// host reopening its path must get ENOENT (adapter gone), never
	// somebody else's new pty.
	for _, e := range []cableEnd{c.a, c.b} {
		relink(e.path+".unplugged", e.path)
	}
	c.pa.close()
	c.pb.close()
	c.relays.Wait()
}

// Heal undoes Cut and Hangup. After a hangup the hosts must reopen their
// ports: the same paths now lead to new ptys.
func (c *Cable) Heal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("lab: cable closed")
	}
	c.cut = false
	c.update()
	if c.hung {
		if err := c.connect(); err != nil {
			return fmt.Errorf("lab: healing serial cable %s-%s: %w", c.a.host, c.b.host, err)
		}
	}
	return nil
}

// Inject writes b into the line at host's end, as a second program holding
// that port would (garbage between a host's frames). The relay carries it to
// the other end like any byte. It needs no second open of the port, which
// go.bug.st/serial holds exclusively (TIOCEXCL: only real root may reopen).
func (c *Cable) Inject(host string, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var p *pty
	switch {
	case c.closed || c.hung:
		return fmt.Errorf("lab: cable %s-%s is unplugged", c.a.host, c.b.host)
	case host == c.a.host:
		p = c.pa
	case host == c.b.host:
		p = c.pb
	default:
		return fmt.Errorf("lab: cable %s-%s has no end at %q", c.a.host, c.b.host, host)
	}
	deadline := time.Now().Add(time.Second)
	for len(b) > 0 {
		n, err := unix.Write(p.slave, b)
		if n > 0 {
			b = b[n:]
		}
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			if time.Now().After(deadline) {
				return fmt.Errorf("lab: injecting into %s's end of %s-%s: line full", host, c.a.host, c.b.host)
			}
			unix.Poll([]unix.PollFd{{Fd: int32(p.slave), Events: unix.POLLOUT}}, 10)
		case err != nil:
			return fmt.Errorf("lab: injecting into %s's end of %s-%s: %w", host, c.a.host, c.b.host, err)
		}
	}
	return nil
}

func (c *Cable) setFrozen(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = on
	c.update()
}

// update recomputes drop. c.mu must be held.
func (c *Cable) update() { c.drop.Store(c.cut || c.frozen) }

// close hangs up and removes the symlinks.
func (c *Cable) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.hangup()
	var errs []error
	for _, p := range []string{c.a.path, c.b.path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("lab: removing %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// SerialPort returns this host's device path for the cable to peer, or "".
func (h *Host) SerialPort(peer string) string {
	c := h.lab.Cable(h.name, peer)
	switch {
	case c == nil:
		return ""
	case c.a.host == h.name:
		return c.a.path
	default:
		return c.b.path
	}
}
