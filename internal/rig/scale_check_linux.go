package rig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/client"
)

// logSizes is the size of every host's daemon log now.
func (r *Rig) logSizes() map[string]int64 {
	m := map[string]int64{}
	for _, h := range r.Hosts() {
		if fi, err := os.Stat(r.LogFile(h)); err == nil {
			m[h] = fi.Size()
		}
	}
	return m
}

// countSince counts, in every host's log after the offsets, the peer
// state changes and the stalls the daemons logged.
func (r *Rig) countSince(offsets map[string]int64) (peerChanges, stalls int) {
	for _, h := range r.Hosts() {
		b, err := readFrom(r.LogFile(h), offsets[h])
		if err != nil {
			continue
		}
		p, s := CountEvents(b)
		peerChanges += p
		stalls += s
	}
	return peerChanges, stalls
}

// readFrom reads file from offset to its end.
func readFrom(file string, off int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// and is a check that holds when both do.
func and(a, b func(ctx context.Context) (bool, string)) func(ctx context.Context) (bool, string) {
	return func(ctx context.Context) (bool, string) {
		ok, d := a(ctx)
		if !ok {
			return false, d
		}
		return b(ctx)
	}
}

// statuses asks every host's daemon for its status once.
func (r *Rig) statuses(ctx context.Context) (map[string]*client.Status, error) {
	m := map[string]*client.Status{}
	for _, h := range r.Hosts() {
		st, err := r.Status(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h, err)
		}
		m[h] = st
	}
	return m, nil
}

// preferredIn reports whether every service is up (with its address) on
// its preferred host only, as each host's status says.
func preferredIn(sts map[string]*client.Status, n int) (bool, string) {
	var wrong []string
	up := 0
	for _, h := range sortedHosts(sts) {
		for _, s := range sts[h].Services {
			pref := s.Nodes[h] == n // the config's priority of h
			if s.State == "up" {
				up++
			}
			if (s.State == "up") != pref || s.Present != pref {
				wrong = append(wrong, fmt.Sprintf("%s %s %s", h, s.Name, s.State))
			}
		}
	}
	if len(wrong) > 0 {
		if len(wrong) > 4 {
			wrong = append(wrong[:4], "...")
		}
		return false, fmt.Sprintf("%d services up; %s", up, strings.Join(wrong, ", "))
	}
	return true, fmt.Sprintf("%d services up", up)
}

// aliveIn reports whether every host sees peer alive ("" = every peer).
func aliveIn(sts map[string]*client.Status, peer string) (bool, string) {
	for _, h := range sortedHosts(sts) {
		for _, p := range sts[h].Peers {
			if (peer == "" || p.Name == peer) && p.State != "alive" {
				return false, h + " sees " + p.Name + " " + p.State + " (" + p.Reason + ")"
			}
		}
	}
	return true, "all alive"
}

// sortedHosts are the hosts of sts in rack order (h1, h2, ..., h10).
func sortedHosts(sts map[string]*client.Status) []string {
	hs := slices.Collect(maps.Keys(sts))
	slices.SortFunc(hs, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return hs
}

// allPreferred checks that every service is up on its preferred host only.
func (r *Rig) allPreferred(ctx context.Context) (bool, string) {
	sts, err := r.statuses(ctx)
	if err != nil {
		return false, err.Error()
	}
	return preferredIn(sts, len(r.Hosts()))
}

// allAlive checks that every host sees every peer alive.
func (r *Rig) allAlive(ctx context.Context) (bool, string) {
	sts, err := r.statuses(ctx)
	if err != nil {
		return false, err.Error()
	}
	return aliveIn(sts, "")
}

// homeAndAlive checks, from one status of every host, that every service
// is up on its preferred host only and that every host sees victim alive,
// and that the client's last answer for svc came from owner.
func (r *Rig) homeAndAlive(victim, svc, owner string) func(ctx context.Context) (bool, string) {
	return func(ctx context.Context) (bool, string) {
		sts, err := r.statuses(ctx)
		if err != nil {
			return false, err.Error()
		}
		if ok, d := preferredIn(sts, len(r.Hosts())); !ok {
			return false, d
		}
		if ok, d := aliveIn(sts, victim); !ok {
			return false, d
		}
		if a, ok := r.Prober(svc).Last(); !ok || a.From != owner {
			return false, "the client's last answer for " + svc + " came from " + orNone(a.From)
		}
		return true, "ready"
	}
}

// waiter polls a check until it holds, narrating progress once a second
// on progress.
type waiter struct {
	progress func(format string, args ...any)
	timeout  time.Duration
}

func (w *waiter) wait(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) error {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	// The times measured come from the daemons' logs and the client's
	// probes, not from this loop: it polls gently, so as not to load the
	// daemons it measures.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastSaid := t0
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		done, detail := check(cctx)
		ccancel()
		if len(detail) > 240 {
			detail = detail[:240] + "..."
		}
		if done {
			return nil
		}
		if time.Since(lastSaid) >= time.Second {
			lastSaid = time.Now()
			w.progress("waiting for %s: %s [%.0fs of %s]", what, detail, time.Since(t0).Seconds(), w.timeout)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s waiting for %s (now: %s)", w.timeout, what, detail)
			}
			return fmt.Errorf("interrupted while waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}
