//go:build !linux

package daemon

import (
	"context"
	"errors"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/transport"
	"github.com/failover-ha/failover/vip"
)

var errPlatform = errors.New("daemon: only Linux is supported")

// Net is the daemon's access to one host's network (Linux only).
type Net struct{}

func hostNet() (*Net, error) { return nil, errPlatform }

func (n *Net) inside(fn func() error) error { return fn() }

// Close does nothing.
func (n *Net) Close() error { return nil }

func (n *Net) newVIP(c vip.Config) (vipManager, error) { return nil, errPlatform }

func (n *Net) openUDP(p config.PathConfig) (transport.Path, error) { return nil, errPlatform }

func (n *Net) openSerial(p config.PathConfig, link func(transport.LinkEvent)) (transport.Path, error) {
	return nil, errPlatform
}

func (n *Net) ifIndex(name string) (int, error) { return 0, errPlatform }

func (n *Net) watchLinks(ctx context.Context, ifaces map[string]bool, fn func(string, bool, string)) error {
	<-ctx.Done()
	return nil
}
