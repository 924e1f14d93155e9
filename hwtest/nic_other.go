//go:build !linux

package hwtest

import (
	"context"
	"errors"
)

// errNotLinux is returned by the NIC checks on systems other than Linux.
var errNotLinux = errors.New("hwtest: NIC checks need Linux (netlink, SO_BINDTODEVICE)")

// Prober runs `hwtest nic`; it exists only on Linux.
type Prober struct{}

// OpenProber fails on this system.
func OpenProber(NICConfig, NICOptions) (*Prober, error) { return nil, errNotLinux }

// Run is never reached on this system.
func (*Prober) Run(context.Context) *Report { return &Report{Command: "nic"} }

// Close does nothing.
func (*Prober) Close() error { return nil }

// Responder answers NIC probes; it exists only on Linux.
type Responder struct{}

// OpenResponder fails on this system.
func OpenResponder(NICConfig, NICOptions) (*Responder, error) { return nil, errNotLinux }

// Run is never reached on this system.
func (*Responder) Run(context.Context) error { return errNotLinux }

// Close does nothing.
func (*Responder) Close() error { return nil }
