package transport

import (
	"fmt"
	"sync"
)

// ReplayWindow is the number of sequence numbers below the highest one seen
// that a ReplayGuard still accepts (once each), so frames reordered by up to
// this many positions are delivered.
const ReplayWindow = 64

// DefaultReplayEntries bounds the (peer, path) pairs a ReplayGuard tracks.
// Only authenticated frames reach the guard, so the bound matters only in
// unauthenticated mode, where anyone can invent node names.
const DefaultReplayEntries = 1024

// ReplayGuard drops replayed frames per (peer node, path): for each pair it
// keeps the sender's epoch and a sliding window of ReplayWindow sequence
// numbers below the highest one seen. A higher epoch (the peer restarted)
// resets the window; a lower epoch is rejected. Safe for concurrent use.
type ReplayGuard struct {
	mu  sync.Mutex
	max int
	m   map[replayKey]*window
}

type replayKey struct{ peer, path string }

type window struct {
	epoch uint64
	top   uint64 // highest seq accepted in epoch
	seen  uint64 // bit i set: top-i was accepted
}

// NewReplayGuard returns a guard tracking at most maxEntries (peer, path)
// pairs (DefaultReplayEntries if maxEntries <= 0).
func NewReplayGuard(maxEntries int) *ReplayGuard {
	if maxEntries <= 0 {
		maxEntries = DefaultReplayEntries
	}
	return &ReplayGuard{max: maxEntries, m: make(map[replayKey]*window)}
}

// Check accepts (epoch, seq) from peer on path and records it, or returns an
// error wrapping ErrReplay and records nothing. Call it only for frames that
// passed Sealer.Open: a forged frame must not move the window.
func (g *ReplayGuard) Check(peer, path string, epoch, seq uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := replayKey{peer, path}
	w := g.m[k]
	if w == nil {
		if len(g.m) >= g.max {
			return fmt.Errorf("%w: %s on %s: replay table full (%d pairs)", ErrReplay, peer, path, g.max)
		}
		g.m[k] = &window{epoch: epoch, top: seq, seen: 1}
		return nil
	}
	switch {
	case epoch < w.epoch:
		return fmt.Errorf("%w: %s on %s: epoch %d below current %d", ErrReplay, peer, path, epoch, w.epoch)
	case epoch > w.epoch:
		*w = window{epoch: epoch, top: seq, seen: 1}
		return nil
	case seq > w.top:
		d := seq - w.top
		if d >= 64 {
			w.seen = 1
		} else {
			w.seen = w.seen<<d | 1
		}
		w.top = seq
		return nil
	}
	d := w.top - seq
	if d >= ReplayWindow {
		return fmt.Errorf("%w: %s on %s: seq %d older than window (top %d)", ErrReplay, peer, path, seq, w.top)
	}
	if w.seen&(1<<d) != 0 {
		return fmt.Errorf("%w: %s on %s: seq %d already seen", ErrReplay, peer, path, seq)
	}
	w.seen |= 1 << d
	return nil
}

// Forget drops the state of every path of peer (for a peer removed from the
// configuration).
func (g *ReplayGuard) Forget(peer string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k := range g.m {
		if k.peer == peer {
			delete(g.m, k)
		}
	}
}
