package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// icmpProbe sends one echo request and waits for its reply. It uses an
// unprivileged ICMP socket where the kernel allows it
// (net.ipv4.ping_group_range), else a raw one (CAP_NET_RAW).
type icmpProbe struct {
	target string
	inside func(func() error) error
	seq    atomic.Uint32
}

func (p *icmpProbe) probe(ctx context.Context) (bool, string) {
	dst, err := netip.ParseAddr(p.target)
	if err != nil {
		return false, err.Error()
	}
	dst = dst.Unmap()
	v4 := dst.Is4()
	conn, raw, err := p.listen(v4)
	if err != nil {
		return false, err.Error()
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	id := os.Getpid() & 0xffff
	seq := int(p.seq.Add(1) & 0xffff)
	var typ icmp.Type = ipv4.ICMPTypeEcho
	var proto = 1
	if !v4 {
		typ, proto = ipv6.ICMPTypeEchoRequest, 58
	}
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("failoverd-check")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return false, err.Error()
	}
	var to net.Addr = &net.UDPAddr{IP: dst.AsSlice()}
	if raw {
		to = &net.IPAddr{IP: dst.AsSlice()}
	}
	t0 := time.Now()
	if _, err := conn.WriteTo(b, to); err != nil {
		return false, "echo request: " + err.Error()
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
				return false, "no echo reply from " + dst.String()
			}
			return false, "echo reply: " + err.Error()
		}
		if !sameHost(from, dst) {
			continue
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		echo, ok := m.Body.(*icmp.Echo)
		if !ok || echo.Seq != seq || (raw && echo.ID != id) {
			continue // another socket's echo (raw sockets see them all)
		}
		switch m.Type {
		case ipv4.ICMPTypeEchoReply, ipv6.ICMPTypeEchoReply:
			return true, fmt.Sprintf("echo reply from %s in %s", dst, time.Since(t0).Round(time.Microsecond))
		}
	}
}

// listen opens an ICMP socket where p.inside runs: a datagram one if the
// kernel allows it, else a raw one.
func (p *icmpProbe) listen(v4 bool) (conn *icmp.PacketConn, raw bool, err error) {
	dgram, rawNet, addr := "udp4", "ip4:icmp", "0.0.0.0"
	if !v4 {
		dgram, rawNet, addr = "udp6", "ip6:ipv6-icmp", "::"
	}
	err = p.inside(func() error {
		var e1, e2 error
		if conn, e1 = icmp.ListenPacket(dgram, addr); e1 == nil {
			return nil
		}
		if conn, e2 = icmp.ListenPacket(rawNet, addr); e2 == nil {
			raw = true
			return nil
		}
		return fmt.Errorf("no ICMP socket: unprivileged: %v; raw: %v", e1, e2)
	})
	return conn, raw, err
}

func sameHost(a net.Addr, want netip.Addr) bool {
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	default:
		return false
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == want
}
