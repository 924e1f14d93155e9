package hwtest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
)

// NICOptions configure the NIC checks and the responder.
type NICOptions struct {
	Count    int           // probes per path and peer; default 50
	Interval time.Duration // between probes; default 100ms
	// Wait is how long to wait for late answers after the last probe;
	// default 1s.
	Wait time.Duration
	// ProbePort is the UDP port of prober and responder; default 7499, apart
	// from the daemon's heartbeat port so both can run.
	ProbePort int
	// MaxLossPct is the loss above which a path fails; default 1.
	MaxLossPct float64
	// Progress receives a progress line now and then (stderr); nil for none.
	Progress io.Writer
	// Session tells this run's probes from stale ones; 0 picks a random one.
	Session uint32
	// Warmup bounds the unmeasured warm-up before the probes, which lets ARP
	// resolve and switches learn; default 2s.
	Warmup time.Duration
	// ARPTimeout bounds each of the three ARP requests per VIP; default 300ms.
	ARPTimeout time.Duration
}

// DefaultProbePort is the UDP port hwtest nic uses unless told otherwise.
const DefaultProbePort = 7499

func (o *NICOptions) defaults() {
	if o.Count <= 0 {
		o.Count = 50
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Wait <= 0 {
		o.Wait = time.Second
	}
	if o.ProbePort <= 0 {
		o.ProbePort = DefaultProbePort
	}
	if o.MaxLossPct <= 0 {
		o.MaxLossPct = 1
	}
	if o.Session == 0 {
		o.Session = rand.Uint32() | 1
	}
	if o.Warmup <= 0 {
		o.Warmup = 2 * time.Second
	}
	if o.ARPTimeout <= 0 {
		o.ARPTimeout = 300 * time.Millisecond
	}
}

// NICResult is what the NIC checks saw.
type NICResult struct {
	Node  string       `json:"node,omitempty"`
	Paths []PathResult `json:"paths"`
	VIPs  []VIPResult  `json:"vips,omitempty"`
}

// PathResult is one UDP path: its NIC and every peer probed on it.
type PathResult struct {
	Name      string       `json:"name"`
	Interface string       `json:"interface"`
	Link      LinkInfo     `json:"link"`
	Group     string       `json:"multicast,omitempty"`
	Peers     []PeerResult `json:"peers"`
	// SendErrors counts probes the kernel refused to send.
	SendErrors int    `json:"send_errors"`
	SocketErr  string `json:"socket_error,omitempty"`
}

// LinkInfo is the NIC as netlink reports it.
type LinkInfo struct {
	Exists    bool     `json:"exists"`
	Up        bool     `json:"up"`      // administratively up
	Carrier   bool     `json:"carrier"` // lower layer up
	OperState string   `json:"oper_state"`
	MTU       int      `json:"mtu"`
	Addrs     []string `json:"addrs"`
	Err       string   `json:"error,omitempty"`
}

// PeerResult is one peer on one path. Unicast is nil when the peer was only
// found by multicast; Multicast is nil when the path has no group.
type PeerResult struct {
	Addr      string   `json:"addr"`
	Name      string   `json:"name,omitempty"` // from its answers
	Unicast   *Summary `json:"unicast,omitempty"`
	Multicast *Summary `json:"multicast,omitempty"`
	// Listed is true when the address is in the path's unicast list.
	Listed bool `json:"listed"`
}

// VIPResult is the ARP probe of one configured VIP.
type VIPResult struct {
	Service   string `json:"service"`
	VIP       string `json:"vip"`
	Interface string `json:"interface"`
	InUse     bool   `json:"in_use"`
	MAC       string `json:"mac,omitempty"`
	Local     bool   `json:"local"` // assigned on this host
	Err       string `json:"error,omitempty"`
}

// diagnoseNIC turns a NIC measurement into checks. It is pure.
func diagnoseNIC(res NICResult, o NICOptions) []Check {
	var cs []Check
	for _, p := range res.Paths {
		cs = append(cs, diagnoseLink(p))
		linkBad := !p.Link.Exists || !p.Link.Up || !p.Link.Carrier
		if p.SocketErr != "" {
			if !p.Link.Exists {
				continue // the link check already says so
			}
			cs = append(cs, Check{Name: "socket " + p.Name, Detail: p.SocketErr,
				Hint: "NIC: the path's NIC must exist and hwtest needs CAP_NET_RAW for SO_BINDTODEVICE (run as root)"})
			continue
		}
		if len(p.Peers) == 0 {
			c := Check{Name: fmt.Sprintf("peers %s", p.Name), Detail: fmt.Sprintf("no peer answered multicast %s on %s", p.Group, p.Interface)}
			c.Hint = "switch multicast / firewall: is `hwtest nic --listen` running on the peers? does the switch pass 239.x (IGMP snooping)? UDP port open?"
			if linkBad {
				c.Hint = "cable / NIC: fix the link first"
			}
			cs = append(cs, c)
		}
		for _, peer := range p.Peers {
			cs = append(cs, diagnosePeer(p, peer, linkBad, o))
		}
	}
	for _, v := range res.VIPs {
		c := Check{Name: "vip " + v.VIP, OK: true}
		switch {
		case v.Err != "":
			c.OK = false
			c.Detail = fmt.Sprintf("service %s: ARP probe on %s failed: %s", v.Service, v.Interface, v.Err)
			c.Hint = "NIC: the VIP's NIC needs an IPv4 address and hwtest needs CAP_NET_RAW (run as root)"
		case v.Local:
			c.OK = false
			c.Detail = fmt.Sprintf("service %s: %s is already assigned on this host", v.Service, v.VIP)
			c.Hint = "a running failoverd holds it, or a stale address: `ip addr show`; test before the cluster goes live"
		case v.InUse:
			c.OK = false
			c.Detail = fmt.Sprintf("service %s: %s already answers ARP on %s from %s", v.Service, v.VIP, v.Interface, v.MAC)
			c.Hint = "another host holds the VIP (a running failoverd? a stale or conflicting address on the segment)"
		default:
			c.Detail = fmt.Sprintf("service %s: %s is free on %s (no ARP answer)", v.Service, v.VIP, v.Interface)
		}
		cs = append(cs, c)
	}
	return cs
}

func diagnoseLink(p PathResult) Check {
	l := p.Link
	c := Check{Name: "link " + p.Name}
	switch {
	case !l.Exists:
		c.Detail = fmt.Sprintf("no NIC %q: %s", p.Interface, l.Err)
		c.Hint = "NIC: check the interface name in the [[path]] (`ip link`)"
	case !l.Up:
		c.Detail = fmt.Sprintf("%s is administratively down", p.Interface)
		c.Hint = fmt.Sprintf("NIC: `ip link set %s up`", p.Interface)
	case !l.Carrier:
		c.Detail = fmt.Sprintf("%s has no carrier (NO-CARRIER, state %s)", p.Interface, l.OperState)
		c.Hint = "cable: check the cable and the switch port of " + p.Interface
	case len(l.Addrs) == 0:
		c.Detail = fmt.Sprintf("%s is up but has no IPv4 address", p.Interface)
		c.Hint = "NIC: give " + p.Interface + " its address (the heartbeat needs a source address)"
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("%s up, carrier, mtu %d, %s", p.Interface, l.MTU, strings.Join(l.Addrs, " "))
	}
	return c
}

func diagnosePeer(p PathResult, peer PeerResult, linkBad bool, o NICOptions) Check {
	who := peer.Addr
	if peer.Name != "" {
		who = fmt.Sprintf("%s (%s)", peer.Name, peer.Addr)
	}
	c := Check{Name: fmt.Sprintf("path %s → %s", p.Name, peer.Addr)}
	var parts []string
	if peer.Multicast != nil {
		parts = append(parts, "multicast "+fmtSummary(*peer.Multicast))
	}
	if peer.Unicast != nil {
		parts = append(parts, "unicast "+fmtSummary(*peer.Unicast))
	}
	detail := strings.Join(parts, "; ")
	dead := func(s *Summary) bool { return s != nil && s.Received == 0 }
	alive := func(s *Summary) bool { return s != nil && s.Received > 0 }
	lossy := func(s *Summary) bool { return s != nil && s.Received > 0 && s.LossPct > o.MaxLossPct }
	switch {
	case linkBad && !alive(peer.Unicast) && !alive(peer.Multicast):
		c.Detail = fmt.Sprintf("%s unreachable on %s: the link is down", who, p.Interface)
		c.Hint = "cable: plug the cable / check the switch port of " + p.Interface
	case dead(peer.Unicast) && (peer.Multicast == nil || dead(peer.Multicast)):
		c.Detail = fmt.Sprintf("no answer from %s on %s: %s", who, p.Interface, detail)
		c.Hint = fmt.Sprintf("firewall / switch: is `hwtest nic --listen` running on %s? UDP port %d open on both hosts? is %s on the right VLAN?",
			peer.Addr, o.ProbePort, p.Interface)
	case alive(peer.Unicast) && dead(peer.Multicast):
		c.Detail = fmt.Sprintf("multicast %s to %s is lost on %s, unicast works: %s", p.Group, who, p.Interface, detail)
		c.Hint = "switch multicast: IGMP snooping without a querier or storm control drops 239.x; or a firewall drops multicast (`nft list ruleset` on both hosts)"
	case alive(peer.Multicast) && dead(peer.Unicast):
		c.Detail = fmt.Sprintf("unicast to %s is lost on %s, multicast works: %s", who, p.Interface, detail)
		c.Hint = "firewall: unicast UDP port is blocked, or the peer address in [[path]] unicast is wrong"
	case lossy(peer.Unicast) || lossy(peer.Multicast):
		c.Detail = fmt.Sprintf("lossy path to %s on %s: %s", who, p.Interface, detail)
		c.Hint = fmt.Sprintf("cable / NIC / switch: loss above %.3g%%; look at `ip -s link show %s` error counters, swap the cable or the switch port", o.MaxLossPct, p.Interface)
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("%s: %s", who, detail)
	}
	if !peer.Listed && peer.Unicast == nil {
		c.Detail += " (found by multicast; not in the path's unicast list)"
	}
	return c
}

// nicSamples turns a NIC result into recommendation input: per path the
// worst peer, per peer the better of multicast and unicast (a heartbeat goes
// both ways when both are configured).
func nicSamples(res NICResult) []PathSample {
	var out []PathSample
	for _, p := range res.Paths {
		var worst *Summary
		for _, peer := range p.Peers {
			best := peer.Unicast
			if best == nil || (peer.Multicast != nil && peer.Multicast.Received > best.Received) {
				best = peer.Multicast
			}
			if best == nil {
				continue
			}
			if worst == nil || best.Received*max(worst.Sent, 1) < worst.Received*max(best.Sent, 1) {
				worst = best
			}
		}
		if worst == nil {
			out = append(out, PathSample{Name: p.Name})
			continue
		}
		out = append(out, PathSample{Name: p.Name, Sent: worst.Sent, Lost: worst.Lost, P50: worst.P50, P99: worst.P99, Jitter: worst.Jitter})
	}
	return out
}

func writeNIC(b *strings.Builder, n *NICResult) {
	for _, p := range n.Paths {
		fmt.Fprintf(b, "\npath %s on %s", p.Name, p.Interface)
		if p.Link.Exists {
			fmt.Fprintf(b, " (%s, mtu %d, %s)", p.Link.OperState, p.Link.MTU, strings.Join(p.Link.Addrs, " "))
		}
		b.WriteString("\n")
		for _, peer := range p.Peers {
			name := peer.Addr
			if peer.Name != "" {
				name += " " + peer.Name
			}
			if peer.Multicast != nil {
				fmt.Fprintf(b, "  %-24s multicast %s: %s\n", name, p.Group, fmtSummary(*peer.Multicast))
			}
			if peer.Unicast != nil {
				fmt.Fprintf(b, "  %-24s unicast: %s\n", name, fmtSummary(*peer.Unicast))
			}
		}
		if p.SendErrors > 0 {
			fmt.Fprintf(b, "  %d probes could not be sent\n", p.SendErrors)
		}
	}
}

// peerKey identifies answers from one address to one kind of probe.
type peerKey struct {
	addr netip.Addr
	kind byte
}

// Probe kinds, the first payload byte of a NIC probe and its echo.
const (
	kindMulticast byte = 1
	kindUnicast   byte = 2
)
