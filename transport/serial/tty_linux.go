package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	bugst "go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// OpenTTY is the default Opener on Linux. It configures the device as
// go.bug.st/serial does (raw, 8N1 unless mode says otherwise, no flow
// control, exclusive access) but keeps it non-blocking and reads and writes
// through the Go runtime's poller: a reader waiting for the next frame
// parks its goroutine instead of holding a thread in select(2), so an idle
// line costs no wake-ups (a thread in a blocking system call keeps the
// runtime's monitor thread polling every 20 µs to 10 ms). Close unblocks a
// pending Read. Read returns (0, nil) after a SetReadTimeout expires, an
// error once the device hangs up (EIO from a pty whose master closed, end
// of file from an unplugged adapter).
func OpenTTY(name string, mode *bugst.Mode) (bugst.Port, error) {
	fd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err // ENOENT, EACCES, EBUSY: the errno says it
	}
	if err := configure(fd, mode); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("exclusive access (TIOCEXCL): %w", err)
	}
	// The fd is non-blocking, so os.NewFile puts it in the poller.
	f := os.NewFile(uintptr(fd), name)
	p, err := newTTY(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// configure sets raw mode and the line settings of mode.
func configure(fd int, mode *bugst.Mode) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS2)
	if err != nil {
		return fmt.Errorf("not a serial device (termios: %w)", err)
	}
	if err := setMode(t, mode); err != nil {
		return err
	}
	if err := unix.IoctlSetTermios(fd, unix.TCSETS2, t); err != nil {
		return fmt.Errorf("setting the line (termios): %w", err)
	}
	if mode.InitialStatusBits != nil {
		bits, err := unix.IoctlGetInt(fd, unix.TIOCMGET)
		if err != nil {
			return fmt.Errorf("modem status bits: %w", err)
		}
		bits = setBit(bits, unix.TIOCM_DTR, mode.InitialStatusBits.DTR)
		bits = setBit(bits, unix.TIOCM_RTS, mode.InitialStatusBits.RTS)
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCMSET, bits); err != nil {
			return fmt.Errorf("modem status bits: %w", err)
		}
	}
	return nil
}

func setBit(v, bit int, on bool) int {
	if on {
		return v | bit
	}
	return v &^ bit
}

// setMode edits t for raw 8-bit I/O with mode's speed, size, parity and
// stop bits (termios2, so any baud rate the driver accepts).
func setMode(t *unix.Termios, mode *bugst.Mode) error {
	t.Cflag |= unix.CREAD | unix.CLOCAL
	t.Cflag &^= unix.CRTSCTS
	t.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL | unix.ECHOCTL |
		unix.ECHOPRT | unix.ECHOKE | unix.ISIG | unix.IEXTEN
	t.Iflag &^= unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK | unix.IGNPAR | unix.PARMRK |
		unix.ISTRIP | unix.IGNBRK | unix.BRKINT | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IUCLC
	t.Oflag &^= unix.OPOST
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0

	baud := mode.BaudRate
	if baud == 0 {
		baud = 9600 // go.bug.st's default
	}
	if baud < 0 {
		return fmt.Errorf("baud rate %d", baud)
	}
	t.Cflag &^= unix.CBAUD | unix.CBAUDEX
	t.Cflag |= unix.BOTHER
	t.Ispeed, t.Ospeed = uint32(baud), uint32(baud)

	size := map[int]uint32{0: unix.CS8, 5: unix.CS5, 6: unix.CS6, 7: unix.CS7, 8: unix.CS8}
	cs, ok := size[mode.DataBits]
	if !ok {
		return fmt.Errorf("%d data bits: want 5..8", mode.DataBits)
	}
	t.Cflag = t.Cflag&^unix.CSIZE | cs

	t.Cflag &^= unix.PARENB | unix.PARODD | unix.CMSPAR
	switch mode.Parity {
	case bugst.NoParity:
	case bugst.OddParity:
		t.Cflag |= unix.PARENB | unix.PARODD
	case bugst.EvenParity:
		t.Cflag |= unix.PARENB
	case bugst.MarkParity:
		t.Cflag |= unix.PARENB | unix.PARODD | unix.CMSPAR
	case bugst.SpaceParity:
		t.Cflag |= unix.PARENB | unix.CMSPAR
	default:
		return fmt.Errorf("parity %d", mode.Parity)
	}
	if mode.Parity != bugst.NoParity {
		t.Iflag |= unix.INPCK
	}
	switch mode.StopBits {
	case bugst.OneStopBit:
		t.Cflag &^= unix.CSTOPB
	case bugst.TwoStopBits:
		t.Cflag |= unix.CSTOPB
	default:
		return fmt.Errorf("stop bits %d: want one or two", mode.StopBits)
	}
	return nil
}

// tty is a serial device read and written through the runtime's poller.
// Safe for one reader, one writer and Close at once.
type tty struct {
	f *os.File

	mu      sync.Mutex
	timeout time.Duration // bugst.NoTimeout or >= 0

	rc           syscall.RawConn
	rbuf, wbuf   []byte
	rn, wn       int
	rerr, werr   syscall.Errno
	rfunc, wfunc func(fd uintptr) bool
}

