package vip

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrNotPresent is returned by Announce when the address is not on the
	// interface: announcing an address we do not hold would steal traffic
	// for nothing.
	ErrNotPresent = errors.New("address not on the interface")
	// ErrLate is returned by Announce when a round came due more than
	// Config.StaleAfter before it could be sent (the process stood still):
	// the owner's claim may be stale, so the round was not sent.
	ErrLate = errors.New("announcement round came too late")
	// ErrUnsupported is returned by the stub on platforms other than Linux.
	ErrUnsupported = errors.New("vip: not supported on this platform")
)

// maxIfNameLen is IFNAMSIZ-1: the kernel stores labels in a 16-byte buffer
// including the terminating NUL.
const maxIfNameLen = 15

// DefaultConfig returns a Config for addr on iface with the preset timings.
func DefaultConfig(addr netip.Prefix, iface string) Config {
	return Config{
		Addr:      addr,
		Interface: iface,
		// 2 s: the kernel checks IPv4 lifetimes on whole-second ticks, so a
		// dead owner's address is gone within Lifetime+1 s (about 3 s, see
		// docs/design.md); shorter values are rounded up to 1 s anyway.
		Lifetime: 2 * time.Second,
		// 3 pairs: one lost frame on a busy switch must not leave clients on
		// the old owner; more adds nothing measurable in the lab.
		AnnounceCount: 3,
		// 200 ms: long enough to step over a switch port that is still
		// learning, short enough that all pairs go out within half a second.
		AnnounceInterval: 200 * time.Millisecond,
		// 200 ms: a live owner answers an ARP request in well under 1 ms on a
		// LAN; 200 ms allows for a busy host without delaying takeover much.
		ProbeWindow: 200 * time.Millisecond,
		// 10 s: refreshes switch and client caches (and heals a client that
		// missed the takeover burst) at negligible traffic.
		AnnounceRefresh: 10 * time.Second,
	}
}

// ParseAddr parses a VIP as written in a configuration file: "198.18.1.100"
// (a /32, or /128 for IPv6) or "198.18.1.100/24".
func ParseAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("vip: %w", err)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("vip: %w", err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// EnsureEvery is how often an owner should call Ensure so that the kernel
// lifetime never runs out while it is alive: a quarter of Lifetime, so three
// refreshes in a row may be late or fail before the address expires. It is 0
// when Lifetime is 0 (the address never expires; one Ensure suffices).
func (c Config) EnsureEvery() time.Duration {
	return c.Lifetime / 4
}

// Validate reports every problem of the configuration that can be seen
// without looking at the kernel, joined with errors.Join. Each message names
// the key (vip, interface, label, prefix, lifetime, announce_count,
// announce_interval, probe_window, announce_refresh). NewLinux adds the
// checks that need the interface (it exists, it has an IPv4 address, the VIP
// is not the host's own address, the prefix does not cover the host's
// address).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("vip: "+format, a...))
	}
	a := c.Addr.Addr()
	switch {
	case !c.Addr.IsValid():
		bad("vip: missing or invalid address %q", c.Addr.String())
	case a.Zone() != "":
		bad("vip: %s: zones are not allowed", c.Addr)
	case a.Is4In6():
		bad("vip: %s: write IPv4 addresses as IPv4", c.Addr)
	case a.IsUnspecified(), a.IsMulticast(), a.IsLoopback(), a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		bad("vip: %s is not a unicast address", a)
	case a.Is6() && a.IsLinkLocalUnicast():
		bad("vip: %s: link-local addresses cannot float", a)
	}
	if c.Addr.IsValid() && a.Is4() && c.Addr.Bits() < 31 && c.Addr.Bits() > 0 {
		p := c.Addr.Masked()
		if a == p.Addr() {
			bad("prefix: %s: the address is the network address of its prefix", c.Addr)
		}
		if a == lastAddr(p) {
			bad("prefix: %s: the address is the broadcast address of its prefix", c.Addr)
		}
	}
	if c.Addr.IsValid() && c.Addr.Bits() == 0 {
		bad("prefix: %s: a /0 would swallow every address", c.Addr)
	}
	if err := validIfName(c.Interface); err != nil {
		bad("interface: %w", err)
	}
	if c.Label != "" {
		if err := validLabel(c.Label, c.Interface); err != nil {
			bad("label: %w", err)
		}
		if c.Addr.IsValid() && c.Addr.Addr().Is6() {
			bad("label: %q: IPv6 addresses have no labels", c.Label)
		}
	}
	switch {
	case c.Lifetime < 0:
		bad("lifetime: %v is negative", c.Lifetime)
	case c.Lifetime > 0 && c.Lifetime < time.Second:
		bad("lifetime: %v: the kernel counts lifetimes in whole seconds; use 0 (forever) or at least 1s", c.Lifetime)
	case c.Lifetime%time.Second != 0:
		bad("lifetime: %v: the kernel counts lifetimes in whole seconds", c.Lifetime)
	}
	if c.AnnounceCount < 0 {
		bad("announce_count: %d is negative", c.AnnounceCount)
	}
	if c.AnnounceInterval < 0 {
		bad("announce_interval: %v is negative", c.AnnounceInterval)
	}
	if c.ProbeWindow < 0 {
		bad("probe_window: %v is negative", c.ProbeWindow)
	}
	if c.StaleAfter < 0 {
		bad("stale_after: %v is negative", c.StaleAfter)
	}
	if c.AnnounceRefresh < 0 {
		bad("announce_refresh: %v is negative", c.AnnounceRefresh)
	}
	return errors.Join(errs...)
}

