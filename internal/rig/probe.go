package rig

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ProbePort is the UDP port of the responders and the prober's target.
const ProbePort = 7777

// ProbeInterval is how often the prober sends to the VIP.
const ProbeInterval = 10 * time.Millisecond

// probeMagic starts every probe and answer.
const probeMagic = "fo-probe"

// maxProbes bounds the prober's memory (about 2.7 hours at 10 ms).
const maxProbes = 1 << 20

// Answer is one probe's fate.
type Answer struct {
	Seq  uint64
	Sent time.Time
	At   time.Time // zero if unanswered
	From string    // the host name the responder reported
}

// Outage is what the client saw in a window.
type Outage struct {
	// Longest is the longest stretch without an answer: from the last
	// answered probe before the gap to the first answered one after it,
	// minus one probe interval. 0 when no probe was lost.
	Longest time.Duration
	// Lost probes in the window, and probes sent.
	Lost, Sent int
	// Before and After are the hosts that answered before and after the
	// longest gap ("" if none).
	Before, After string
}

func (o Outage) String() string {
	if o.Longest == 0 {
		return fmt.Sprintf("no outage (%d of %d probes lost)", o.Lost, o.Sent)
	}
	return fmt.Sprintf("%d ms without answer (%d of %d probes lost, %s -> %s)",
		o.Longest.Milliseconds(), o.Lost, o.Sent, orNone(o.Before), orNone(o.After))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Probes is the record of a prober: sent probes and their answers. The zero
// value is ready; methods are safe for concurrent use.
type Probes struct {
	mu      sync.Mutex
	cond    chan struct{} // closed and replaced on every answer
	base    uint64        // seq of probes[0]
	probes  []Answer
	dup     int // probes answered by two different hosts
	lastErr error
}

func (p *Probes) init() {
	if p.cond == nil {
		p.cond = make(chan struct{})
	}
}

// sent records probe seq sent at t.
func (p *Probes) sent(seq uint64, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	if len(p.probes) == 0 {
		p.base = seq
	}
	p.probes = append(p.probes, Answer{Seq: seq, Sent: t})
	if len(p.probes) > maxProbes {
		drop := len(p.probes) - maxProbes
		p.probes = append([]Answer(nil), p.probes[drop:]...)
		p.base += uint64(drop)
	}
}

// answered records the answer to seq from host at t.
func (p *Probes) answered(seq uint64, from string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	if seq < p.base || seq-p.base >= uint64(len(p.probes)) {
		return
	}
	a := &p.probes[seq-p.base]
	if !a.At.IsZero() {
		if a.From != from {
			p.dup++
		}
		return
	}
	a.At, a.From = t, from
	close(p.cond)
	p.cond = make(chan struct{})
}

// Duplicates counts probes answered by two different hosts: two owners of
// the VIP seen from the client.
func (p *Probes) Duplicates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dup
}

// Last returns the most recent answered probe (ok false if none).
func (p *Probes) Last() (Answer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.probes) - 1; i >= 0; i-- {
		if !p.probes[i].At.IsZero() {
			return p.probes[i], true
		}
	}
	return Answer{}, false
}

// Wait blocks until a probe sent after since is answered by host (any host
// if host is ""), and returns that answer.
func (p *Probes) Wait(ctx context.Context, host string, since time.Time) (Answer, error) {
	for {
		p.mu.Lock()
		p.init()
		ch := p.cond
		for i := len(p.probes) - 1; i >= 0; i-- {
			a := p.probes[i]
			if a.Sent.Before(since) {
				break
			}
			if !a.At.IsZero() && (host == "" || a.From == host) {
				p.mu.Unlock()
				return a, nil
			}
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			who := host
			if who == "" {
				who = "any host"
			}
			return Answer{}, fmt.Errorf("no answer from %s to the client's probes: %w", who, context.Cause(ctx))
		}
	}
}

