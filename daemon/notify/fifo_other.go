//go:build !unix

package notify

import "errors"

// fifoWriter: FIFOs are a Unix thing; every line is dropped elsewhere.
type fifoWriter struct{ fd int }

func (w *fifoWriter) write(path, line string) error {
	return errors.New("notify_fifo is only supported on Unix")
}

func (w *fifoWriter) close() {}
