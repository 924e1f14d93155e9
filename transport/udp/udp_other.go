//go:build !linux

package udp

import (
	"fmt"
	"net"
	"runtime"
)

func listen(ifname string, port uint16) (net.PacketConn, error) {
	return nil, fmt.Errorf("unsupported platform %s (needs SO_BINDTODEVICE)", runtime.GOOS)
}
