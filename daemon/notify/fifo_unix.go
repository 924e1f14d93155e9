//go:build unix

package notify

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// fifoWriter writes lines to a FIFO with raw non-blocking system calls (an
// *os.File would park the goroutine on a full pipe).
type fifoWriter struct {
	fd int // -1: not open
}

func (w *fifoWriter) open(path string) error {
	flags := syscall.O_WRONLY | syscall.O_NONBLOCK | syscall.O_APPEND | syscall.O_CLOEXEC
	fd, err := syscall.Open(path, flags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if err = syscall.Mkfifo(path, 0o600); err == nil || errors.Is(err, fs.ErrExist) {
			fd, err = syscall.Open(path, flags, 0)
		}
	}
	switch {
	case errors.Is(err, syscall.ENXIO):
		return errors.New("no reader")
	case err != nil:
		return fmt.Errorf("open: %w", err)
	}
	w.fd = fd
	return nil
}

func (w *fifoWriter) write(path, line string) error {
	for attempt := 0; ; attempt++ {
		if w.fd < 0 {
			if err := w.open(path); err != nil {
				return err
			}
		}
		n, err := syscall.Write(w.fd, []byte(line))
		switch {
		case err == nil && n == len(line):
			return nil
		case err == nil:
			return fmt.Errorf("short write: %d of %d bytes", n, len(line))
		case errors.Is(err, syscall.EAGAIN):
			return errors.New("reader does not keep up (pipe full)")
		case errors.Is(err, syscall.EPIPE) && attempt == 0:
			w.close() // the reader left; a new one may be there
			continue
		case errors.Is(err, syscall.EPIPE):
			return errors.New("no reader")
		}
		return fmt.Errorf("write: %w", err)
	}
}

func (w *fifoWriter) close() {
	if w.fd >= 0 {
		syscall.Close(w.fd)
		w.fd = -1
	}
}
