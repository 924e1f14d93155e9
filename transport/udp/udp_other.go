//go:build !linux

package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

// sysIO is Linux only; New fails before it is needed elsewhere.
type sysIO struct{}

var errPlatform = errors.New("udp: unsupported platform")

func (p *Path) initIO() error { return errPlatform }

func (p *Path) recvmsg(buf []byte) (n, ifIndex int, from netip.AddrPort, err error) {
	return 0, 0, from, errPlatform
}

func (p *Path) sendto(b []byte, i int) error { return errPlatform }

func listen(ifname string, port uint16) (net.PacketConn, error) {
	return nil, fmt.Errorf("unsupported platform %s (needs SO_BINDTODEVICE)", runtime.GOOS)
}