// Outage measures the window from..to: the longest run of unanswered probes
// sent in it (bounded by the answered probes around it) and the count of
// lost probes. Probes sent after the last answered one are not counted as
// lost yet (they may be in flight) unless to is more than a second later.
func (p *Probes) Outage(from, to time.Time) Outage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var o Outage
	var prev *Answer // last answered probe so far
	for i := range p.probes {
		a := &p.probes[i]
		if a.Sent.After(to) {
			break
		}
		if a.Sent.Before(from) {
			if !a.At.IsZero() {
				prev = a
			}
			continue
		}
		o.Sent++
		if a.At.IsZero() {
			continue
		}
		if prev != nil {
			gap := a.Sent.Sub(prev.Sent) - ProbeInterval
			if gap > ProbeInterval/2 && gap > o.Longest {
				o.Longest, o.Before, o.After = gap, prev.From, a.From
			}
		} else if gap := a.Sent.Sub(from); gap > ProbeInterval && gap > o.Longest {
			o.Longest, o.After = gap, a.From
		}
		prev = a
	}
	// Lost: unanswered probes up to the last answered one (or all, if the
	// window ended long ago).
	settled := to.Add(-time.Second)
	for i := range p.probes {
		a := &p.probes[i]
		if a.Sent.Before(from) || a.Sent.After(to) {
			continue
		}
		if a.At.IsZero() && ((prev != nil && a.Sent.Before(prev.Sent)) || a.Sent.Before(settled)) {
			o.Lost++
		}
	}
	return o
}

// Prober sends a probe to a UDP address every ProbeInterval and records the
// answers in Probes.
type Prober struct {
	Probes
	conn   *net.UDPConn
	target netip.AddrPort
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// StartProber starts probing target from conn (an unconnected UDP socket,
// typically opened inside the client namespace). The prober owns conn and
// closes it on Close.
func StartProber(conn *net.UDPConn, target netip.AddrPort) *Prober {
	ctx, cancel := context.WithCancel(context.Background())
	pr := &Prober{conn: conn, target: target, cancel: cancel}
	pr.wg.Add(2)
	go pr.send(ctx)
	go pr.recv()
	return pr
}

// Target is the address probed.
func (pr *Prober) Target() netip.AddrPort { return pr.target }

func (pr *Prober) send(ctx context.Context) {
	defer pr.wg.Done()
	t := time.NewTicker(ProbeInterval)
	defer t.Stop()
	buf := make([]byte, len(probeMagic)+8)
	copy(buf, probeMagic)
	var seq uint64
	for {
		seq++
		binary.BigEndian.PutUint64(buf[len(probeMagic):], seq)
		now := time.Now()
		pr.Probes.sent(seq, now)
		if _, err := pr.conn.WriteToUDPAddrPort(buf, pr.target); err != nil {
			pr.mu.Lock()
			pr.lastErr = err
			pr.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (pr *Prober) recv() {
	defer pr.wg.Done()
	buf := make([]byte, 512)
	for {
		n, _, err := pr.conn.ReadFromUDPAddrPort(buf)
		at := time.Now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		seq, from, ok := parseAnswer(buf[:n])
		if ok {
			pr.Probes.answered(seq, from, at)
		}
	}
}

// Close stops the prober and closes its socket.
func (pr *Prober) Close() error {
	pr.once.Do(func() {
		pr.cancel()
		pr.conn.Close()
		pr.wg.Wait()
	})
	return nil
}

// parseAnswer decodes "fo-probe" + seq + host name.
func parseAnswer(b []byte) (seq uint64, from string, ok bool) {
	if len(b) < len(probeMagic)+8 || string(b[:len(probeMagic)]) != probeMagic {
		return 0, "", false
	}
	return binary.BigEndian.Uint64(b[len(probeMagic):]), string(b[len(probeMagic)+8:]), true
}

// Respond answers probes on conn with name until conn is closed: the probe
// echoed back with the name appended. It returns nil when conn is closed.
func Respond(conn *net.UDPConn, name string) error {
	buf := make([]byte, 512)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("responder: %w", err)
		}
		if n != len(probeMagic)+8 || string(buf[:len(probeMagic)]) != probeMagic {
			continue
		}
		out := append(buf[:n:n], name...)
		conn.WriteToUDPAddrPort(out, from)
	}
}

// AnsweredAfter returns the answered probes with a sequence number above
// seq, oldest first.
func (p *Probes) AnsweredAfter(seq uint64) []Answer {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Answer
	start := 0
	if seq >= p.base {
		start = int(min(seq-p.base+1, uint64(len(p.probes))))
	}
	for _, a := range p.probes[start:] {
		if !a.At.IsZero() {
			out = append(out, a)
		}
	}
	return out
}

// FirstFrom returns the earliest answer from host received at or after
// since (ok false if none yet).
func (p *Probes) FirstFrom(host string, since time.Time) (Answer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first Answer
	found := false
	for _, a := range p.probes {
		if a.At.IsZero() || a.From != host || a.At.Before(since) {
			continue
		}
		if !found || a.At.Before(first.At) {
			first, found = a, true
		}
	}
	return first, found
}
