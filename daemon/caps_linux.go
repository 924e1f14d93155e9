//go:build linux

package daemon

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// effectiveCaps reads the process's effective capability set (capget(2)).
func effectiveCaps() (func(bit int) bool, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil, fmt.Errorf("daemon: read capabilities: %w", err)
	}
	return func(bit int) bool { return data[bit/32].Effective&(1<<(uint(bit)%32)) != 0 }, nil
}
