package hwtest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/failover-ha/failover/daemon/config"
)

// NICConfig is what the NIC checks need from a failover.toml: the UDP paths
// with their NIC, multicast group and peer addresses, and the VIPs.
type NICConfig struct {
	File     string
	Node     string
	Paths    []NICPath
	VIPs     []VIPTarget
	Interval time.Duration // configured [timers] interval, 0 if unset
	Deadtime time.Duration // configured [timers] deadtime, 0 if unset
}

// NICPath is one UDP heartbeat path.
type NICPath struct {
	Name      string
	Interface string
	Group     netip.Addr   // multicast group; invalid when the path is unicast only
	Peers     []netip.Addr // unicast peer addresses on this NIC
}

// VIPTarget is one configured virtual address.
type VIPTarget struct {
	Service   string
	VIP       netip.Prefix
	Interface string // "" when the config leaves it to the daemon
}

// ErrConfig marks errors about the configuration file (exit status 2):
// errors.Is(err, ErrConfig).
var ErrConfig = errors.New("config")

type configError struct{ err error }

func (e configError) Error() string        { return e.err.Error() }
func (e configError) Unwrap() error        { return e.err }
func (e configError) Is(target error) bool { return target == ErrConfig }

// LoadNICConfig reads failover.toml with the daemon's own loader, so hwtest
// accepts exactly the files failoverd accepts, and keeps the NIC-relevant
// part. Errors match ErrConfig and list every problem, one per line, as
// "file:line: key: what is wrong".
func LoadNICConfig(file string) (*NICConfig, error) {
	if _, err := os.Stat(file); err != nil {
		return nil, configError{fmt.Errorf("%s: %v: pass --config with the path of this host's failover.toml", file, unwrapPath(err))}
	}
	c, err := config.Load(file)
	if err != nil {
		return nil, configError{err}
	}
	return nicOnly(FromDaemon(c))
}

func nicOnly(c *NICConfig) (*NICConfig, error) {
	if len(c.Paths) == 0 {
		return nil, configError{fmt.Errorf("%s: path: no [[path]] with kind = \"udp\": nothing for hwtest nic to check (use hwtest serial for serial paths)", c.File)}
	}
	return c, nil
}

// ParseNICConfig is LoadNICConfig on bytes already read; file names them in
// messages.
func ParseNICConfig(file string, data []byte) (*NICConfig, error) {
	c, err := config.Parse(file, data)
	if err != nil {
		return nil, configError{err}
	}
	return nicOnly(FromDaemon(c))
}

// FromDaemon keeps what the NIC checks need from a validated daemon config:
// the UDP paths (group and unicast peer addresses; their ports are the
// daemon's, hwtest probes on its own port) and the IPv4 VIPs.
func FromDaemon(c *config.Config) *NICConfig {
	nc := &NICConfig{File: c.File, Node: c.Node, Interval: c.Timers.Interval, Deadtime: c.Timers.Deadtime}
	for _, p := range c.Paths {
		if p.Kind != "udp" {
			continue
		}
		np := NICPath{Name: p.Name, Interface: p.Interface}
		if np.Name == "" {
			np.Name = p.Interface
		}
		if ap, err := netip.ParseAddrPort(p.Multicast); err == nil && ap.Addr().Is4() {
			np.Group = ap.Addr()
		}
		for _, u := range p.Unicast {
			if ap, err := netip.ParseAddrPort(u); err == nil && ap.Addr().Is4() {
				np.Peers = append(np.Peers, ap.Addr())
			}
		}
		nc.Paths = append(nc.Paths, np)
	}
	for _, s := range c.Services {
		if s.VIP.Addr().Is4() {
			nc.VIPs = append(nc.VIPs, VIPTarget{Service: s.Name, VIP: s.VIP, Interface: s.Interface})
		}
	}
	return nc
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
