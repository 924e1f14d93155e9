package serial

import (
	"os"
	"strconv"
	"testing"
	"time"

	bugst "go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// openPTY returns a pty master and the slave's path.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	m := os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { m.Close() })
	return m, "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
}

func TestOpenTTYReadsWritesAndCloses(t *testing.T) {
	m, slave := openPTY(t)
	p, err := OpenTTY(slave, &bugst.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("OpenTTY: %v", err)
	}
	defer p.Close()
	if err := p.ResetInputBuffer(); err != nil {
		t.Fatalf("ResetInputBuffer: %v", err)
	}

	// Bytes from the far end arrive unchanged (raw: no echo, no CR/LF
	// translation).
	in := []byte{0x00, 'a', '\r', '\n', 0x03, 0xff, 0x00}
	if _, err := m.Write(in); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 0, len(in))
	buf := make([]byte, 64)
	for len(got) < len(in) {
		n, err := p.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != string(in) {
		t.Errorf("read %q, want %q", got, in)
	}

	// Our writes reach the far end.
	if _, err := p.Write([]byte("out")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	n, err := m.Read(buf)
	if err != nil || string(buf[:n]) != "out" {
		t.Errorf("far end read %q, %v; want \"out\"", buf[:n], err)
	}

	// A read timeout is (0, nil), not an error.
	if err := p.SetReadTimeout(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Read(buf); n != 0 || err != nil {
		t.Errorf("Read after timeout = %d, %v; want 0, nil", n, err)
	}
	if err := p.SetReadTimeout(bugst.NoTimeout); err != nil {
		t.Fatal(err)
	}

	// Close unblocks a pending Read with an error.
	res := make(chan error, 1)
	go func() {
		_, err := p.Read(buf)
		res <- err
	}()
	p.Close() // before or during the Read: both must end it with an error
	if err := <-res; err == nil {
		t.Error("Read pending at Close returned no error")
	}
}

func TestOpenTTYHangup(t *testing.T) {
	m, slave := openPTY(t)
	p, err := OpenTTY(slave, &bugst.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatalf("OpenTTY: %v", err)
	}
	defer p.Close()
	res := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 16))
		res <- err
	}()
	m.Close() // the adapter is unplugged
	if err := <-res; err == nil {
		t.Error("Read after hang-up returned no error")
	}
}

func TestOpenTTYErrors(t *testing.T) {
	if _, err := OpenTTY("/dev/nonexistent-tty", &bugst.Mode{}); err == nil {
		t.Error("OpenTTY of a missing device succeeded")
	}
	if _, err := OpenTTY("/dev/null", &bugst.Mode{}); err == nil {
		t.Error("OpenTTY of /dev/null (not a tty) succeeded")
	}
	_, slave := openPTY(t)
	if _, err := OpenTTY(slave, &bugst.Mode{DataBits: 9}); err == nil {
		t.Error("OpenTTY with 9 data bits succeeded")
	}
}
