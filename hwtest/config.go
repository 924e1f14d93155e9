package hwtest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
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

// fileConfig is the subset of failover.toml hwtest reads. Keys it does not
// know are ignored: the daemon's own loader validates the whole file.
type fileConfig struct {
	Node   string `toml:"node"`
	Timers struct {
		Interval string `toml:"interval"`
		Deadtime string `toml:"deadtime"`
	} `toml:"timers"`
	Path []struct {
		Name      string   `toml:"name"`
		Kind      string   `toml:"kind"`
		Interface string   `toml:"interface"`
		Multicast string   `toml:"multicast"`
		Unicast   []string `toml:"unicast"`
		Device    string   `toml:"device"`
	} `toml:"path"`
	Service []struct {
		Name      string `toml:"name"`
		VIP       string `toml:"vip"`
		Interface string `toml:"interface"`
	} `toml:"service"`
}

// ErrConfig marks errors about the configuration file (exit status 2).
var ErrConfig = errors.New("config")

// LoadNICConfig reads the NIC-relevant part of a failover.toml. Every error
// is one line "file:line: key: what is wrong" (or without line) and matches
// ErrConfig.
func LoadNICConfig(file string) (*NICConfig, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v: pass --config with the path of failover.toml", ErrConfig, file, unwrapPath(err))
	}
	return ParseNICConfig(file, b)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseNICConfig is LoadNICConfig on bytes already read.
func ParseNICConfig(file string, data []byte) (*NICConfig, error) {
	var fc fileConfig
	if _, err := toml.Decode(string(data), &fc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: %s:%d: %s", ErrConfig, file, pe.Position.Line, oneLine(pe.Message))
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, file, oneLine(err.Error()))
	}
	c := &NICConfig{File: file, Node: fc.Node}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s: %s", ErrConfig, file, key, fmt.Sprintf(format, args...)))
	}
	dur := func(key, s string, dst *time.Duration) {
		if s == "" {
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad(key, "%q is not a positive duration (write it like \"200ms\")", s)
			return
		}
		*dst = d
	}
	dur("timers.interval", fc.Timers.Interval, &c.Interval)
	dur("timers.deadtime", fc.Timers.Deadtime, &c.Deadtime)
	for i, p := range fc.Path {
		key := fmt.Sprintf("path[%d]", i+1)
		if p.Name != "" {
			key = fmt.Sprintf("path[%d] (%s)", i+1, p.Name)
		}
		kind := p.Kind
		if kind == "" {
			kind = "udp"
			if p.Device != "" {
				kind = "serial"
			}
		}
		if kind != "udp" {
			continue
		}
		np := NICPath{Name: p.Name, Interface: p.Interface}
		if np.Interface == "" {
			np.Interface = p.Name
		}
		if np.Interface == "" {
			bad(key+".interface", "missing: name the NIC this path uses")
			continue
		}
		if np.Name == "" {
			np.Name = np.Interface
		}
		if p.Multicast != "" {
			host := p.Multicast
			if ap, err := netip.ParseAddrPort(p.Multicast); err == nil {
				host = ap.Addr().String()
			}
			g, err := netip.ParseAddr(host)
			if err != nil || !g.Is4() || !g.IsMulticast() {
				bad(key+".multicast", "%q is not an IPv4 multicast group (like \"239.192.0.1:7405\")", p.Multicast)
			} else {
				np.Group = g
			}
		}
		for j, u := range p.Unicast {
			host := u
			if h, _, err := net.SplitHostPort(u); err == nil {
				host = h
			}
			a, err := netip.ParseAddr(host)
			if err != nil || !a.Is4() {
				bad(fmt.Sprintf("%s.unicast[%d]", key, j+1), "%q is not an IPv4 address (like \"198.18.1.2:7405\")", u)
				continue
			}
			np.Peers = append(np.Peers, a)
		}
		if !np.Group.IsValid() && len(np.Peers) == 0 {
			bad(key, "neither multicast nor unicast peers: nothing to probe")
		}
		c.Paths = append(c.Paths, np)
	}
	for i, s := range fc.Service {
		key := fmt.Sprintf("service[%d].vip", i+1)
		if s.VIP == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s.VIP)
		if err != nil {
			a, err2 := netip.ParseAddr(s.VIP)
			if err2 != nil {
				bad(key, "%q is not an address or prefix (like \"198.18.1.100/24\")", s.VIP)
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if !pfx.Addr().Is4() {
			continue // ARP probes are IPv4 only
		}
		c.VIPs = append(c.VIPs, VIPTarget{Service: s.Name, VIP: pfx, Interface: s.Interface})
	}
	if len(c.Paths) == 0 && len(errs) == 0 {
		bad("path", "no UDP path configured: add a [[path]] with kind = \"udp\" and interface")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimPrefix(s, "toml: ")
}
