package rig

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Pinger sends an ICMP echo request to an address every ProbeInterval and
// records the replies in Probes. ICMP does not say which host answered, so
// every reply's From is the target address; the UDP Prober tells hosts
// apart.
type Pinger struct {
	Probes
	conn   *icmp.PacketConn
	target netip.Addr
	id     int
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// StartPinger starts pinging target from conn, a raw ICMPv4 endpoint
// (icmp.ListenPacket("ip4:icmp", "0.0.0.0"), opened inside the client
// namespace), with echo identifier id; replies with another identifier are
// ignored. The pinger owns conn and closes it on Close.
func StartPinger(conn *icmp.PacketConn, target netip.Addr, id int) *Pinger {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pinger{conn: conn, target: target, id: id & 0xffff, cancel: cancel}
	p.wg.Add(2)
	go p.send(ctx)
	go p.recv()
	return p
}

// Target is the address pinged.
func (p *Pinger) Target() netip.Addr { return p.target }

func (p *Pinger) send(ctx context.Context) {
	defer p.wg.Done()
	t := time.NewTicker(ProbeInterval)
	defer t.Stop()
	dst := &net.IPAddr{IP: p.target.AsSlice()}
	data := make([]byte, len(probeMagic)+8)
	copy(data, probeMagic)
	var seq uint64
	for {
		seq++
		// The wire's sequence number is 16 bits; the full one rides in
		// the data, which the reply echoes.
		binary.BigEndian.PutUint64(data[len(probeMagic):], seq)
		m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: int(seq & 0xffff), Data: data}}
		b, err := m.Marshal(nil)
		now := time.Now()
		p.Probes.sent(seq, now)
		if err == nil {
			_, err = p.conn.WriteTo(b, dst)
		}
		if err != nil {
			p.mu.Lock()
			p.lastErr = err
			p.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Pinger) recv() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		at := time.Now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if seq, ok := parseEchoReply(buf[:n], p.id); ok {
			p.Probes.answered(seq, p.target.String(), at)
		}
	}
}

// parseEchoReply returns the full sequence number of an echo reply to id
// carrying a probe's data.
func parseEchoReply(b []byte, id int) (uint64, bool) {
	m, err := icmp.ParseMessage(1, b) // 1: ICMPv4
	if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
		return 0, false
	}
	e, ok := m.Body.(*icmp.Echo)
	if !ok || e.ID != id {
		return 0, false
	}
	seq, _, ok := parseAnswer(e.Data)
	return seq, ok
}

// Close stops the pinger and closes its socket.
func (p *Pinger) Close() error {
	p.once.Do(func() {
		p.cancel()
		p.conn.Close()
		p.wg.Wait()
	})
	return nil
}
