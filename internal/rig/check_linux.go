package rig

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Settled returns a check (for polling) that svc is up on owner with the
// VIP on owner's eth0 only, recover on every other host not in skip, and
// that the client got an answer from owner to a probe sent after since. The
// string describes what it sees now.
func (r *Rig) Settled(svc, owner string, since time.Time, skip ...string) func(ctx context.Context) (bool, string) {
	return func(ctx context.Context) (bool, string) {
		var seen []string
		ok := true
		for _, h := range r.Hosts() {
			if slices.Contains(skip, h) {
				continue
			}
			state, _, err := r.State(ctx, h, svc)
			if err != nil {
				seen = append(seen, h+": "+err.Error())
				ok = false
				continue
			}
			present, _ := r.Present(h, svc)
			want := "recover"
			if h == owner {
				want = "up"
			}
			if state != want || present != (h == owner) {
				ok = false
			}
			vip := "no VIP"
			if present {
				vip = "VIP"
			}
			seen = append(seen, fmt.Sprintf("%s %s/%s", h, state, vip))
		}
		last := "nobody"
		a, found := r.Prober(svc).Last()
		if found {
			last = a.From
			if a.Sent.Before(since) {
				last += " (before the event)"
			}
		}
		if !found || a.From != owner || a.Sent.Before(since) {
			ok = false
		}
		seen = append(seen, "client answered by "+last)
		return ok, strings.Join(seen, ", ")
	}
}

// Poll calls check every 10ms until it reports done or ctx ends; the error
// names what was awaited and what check saw last.
func Poll(ctx context.Context, what string, check func(ctx context.Context) (bool, string)) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		done, detail := check(cctx)
		cancel()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last seen: %s)", what, context.Cause(ctx), detail)
		case <-t.C:
		}
	}
}

// Sampler watches where a service's VIP is, every few milliseconds, via
// netlink in each host. An overlap is recorded when two hosts hold the
// address in one sample and still do when read again in the reverse order,
// so a clean hand-off between two reads is not counted; an overlap shorter
// than one netlink read (well under a millisecond) can be missed.
type Sampler struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	samples  int
	overlaps []string
	seq      []string // holder changes, "h1", "h1+h2", "-"
	changes  []HolderChange
	ignore   []string
}

// Sample starts a Sampler for svc. Hosts in ignore are left out (a frozen
// host keeps its address in its own namespace, behind pulled cables);
// Ignore changes that set while it runs.
func (r *Rig) Sample(svc string, ignore ...string) *Sampler {
	s := &Sampler{stop: make(chan struct{}), ignore: slices.Clone(ignore)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			s.mu.Lock()
			ignore := slices.Clone(s.ignore)
			s.mu.Unlock()
			at := time.Now()
			holders := r.holders(svc, ignore, false)
			if len(holders) > 1 {
				// The hosts are read one after the other, so a hand-off
				// completing between two reads looks like an overlap.
				// Confirm in the reverse order: an address that was
				// released before the other was added is gone now.
				holders = r.holders(svc, ignore, true)
			}
			cur := strings.Join(holders, "+")
			if cur == "" {
				cur = "-"
			}
			s.mu.Lock()
			if !slices.Equal(ignore, s.ignore) {
				// Ignore changed during the reads: this sample mixes the
				// two settings.
				s.mu.Unlock()
				continue
			}
			if n := len(s.changes); n == 0 || !slices.Equal(s.changes[n-1].Holders, holders) {
				s.changes = append(s.changes, HolderChange{At: at, Holders: holders})
			}
			s.samples++
			if len(holders) > 1 {
				s.overlaps = append(s.overlaps, time.Now().Format("15:04:05.000")+" "+cur)
			}
			if len(s.seq) == 0 || s.seq[len(s.seq)-1] != cur {
				s.seq = append(s.seq, cur)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// Ignore leaves host out of the samples from now on (on) or takes it in
// again (off).
func (s *Sampler) Ignore(host string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignore = slices.DeleteFunc(s.ignore, func(h string) bool { return h == host })
	if on {
		s.ignore = append(s.ignore, host)
	}
}

// Changes returns every change of the holders with its time (the first
// sample is a change).
func (s *Sampler) Changes() []HolderChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}

// holders reads which hosts not in ignore hold svc's VIP, in host order or
// reversed.
func (r *Rig) holders(svc string, ignore []string, reverse bool) []string {
	hosts := r.Hosts()
	if reverse {
		slices.Reverse(hosts)
	}
	var out []string
	for _, h := range hosts {
		if slices.Contains(ignore, h) {
			continue
		}
		if ok, err := r.Present(h, svc); err == nil && ok {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// Stop ends sampling and returns the number of samples, the samples with
// more than one holder, and the sequence of holders seen.
func (s *Sampler) Stop() (samples int, overlaps, seq []string) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, slices.Clone(s.overlaps), slices.Clone(s.seq)
}

// Exited reports the first host (not in skip) whose failoverd has exited,
// with its exit status and the last lines of its log; nil if all run.
func (r *Rig) Exited(skip ...string) error {
	for _, h := range r.Hosts() {
		if slices.Contains(skip, h) {
			continue
		}
		d := r.Daemon(h)
		if d == nil {
			continue
		}
		select {
		case <-d.Done():
			b, _ := os.ReadFile(r.LogFile(h))
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if len(lines) > 10 {
				lines = lines[len(lines)-10:]
			}
			return fmt.Errorf("failoverd in %s exited (%v); its log ends:\n%s", h, d.Err(), strings.Join(lines, "\n"))
		default:
		}
	}
	return nil
}
