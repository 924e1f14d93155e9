//go:build !linux

package vip

import (
	"context"
	"net"

	"github.com/vishvananda/netlink"
)

// Linux is the netlink and ARP implementation of Manager. On this platform
// every method returns ErrUnsupported.
type Linux struct{}

var (
	_ Manager = (*Linux)(nil)
	_ Cleaner = (*Linux)(nil)
	_ Watcher = (*Linux)(nil)
)

// NewLinux returns ErrUnsupported on platforms other than Linux.
func NewLinux(h *netlink.Handle, cfg Config, opts ...Option) (*Linux, error) {
	return nil, ErrUnsupported
}

func (*Linux) Ensure(context.Context) error                        { return ErrUnsupported }
func (*Linux) Release(context.Context) error                       { return ErrUnsupported }
func (*Linux) Present(context.Context) (bool, error)               { return false, ErrUnsupported }
func (*Linux) Announce(context.Context) error                      { return ErrUnsupported }
func (*Linux) Probe(context.Context) (net.HardwareAddr, error)     { return nil, ErrUnsupported }
func (*Linux) Cleanup(context.Context) (bool, error)               { return false, ErrUnsupported }
func (*Linux) Watch(context.Context, func(net.HardwareAddr)) error { return ErrUnsupported }
func (*Linux) Close() error                                        { return nil }