var _ bugst.Port = (*tty)(nil)

func newTTY(f *os.File) (*tty, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	p := &tty{f: f, timeout: bugst.NoTimeout, rc: rc}
	// Raw read(2) and write(2) on the non-blocking descriptor: they cannot
	// block, and the runtime's syscall bookkeeping would wake its monitor
	// thread (sysmon) from its idle sleep on every call. EAGAIN parks the
	// goroutine in the poller.
	p.rfunc = func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&p.rbuf[0])), uintptr(len(p.rbuf)))
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			p.rn, p.rerr = int(r), e
			return true
		}
	}
	p.wfunc = func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p.wbuf[0])), uintptr(len(p.wbuf)))
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			p.wn, p.werr = int(r), e
			return true
		}
	}
	return p, nil
}

// ioctl runs fn on the descriptor, kept open meanwhile.
func (p *tty) ioctl(fn func(fd int) error) error {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func (p *tty) SetMode(mode *bugst.Mode) error {
	return p.ioctl(func(fd int) error {
		t, err := unix.IoctlGetTermios(fd, unix.TCGETS2)
		if err != nil {
			return err
		}
		if err := setMode(t, mode); err != nil {
			return err
		}
		return unix.IoctlSetTermios(fd, unix.TCSETS2, t)
	})
}

// Read blocks (its goroutine, not a thread) until bytes arrive, the read
// timeout passes ((0, nil)) or the device fails or is closed (an error; end
// of file is io.EOF).
func (p *tty) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	timeout := p.timeout
	p.mu.Unlock()
	if timeout != bugst.NoTimeout {
		p.f.SetReadDeadline(time.Now().Add(timeout))
	}
	p.rbuf = b
	err := p.rc.Read(p.rfunc)
	p.rbuf = nil
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	case p.rerr != 0:
		return 0, &os.PathError{Op: "read", Path: p.f.Name(), Err: p.rerr}
	case p.rn == 0:
		return 0, io.EOF
	}
	return p.rn, nil
}

// Write writes all of b, parking in the poller while the output buffer is
// full.
func (p *tty) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		p.wbuf = b[done:]
		err := p.rc.Write(p.wfunc)
		p.wbuf = nil
		switch {
		case err != nil:
			return done, err
		case p.werr != 0:
			return done, &os.PathError{Op: "write", Path: p.f.Name(), Err: p.werr}
		case p.wn == 0:
			return done, io.ErrShortWrite
		}
		done += p.wn
	}
	return done, nil
}

func (p *tty) Drain() error {
	return p.ioctl(func(fd int) error { return unix.IoctlSetInt(fd, unix.TCSBRK, 1) })
}

func (p *tty) ResetInputBuffer() error {
	return p.ioctl(func(fd int) error { return unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH) })
}

func (p *tty) ResetOutputBuffer() error {
	return p.ioctl(func(fd int) error { return unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCOFLUSH) })
}

func (p *tty) modemBit(bit int, on bool) error {
	req := uint(unix.TIOCMBIC)
	if on {
		req = unix.TIOCMBIS
	}
	return p.ioctl(func(fd int) error { return unix.IoctlSetPointerInt(fd, req, bit) })
}

func (p *tty) SetDTR(on bool) error { return p.modemBit(unix.TIOCM_DTR, on) }
func (p *tty) SetRTS(on bool) error { return p.modemBit(unix.TIOCM_RTS, on) }

func (p *tty) GetModemStatusBits() (*bugst.ModemStatusBits, error) {
	var bits int
	err := p.ioctl(func(fd int) error {
		var err error
		bits, err = unix.IoctlGetInt(fd, unix.TIOCMGET)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &bugst.ModemStatusBits{
		CTS: bits&unix.TIOCM_CTS != 0, DSR: bits&unix.TIOCM_DSR != 0,
		RI: bits&unix.TIOCM_RI != 0, DCD: bits&unix.TIOCM_CD != 0,
	}, nil
}

func (p *tty) SetReadTimeout(t time.Duration) error {
	if t < 0 && t != bugst.NoTimeout {
		return fmt.Errorf("read timeout %s", t)
	}
	p.mu.Lock()
	p.timeout = t
	p.mu.Unlock()
	if t == bugst.NoTimeout {
		return p.f.SetReadDeadline(time.Time{})
	}
	return nil
}

// Close closes the device; a pending Read returns an error.
func (p *tty) Close() error { return p.f.Close() }

func (p *tty) Break(d time.Duration) error {
	if err := p.ioctl(func(fd int) error { return unix.IoctlSetInt(fd, unix.TIOCSBRK, 0) }); err != nil {
		return err
	}
	time.Sleep(d)
	return p.ioctl(func(fd int) error { return unix.IoctlSetInt(fd, unix.TIOCCBRK, 0) })
}
