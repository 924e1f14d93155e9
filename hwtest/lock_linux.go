//go:build linux

package hwtest

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockPort takes an advisory exclusive lock on the device. TIOCEXCL, which
// go.bug.st/serial sets, does not stop root; the lock makes a second hwtest
// (or any program that locks likewise) fail with "busy" even as root. The
// returned function releases it.
func lockPort(name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if err == unix.EWOULDBLOCK {
			return nil, unix.EBUSY
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func() { f.Close() }, nil
}
