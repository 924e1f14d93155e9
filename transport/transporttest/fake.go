// Package transporttest provides in-memory transport.Path fakes for tests of
// code that sends and receives heartbeats (the daemon). A Link is one medium
// (a switch segment or a cable) shared by one Path per node; a test can cut
// it, cut one node's end, or inject raw bytes. Everything is channels and
// mutexes, no sockets or timers, so it works inside testing/synctest.
package transporttest

import (
	"bytes"
	"sync"
	"time"

	"github.com/failover-ha/failover/transport"
)

// QueueLen is how many undelivered packets a fake Path holds before it
// drops (and counts) further ones.
const QueueLen = 256

// Link is a medium joining the same-named Path of several nodes. Safe for
// concurrent use.
type Link struct {
	name string
	now  func() time.Time

	mu   sync.Mutex
	ends []*Path
	cut  bool
}

// NewLink returns a link whose paths are called name. now stamps
// Packet.At (time.Now if nil).
func NewLink(name string, now func() time.Time) *Link {
	if now == nil {
		now = time.Now
	}
	return &Link{name: name, now: now}
}

// Attach adds node's end of the link.
func (l *Link) Attach(node string) *Path {
	p := &Path{link: l, node: node, in: make(chan transport.Packet, QueueLen), closed: make(chan struct{})}
	l.mu.Lock()
	l.ends = append(l.ends, p)
	l.mu.Unlock()
	return p
}

// Cut makes the link drop every frame (true) or carry them again (false).
func (l *Link) Cut(cut bool) { l.mu.Lock(); l.cut = cut; l.mu.Unlock() }

// Path is one node's end of a Link. It implements transport.Path.
type Path struct {
	link *Link
	node string
	in   chan transport.Packet
	ctr  transport.Counters

	closeOnce sync.Once
	closed    chan struct{}

	mu   sync.Mutex
	cut  bool // this end neither sends nor receives
	sent [][]byte
}

var _ transport.Path = (*Path)(nil)

// Name is the link's name.
func (p *Path) Name() string { return p.link.name }

// Node is the node this end belongs to.
func (p *Path) Node() string { return p.node }

// Counters counts sent, received and dropped frames.
func (p *Path) Counters() *transport.Counters { return &p.ctr }

// Cut cuts (true) or restores (false) this end only: like a pulled NIC.
func (p *Path) Cut(cut bool) { p.mu.Lock(); p.cut = cut; p.mu.Unlock() }

// Sent returns copies of every frame Send was given, cut or not.
func (p *Path) Sent() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]byte, len(p.sent))
	for i, b := range p.sent {
		out[i] = bytes.Clone(b)
	}
	return out
}

func (p *Path) isCut() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.cut }

func (p *Path) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// Send delivers a copy of b to every other open, uncut end of the link.
func (p *Path) Send(b []byte) error {
	if p.isClosed() {
		return transport.ErrClosed
	}
	p.mu.Lock()
	p.sent = append(p.sent, bytes.Clone(b))
	cut := p.cut
	p.mu.Unlock()
	p.ctr.Sent(len(b))
	l := p.link
	l.mu.Lock()
	ends := append([]*Path(nil), l.ends...)
	linkCut := l.cut
	l.mu.Unlock()
	if cut || linkCut {
		return nil // like a NIC without carrier: silently lost
	}
	for _, e := range ends {
		if e != p && !e.isCut() {
			e.deliver(bytes.Clone(b))
		}
	}
	return nil
}

// Inject delivers data to this end as if it came over the link (forged,
// replayed or garbage frames).
func (p *Path) Inject(data []byte) { p.deliver(bytes.Clone(data)) }

func (p *Path) deliver(data []byte) {
	if p.isClosed() {
		return
	}
	p.ctr.Received(len(data))
	select {
	case p.in <- transport.Packet{Path: p.link.name, Data: data, At: p.link.now()}:
	default:
		p.ctr.Drop()
	}
}

// Recv returns the next delivered packet, or ErrClosed after Close.
func (p *Path) Recv() (transport.Packet, error) {
	if p.isClosed() {
		return transport.Packet{}, transport.ErrClosed
	}
	select {
	case pk := <-p.in:
		return pk, nil
	case <-p.closed:
		return transport.Packet{}, transport.ErrClosed
	}
}

// Close is idempotent and unblocks Recv.
func (p *Path) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}
