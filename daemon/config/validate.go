package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var reName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]*$`)

// maxNameLen mirrors transport.MaxNameLen (node and path names on the wire).
const maxNameLen = 32

func (p *parser) name(key, what, v string) {
	if v == "" {
		p.problem(key, "missing: the %s's name", what)
	} else if err := CheckName(v); err != nil {
		p.problem(key, "%v", err)
	}
}

// CheckName reports why v cannot be a cluster, node, peer or path name
// (empty, longer than 32 bytes, or not letters, digits, '.', '_' and '-'),
// in the words a config problem uses; nil if it can.
func CheckName(v string) error {
	switch {
	case v == "":
		return errors.New("empty")
	case len(v) > maxNameLen:
		return fmt.Errorf("%q is longer than %d bytes", v, maxNameLen)
	case !reName.MatchString(v):
		return fmt.Errorf("%q: use letters, digits, '.', '_' and '-'", v)
	}
	return nil
}

// validate checks single values and cross-field sense.
func (p *parser) validate(c *Config) {
	p.name("cluster", "cluster", c.Cluster)
	p.name("node", "node", c.Node)
	if c.KeyFile == "" && !c.InsecureNoAuth {
		p.problem("key_file", "missing: heartbeats must be authenticated (or set insecure_no_auth = true, for labs only)")
	}
	if c.ControlSocket == "" {
		p.problem("control_socket", "empty: give a socket path like \"/run/failover.sock\"")
	}
	if c.StatusListen != "" {
		if _, err := netip.ParseAddrPort(c.StatusListen); err != nil {
			p.problem("status_listen", "%q is not addr:port like \"198.18.1.1:7406\"", c.StatusListen)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p.problem("log_format", "%q: want \"text\" or \"json\"", c.LogFormat)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		p.problem("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if c.RealtimePriority < 0 || c.RealtimePriority > 99 {
		p.problem("realtime_priority", "%d is out of range 0..99: 0 keeps the normal scheduler, 1..99 is the SCHED_RR priority (default 10; keep it below the kernel's IRQ threads at 50)", c.RealtimePriority)
	}

	t := c.Timers
	if t.Interval <= 0 {
		p.problem("timers.interval", "must be more than 0")
	}
	if t.Deadtime <= 2*t.Interval {
		p.problem("timers.deadtime", "%s must be more than 2 x interval (%s): one lost heartbeat would declare a path dead", t.Deadtime, 2*t.Interval)
	}
	if t.AdaptiveFloor != 0 && (t.AdaptiveFloor < 2*t.Interval || t.AdaptiveFloor > t.Deadtime) {
		p.problem("timers.adaptive_floor", "%s must be 0 (fixed deadtime) or between 2 x interval (%s) and deadtime (%s)", t.AdaptiveFloor, 2*t.Interval, t.Deadtime)
	}
	if t.Damping != 0 && t.Damping < 2*t.Deadtime {
		p.problem("timers.damping", "%s must be 0 (off) or at least 2 x deadtime (%s): a shorter hold ends before a flap is seen", t.Damping, 2*t.Deadtime)
	}
	if t.Damping != 0 && (t.FlapLimit < 2 || t.FlapLimit > 100) {
		p.problem("timers.flap_limit", "%d is out of range 2..100 (one loss is a fault, not a flap)", t.FlapLimit)
	}
	if t.CarrierSettle > time.Minute {
		p.problem("timers.carrier_settle", "%s is over a minute: the service would stay away that long after every carrier loss", t.CarrierSettle)
	}

	nodes := map[string]bool{c.Node: true}
	if len(c.Peers) == 0 {
		p.problem("peer", "no [[peer]]: a cluster needs at least one other node")
	}
	for i, pc := range c.Peers {
		k := "peer." + strconv.Itoa(i) + ".name"
		p.name(k, "peer", pc.Name)
		switch {
		case pc.Name == "":
		case pc.Name == c.Node:
			p.problem(k, "%q is this node (node = %q); list only the other nodes", pc.Name, c.Node)
		case nodes[pc.Name]:
			p.problem(k, "peer %q listed twice", pc.Name)
		}
		nodes[pc.Name] = true
	}

	if len(c.Paths) == 0 {
		p.problem("path", "no [[path]]: heartbeats need at least one path (two or more for safety)")
	}
	pathNames := map[string]bool{}
	udpIfaces := map[string]bool{}
	onPath := map[string]bool{}
	hostAddrs := map[netip.Addr]string{}
	for i, pc := range c.Paths {
		k := "path." + strconv.Itoa(i)
		if pc.Name == "" && pc.Kind == "serial" {
			p.problem(k+".name", "missing: a serial path needs a name, like \"serial0\"")
		} else if pc.Name != "" {
			p.name(k+".name", "path", pc.Name)
			if pathNames[pc.Name] {
				p.problem(k+".name", "path %q defined twice", pc.Name)
			}
			pathNames[pc.Name] = true
		}
		switch pc.Kind {
		case "udp":
			if pc.Interface == "" {
				p.problem(k+".interface", "missing: the NIC this path is pinned to, like \"eth0\"")
			} else if udpIfaces[pc.Interface] {
				p.problem(k+".interface", "%q carries two UDP paths; one path per NIC", pc.Interface)
			}
			udpIfaces[pc.Interface] = true
			if pc.Port < 1 || pc.Port > 65535 {
				p.problem(k+".port", "%d is not a port (1..65535)", pc.Port)
			}
			if pc.Multicast == "" && len(pc.Unicast) == 0 {
				p.problem(k, "a UDP path needs multicast or unicast (or both): nobody would hear it")
			}
			if pc.Multicast != "" {
				ap, err := netip.ParseAddrPort(pc.Multicast)
				if err != nil {
					p.problem(k+".multicast", "%q is not group:port like \"239.192.0.1:7405\"", pc.Multicast)
				} else if !ap.Addr().IsMulticast() {
					p.problem(k+".multicast", "%s is not a multicast group", ap.Addr())
				}
			}
			for _, u := range pc.Unicast {
				ap, err := netip.ParseAddrPort(u)
				if err != nil {
					p.problem(k+".unicast", "%q is not addr:port like \"198.18.1.2:7405\"", u)
					continue
				}
				if ap.Addr().IsMulticast() || ap.Addr().IsUnspecified() {
					p.problem(k+".unicast", "%s is not a host address", ap.Addr())
				}
				hostAddrs[ap.Addr()] = k + ".unicast"
			}
			if pc.Device != "" {
				p.problem(k+".device", "only for kind = \"serial\"")
			}
		case "serial":
			if pc.Device == "" {
				p.problem(k+".device", "missing: the serial device, like \"/dev/ttyS0\"")
			}
			if pc.Baud <= 0 {
				p.problem(k+".baud", "%d is not a line speed", pc.Baud)
			}
			if pc.Multicast != "" || len(pc.Unicast) > 0 {
				p.problem(k, "multicast and unicast are only for kind = \"udp\"")
			}
		case "":
			p.problem(k+".kind", "missing: \"udp\" or \"serial\"")
		default:
			p.problem(k+".kind", "%q: want \"udp\" or \"serial\"", pc.Kind)
		}
		for _, n := range c.PathPeers(pc) {
			if n == c.Node || !nodes[n] {
				p.problem(k+".peers", "%q is not a configured [[peer]]", n)
			}
			onPath[n] = true
		}
	}
	for i, pe := range c.Peers {
		if pe.Name != "" && pe.Name != c.Node && !onPath[pe.Name] {
			p.problem("peer."+strconv.Itoa(i)+".name", "peer %q is on no path: it could never be heard", pe.Name)
		}
	}

	svcNames := map[string]bool{}
	vips := map[netip.Addr]bool{}
	for i, s := range c.Services {
		k := "service." + strconv.Itoa(i)
		if s.Name == "" {
			p.problem(k+".name", "missing: the service's name")
		} else if len(s.Name) > 64 {
			p.problem(k+".name", "%q is longer than 64 bytes", s.Name)
		} else if svcNames[s.Name] {
			p.problem(k+".name", "service %q defined twice", s.Name)
		}
		svcNames[s.Name] = true
		if s.VIP.IsValid() {
			a := s.VIP.Addr()
			switch {
			case a.IsMulticast() || a.IsUnspecified() || a.IsLoopback():
				p.problem(k+".vip", "%s cannot be a floating address", a)
			case hostAddrs[a] != "":
				p.problem(k+".vip", "%s is a peer's host address (in %s); the VIP must be an address of its own", a, showKey(hostAddrs[a]))
			case vips[a]:
				p.problem(k+".vip", "%s is the VIP of another service", a)
			}
			vips[a] = true
		}
		if s.Interface == "" {
			p.problem(k+".interface", "missing: the NIC that carries the VIP")
		} else if !udpIfaces[s.Interface] {
			p.problem(k+".interface", "%q is not the interface of any UDP [[path]]: the service NIC must carry heartbeats", s.Interface)
		}
		if s.Label != "" {
			if !strings.HasPrefix(s.Label, s.Interface+":") || len(s.Label) == len(s.Interface)+1 {
				p.problem(k+".label", "%q must be the interface, a colon and a suffix, like %q", s.Label, s.Interface+":1")
			} else if len(s.Label) > 15 {
				p.problem(k+".label", "%q is longer than 15 bytes (IFNAMSIZ)", s.Label)
			}
		}
		if len(s.Priority) == 0 {
			p.problem(k+".priority", "missing: a priority per node, like {%s = 100}", c.Node)
		}
		ns := make([]string, 0, len(s.Priority))
		for n := range s.Priority {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		for _, n := range ns {
			v := s.Priority[n]
			if !nodes[n] {
				p.problem(k+".priority."+n, "%q is neither this node nor a [[peer]]", n)
			}
			if v < 0 || v > 255 {
				p.problem(k+".priority."+n, "%d is out of range 0..255", v)
			}
		}
		if s.Lifetime != 0 && s.Lifetime < 4*c.Timers.Interval {
			p.problem(k+".lifetime", "%s is too short (0 = forever, else at least 4 x interval)", s.Lifetime)
		}
		if s.AnnounceCount < 0 || s.AnnounceCount > 100 {
			p.problem(k+".announce_count", "%d is out of range 0..100", s.AnnounceCount)
		}
		if s.AnnounceCount > 1 && s.AnnounceInterval <= 0 {
			p.problem(k+".announce_interval", "must be more than 0")
		}
		if s.AnnounceRefresh != 0 && s.AnnounceRefresh < time.Second {
			p.problem(k+".announce_refresh", "%s is under 1s (\"0s\" turns refresh off)", s.AnnounceRefresh)
		}
		p.validateChecks(c, k, s)
	}
	p.validateNotify(c)
	if len(c.Services) > 32 {
		p.problem("service", "%d services; a heartbeat carries at most 32", len(c.Services))
	}
	p.budget(c)
}