// CheckHostAddrs checks the VIP against own, the addresses the interface
// carries (as the kernel lists them, with their prefix lengths): the VIP must
// not be one of them, its prefix must not cover one (a /16 VIP over the
// host's 198.18.1.1/24 would swallow the host's own subnet), and an IPv4 VIP
// needs an IPv4 address of the interface's own (ARP announcements are sent
// from it). An address equal to the VIP with the VIP's prefix is a stale copy
// of ours and is ignored; so are IPv6 link-local addresses. Every problem is
// reported (errors.Join), each naming its key (vip, prefix, interface).
// NewLinux calls it with the interface's addresses; "failover setup" with
// the ones it detected.
func (c Config) CheckHostAddrs(own []netip.Prefix) error {
	var errs []error
	vip := c.Addr
	if !vip.IsValid() {
		return nil
	}
	has4 := false
	for _, p := range own {
		if p == vip {
			continue // a stale copy of ours
		}
		if p.Addr().Is4() {
			has4 = true
		}
		if p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
			continue
		}
		switch {
		case p.Addr() == vip.Addr():
			errs = append(errs, fmt.Errorf("vip: %s is the interface's own address %s on %s", vip.Addr(), p, c.Interface))
		case vip.Bits() != p.Bits() && vip.Masked().Contains(p.Addr()):
			errs = append(errs, fmt.Errorf("vip: prefix: %s covers the interface's address %s on %s; use /%d or the same prefix as that address",
				vip, p, c.Interface, vip.Addr().BitLen()))
		}
	}
	if vip.Addr().Is4() && !has4 {
		errs = append(errs, fmt.Errorf("vip: interface: %s has no IPv4 address of its own (ARP announcements need one)", c.Interface))
	}
	return errors.Join(errs...)
}

// validIfName checks an interface name as the kernel's dev_valid_name does.
func validIfName(name string) error {
	switch {
	case name == "":
		return errors.New("missing")
	case len(name) > maxIfNameLen:
		return fmt.Errorf("%q is longer than %d bytes", name, maxIfNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a valid name", name)
	case strings.ContainsAny(name, "/: \t\n"):
		return fmt.Errorf("%q contains '/', ':' or white space", name)
	}
	return nil
}

// validLabel checks that label is iface + ":" + an alphanumeric suffix and
// fits the kernel's 15-byte limit. The kernel does not check labels itself:
// it silently truncates them, and a label not starting with the interface
// name confuses ifconfig-era tools.
func validLabel(label, iface string) error {
	if len(label) > maxIfNameLen {
		return fmt.Errorf("%q is longer than %d bytes", label, maxIfNameLen)
	}
	suffix, ok := strings.CutPrefix(label, iface+":")
	if !ok || iface == "" {
		return fmt.Errorf("%q must be the interface name, ':' and a suffix (e.g. %q)", label, iface+":1")
	}
	if suffix == "" {
		return fmt.Errorf("%q has an empty suffix", label)
	}
	for _, r := range suffix {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return fmt.Errorf("%q: suffix %q must be letters and digits only", label, suffix)
		}
	}
	return nil
}

// lastAddr returns the last address of the masked prefix p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	start := 0
	if p.Addr().Is4() {
		start = 12
	}
	bits := p.Bits()
	for i := start; i < 16; i++ {
		bitPos := (i - start) * 8
		switch {
		case bitPos >= bits:
			b[i] = 0xff
		case bitPos+8 > bits:
			b[i] |= 0xff >> (bits - bitPos)
		}
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}
