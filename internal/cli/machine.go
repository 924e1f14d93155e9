package cli

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// machine is what "failover setup" detects on this host for its defaults.
type machine struct {
	hostname string       // as the kernel has it, maybe with a domain
	nics     []machineNIC // not loopback, sorted by name
	serial   []string     // serial ports the enumerator lists, sorted
}

// machineNIC is one network interface.
type machineNIC struct {
	name    string
	carrier bool           // up and running (IFF_UP and IFF_RUNNING: link detected)
	addrs   []netip.Prefix // its addresses with their prefix lengths
}

// nic returns the interface named name.
func (m *machine) nic(name string) (machineNIC, bool) {
	for _, n := range m.nics {
		if n.name == name {
			return n, true
		}
	}
	return machineNIC{}, false
}

// ownAddr reports which interface carries a, if any.
func (m *machine) ownAddr(a netip.Addr) (string, bool) {
	for _, n := range m.nics {
		for _, p := range n.addrs {
			if p.Addr() == a {
				return n.name, true
			}
		}
	}
	return "", false
}

// nicNames lists the interface names, for messages.
func (m *machine) nicNames() string {
	var s []string
	for _, n := range m.nics {
		s = append(s, n.name)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

// first4 is the first IPv4 address of nic n (its address on that LAN).
func (n machineNIC) first4() (netip.Addr, bool) {
	for _, p := range n.addrs {
		if p.Addr().Is4() {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// detectMachine reads this host's interfaces, addresses and serial ports.
func detectMachine() (machine, error) {
	var m machine
	m.hostname, _ = os.Hostname()
	ifs, err := net.Interfaces()
	if err != nil {
		return m, fmt.Errorf("list network interfaces: %w", err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		n := machineNIC{name: ifc.Name, carrier: ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagRunning != 0}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			bits, _ := ipn.Mask.Size()
			n.addrs = append(n.addrs, netip.PrefixFrom(ip.Unmap(), bits))
		}
		m.nics = append(m.nics, n)
	}
	slices.SortFunc(m.nics, func(a, b machineNIC) int { return strings.Compare(a.name, b.name) })
	if details, err := enumerator.GetDetailedPortsList(); err == nil {
		for _, d := range details {
			m.serial = append(m.serial, d.Name)
		}
	} else if names, err := serial.GetPortsList(); err == nil {
		m.serial = names
	}
	slices.Sort(m.serial)
	return m, nil
}
