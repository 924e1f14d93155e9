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

// Cable is a null-modem cable between two hosts, each end on a USB serial
// adapter: two pty pairs whose master ends are joined by a relay. Each end
// has a device node (a symlink to its pty slave, standing for
// /dev/ttyUSBn) and a stable path to it in the style of
// /dev/serial/by-id; a host opens the stable path with go.bug.st/serial
// like a real port. Methods are safe for concurrent use.
type Cable struct {
	a, b cableEnd
	tty  *atomic.Int64 // the lab's device node numbers

	drop atomic.Bool // relay discards bytes (cut or an end frozen)

	mu     sync.Mutex
	cut    bool
	frozen bool
	hung   bool    // masters closed; Heal makes new ptys
	out    [2]bool // an end's adapter is unplugged (Unplug)
	closed bool
	pa, pb *pty
	relays sync.WaitGroup
}

type cableEnd struct {
	host string
	path string // stable symlink (by-id), to node
	node string // the device node now, a symlink to the pty slave; "" while unplugged
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

func newCable(dir string, tty *atomic.Int64, a, b string) (*Cable, error) {
	byID := filepath.Join(dir, "serial", "by-id")
	if err := os.MkdirAll(byID, 0o755); err != nil {
		return nil, fmt.Errorf("lab: serial cable %s-%s: %w", a, b, err)
	}
	c := &Cable{
		a:   cableEnd{host: a, path: filepath.Join(byID, "usb-fo-lab_"+a+"-"+b+"_"+a+"-if00-port0")},
		b:   cableEnd{host: b, path: filepath.Join(byID, "usb-fo-lab_"+a+"-"+b+"_"+b+"-if00-port0")},
		tty: tty,
	}
	if err := c.connect(); err != nil {
		return nil, fmt.Errorf("lab: serial cable %s-%s: %w", a, b, err)
	}
	return c, nil
}

// connect makes two new pty pairs, gives each a new device node, points the
// stable paths at them and starts the relay. c.mu must be held (or c not
// yet shared).
func (c *Cable) connect() error {
	pa, err := c.plug(&c.a)
	if err != nil {
		return err
	}
	pb, err := c.plug(&c.b)
	if err != nil {
		c.unplugEnd(&c.a, pa)
		return err
	}
	c.pa, c.pb, c.hung, c.out = pa, pb, false, [2]bool{}
	c.startRelays()
	return nil
}

// plug gives end a new pty pair and a new device node (the next
// ttyUSBn) and points its stable path at it, as udev does when an adapter
// is plugged in.
func (c *Cable) plug(end *cableEnd) (*pty, error) {
	p, err := openPTY()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(filepath.Dir(filepath.Dir(end.path)))
	node := filepath.Join(dir, "ttyUSB"+strconv.FormatInt(c.tty.Add(1)-1, 10))
	if err := relink(p.name, node); err != nil {
		p.close()
		return nil, err
	}
	if err := relink(node, end.path); err != nil {
		os.Remove(node)
		p.close()
		return nil, err
	}
	end.node = node
	return p, nil
}

// unplugEnd removes end's stable path and device node and closes its pty:
// a reader of the port gets PortClosed, an open fails with ENOENT (the
// kernel reuses pty numbers; the stable path never leads to another's).
func (c *Cable) unplugEnd(end *cableEnd, p *pty) {
	os.Remove(end.path)
	if end.node != "" {
		os.Remove(end.node)
		end.node = ""
	}
	p.close()
}

func (c *Cable) startRelays() {
	c.relays.Add(2)
	go c.relay(c.pa.master, c.pb.master)
	go c.relay(c.pb.master, c.pa.master)
}

// stopRelays ends both relays without closing the masters: a read deadline
// in the past wakes them.
func (c *Cable) stopRelays() {
	for _, p := range []*pty{c.pa, c.pb} {
		p.master.SetReadDeadline(time.Now().Add(-time.Second))
	}
	c.relays.Wait()
	for _, p := range []*pty{c.pa, c.pb} {
		p.master.SetReadDeadline(time.Time{})
	}
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
			// os.ErrClosed: Hangup, Unplug or Close; a deadline: the relays
			// are being restarted. Anything else (EIO) cannot heal by
			// itself either; Heal starts a new relay.
			return
		}
	}
}

// Ends returns the stable device paths of the two ends (host a's, host b's),
// in the style of /dev/serial/by-id: symlinks to the ends' device nodes.
// They are gone while the cable is hung up or that end unplugged, and come
// back (leading to new device nodes) with Heal or Replug.
func (c *Cable) Ends() (a, b string) { return c.a.path, c.b.path }

// Nodes returns the device nodes the ends lead to now ("" while unplugged).
func (c *Cable) Nodes() (a, b string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.a.node, c.b.node
}

// Unplug pulls the USB serial adapter at host's end: that end's port
// closes (a reader gets PortClosed), its device node and stable path
// disappear. The other end stays open and hears nothing. Replug (or Heal)
// plugs it back under a new device node name.
func (c *Cable) Unplug(host string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, err := c.end(host)
	switch {
	case err != nil:
		return err
	case c.hung || c.out[i]:
		return nil
	}
	c.stopRelays()
	end, p := &c.a, c.pa
	if i == 1 {
		end, p = &c.b, c.pb
	}
	c.unplugEnd(end, p)
	c.out[i] = true
	return nil
}

// Replug plugs the adapter at host's end back in, as the next ttyUSBn: the
// stable path leads to the new device node; the host must reopen it.
func (c *Cable) Replug(host string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, err := c.end(host)
	if err != nil {
		return err
	}
	return c.replug(i)
}

// replug plugs end i back if it is out. c.mu must be held.
func (c *Cable) replug(i int) error {
	if c.hung || !c.out[i] {
		return nil
	}
	end := &c.a
	if i == 1 {
		end = &c.b
	}
	p, err := c.plug(end)
	if err != nil {
		return fmt.Errorf("lab: replugging %s's end of %s-%s: %w", end.host, c.a.host, c.b.host, err)
	}
	if i == 0 {
		c.pa = p
	} else {
		c.pb = p
	}
	c.out[i] = false
	if !c.out[1-i] {
		c.startRelays()
	}
	return nil
}

// end returns 0 for host a's end, 1 for host b's; c.mu must be held.
func (c *Cable) end(host string) (int, error) {
	switch {
	case c.closed:
		return 0, errors.New("lab: cable closed")
	case host == c.a.host:
		return 0, nil
	case host == c.b.host:
		return 1, nil
	}
	return 0, fmt.Errorf("lab: cable %s-%s has no end at %q", c.a.host, c.b.host, host)
}

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
	// The paths go first: the kernel reuses pty numbers, and a host
	// reopening its path must get ENOENT (adapter gone), never somebody
	// else's new pty.
	if !c.out[0] {
		c.unplugEnd(&c.a, c.pa)
	}
	if !c.out[1] {
		c.unplugEnd(&c.b, c.pb)
	}
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
	for i := range 2 {
		if err := c.replug(i); err != nil {
			return err
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
	i, err := c.end(host)
	switch {
	case err != nil:
		return err
	case c.hung || c.out[i]:
		return fmt.Errorf("lab: cable %s-%s is unplugged at %s", c.a.host, c.b.host, host)
	}
	p := c.pa
	if i == 1 {
		p = c.pb
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
