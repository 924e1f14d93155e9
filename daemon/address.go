package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/vip"
)

type svcRT struct {
	cfg      config.ServiceConfig
	mgr      vipManager // full announce count
	one      vipManager // one GARP pair: the synchronous first one and refreshes
	owning   bool
	ensureAt time.Time
	announce time.Time
	stopAnn  context.CancelFunc
	stopDup  context.CancelFunc // ends the duplicate-address watch
	err      string
	ann      annStats // announce failures, written by announce goroutines
}

// annStats counts failed announcements (safe for concurrent use).
type annStats struct {
	failed atomic.Uint64
	mu     sync.Mutex
	last   string // the last failure's error
	lastAt time.Time
}

func (a *annStats) fail(err error) uint64 {
	a.mu.Lock()
	a.last, a.lastAt = err.Error(), time.Now()
	a.mu.Unlock()
	return a.failed.Add(1)
}

func (a *annStats) lastErr() (string, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last, a.lastAt
}

// Retries of an announcement that failed: the first after announceRetry,
// then every announce_interval, doubling up to announceRetryMax, until it
// lands or the address is released.
const (
	announceRetry    = 5 * time.Millisecond
	announceRetryMax = time.Second
)

// vipManager is vip.Manager plus Close.
type vipManager interface {
	vip.Manager
	Close() error
}

// openServices makes one address manager per VIP. A VIP kept across a
// reload (inherited) or found on the NIC, left by an earlier run of ours (a
// daemon killed and started again before the address's lifetime ran out),
// stays held, its lifetime refreshed, until the new core decides (see
// inherit); it is released anyway if the core has not claimed it by the
// end of the startup listen and two deadtimes.
func (s *session) openServices(inherited map[string]bool, now time.Time) {
	cfg, nw := s.cfg, s.nw
	for _, sc := range cfg.Services {
		rt := &svcRT{cfg: sc}
		s.svcs[sc.Name] = rt
		s.order = append(s.order, sc.Name)
		vc := s.vipConfigFor(sc)
		mgr, err := nw.newVIP(vc)
		if err != nil {
			rt.err = err.Error()
			s.log.Error("address manager not available; the service cannot run here", "service", sc.Name, "vip", sc.VIP, "reason", err.Error())
			continue
		}
		rt.mgr = mgr
		one := vc
		one.AnnounceCount = 1
		if rt.one, err = nw.newVIP(one); err != nil {
			rt.one = mgr
		}
		if inherited[sc.Name] {
			s.keep(sc.Name, rt, now)
			continue
		}
		present, err := mgr.Present(s.ctx)
		switch {
		case err != nil:
			s.log.Warn("cannot tell whether an earlier run left the VIP; removing any copy", "service", sc.Name, "vip", sc.VIP, "reason", err.Error())
			s.cleanup(sc, mgr)
		case !present:
			s.log.Debug("no stale VIP", "service", sc.Name, "vip", sc.VIP)
		default:
			// Nobody can have claimed it cleanly while it was here: it
			// answered their probes. Refresh it (its lifetime may be
			// about to end) and let the core decide.
			if err := mgr.Ensure(s.ctx); err != nil {
				s.log.Warn("cannot refresh the VIP an earlier run left; removing it", "service", sc.Name, "vip", sc.VIP, "reason", err.Error())
				s.cleanup(sc, mgr)
				continue
			}
			s.keep(sc.Name, rt, now)
			if e := ensureEvery(sc); e > 0 {
				rt.ensureAt = now.Add(e)
			}
			s.log.Warn("kept the VIP an earlier run left; the core decides once it has heard the peers", "service", sc.Name, "vip", sc.VIP, "interface", sc.Interface)
		}
	}
}

// keep holds a VIP this session did not add (see openServices) until the
// core decides; run steps quorum.Inherited for it.
func (s *session) keep(name string, rt *svcRT, now time.Time) {
	rt.owning = true // refresh it until the core decides
	if e := ensureEvery(rt.cfg); e > 0 {
		rt.ensureAt = now // at the first turn
	}
	if s.inherited == nil {
		s.inherited = map[string]time.Time{}
	}
	s.inherited[name] = now.Add(s.cfg.Timers.Startup + 2*s.cfg.Timers.Deadtime)
}

// cleanup removes a copy of the service's VIP an earlier run left.
func (s *session) cleanup(sc config.ServiceConfig, mgr vipManager) {
	cl, ok := mgr.(vip.Cleaner)
	if !ok {
		return
	}
	removed, err := cl.Cleanup(s.ctx)
	switch {
	case err != nil:
		s.log.Warn("stale VIP cleanup failed", "service", sc.Name, "vip", sc.VIP, "reason", err.Error())
	case removed:
		s.log.Warn("removed a stale VIP left by an earlier run", "service", sc.Name, "vip", sc.VIP, "interface", sc.Interface)
	}
}

// stepInherited tells the core about the VIPs held from an earlier run
// (keep), before any frame reaches it.
func (s *session) stepInherited(now time.Time) {
	for _, name := range s.order {
		if _, ok := s.inherited[name]; ok {
			s.step(now, quorum.Inherited{At: now, Service: name})
		}
	}
}

func ensureEvery(sc config.ServiceConfig) time.Duration {
	if sc.Lifetime <= 0 {
		return 0
	}
	return sc.Lifetime / 4
}

// add takes the VIP: Ensure, one GARP pair now, the rest in the background.
func (s *session) add(now time.Time, name string) {
	rt := s.svcs[name]
	if rt == nil {
		return
	}
	delete(s.inherited, name)
	if rt.mgr == nil {
		s.log.Error("cannot add VIP: no address manager", "service", name, "vip", rt.cfg.VIP, "reason", rt.err)
		return
	}
	t0 := time.Now()
	if err := rt.mgr.Ensure(s.ctx); err != nil {
		s.log.Error("VIP add failed", "service", name, "vip", rt.cfg.VIP, "interface", rt.cfg.Interface, "reason", err.Error())
		return
	}
	rt.owning = true
	if e := ensureEvery(rt.cfg); e > 0 {
		rt.ensureAt = now.Add(e)
	}
	if rt.cfg.AnnounceRefresh > 0 {
		rt.announce = now.Add(rt.cfg.AnnounceRefresh)
	}
	added := time.Now()
	first := rt.one.Announce(s.ctx)
	sent := time.Now()
	// Logged after the first announcement, so that no log write delays
	// it, each line stamped with the time its step ended: the lab bench
	// reads the stages of a takeover from these times.
	s.logAt(added, slog.LevelInfo, "VIP added", "service", name, "vip", rt.cfg.VIP, "interface", rt.cfg.Interface, "took", added.Sub(t0).Round(time.Microsecond))
	if first != nil {
		n := rt.ann.fail(first)
		s.log.Warn("gratuitous ARP failed; sending again", "service", name, "vip", rt.cfg.VIP, "failures", n, "reason", first.Error())
	} else {
		s.logAt(sent, slog.LevelInfo, "gratuitous ARP sent", "service", name, "vip", rt.cfg.VIP, "took", sent.Sub(added).Round(time.Microsecond))
	}
	s.watchDup(name, rt)
	switch {
	case first != nil:
		// Every round again, soon: the clients still go to the old owner.
		s.announceAsync(name, rt, rt.mgr, announceRetry)
	case rt.cfg.AnnounceCount > 1:
		s.announceAsync(name, rt, rt.mgr, rt.cfg.AnnounceInterval)
	}
}

// logAt logs msg as if it had been logged at t (an earlier moment whose
// time matters more than the moment of the write).
func (s *session) logAt(t time.Time, lvl slog.Level, msg string, args ...any) {
	if !s.log.Enabled(s.ctx, lvl) {
		return
	}
	rec := slog.NewRecord(t, lvl, msg, 0)
	rec.Add(args...)
	s.log.Handler().Handle(s.ctx, rec)
}

// announceAsync runs m.Announce after delay on its own goroutine, and
// again until it lands: a failed announcement is retried after
// announceRetry, then every announce_interval (doubling up to
// announceRetryMax), each time on a fresh socket (the manager drops one
// that failed). Release cancels it; an address no longer present ends it
// (the refresh or the core deals with that).
func (s *session) announceAsync(name string, rt *svcRT, m vipManager, delay time.Duration) {
	if m == nil {
		return
	}
	if rt.stopAnn != nil {
		rt.stopAnn()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	rt.stopAnn = cancel
	t0 := time.Now()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			if time.Since(t0) > delay+s.cfg.Timers.Deadtime {
				return // we stood still: the loop's stall guard decides (stall.go)
			}
		}
		wait := max(rt.cfg.AnnounceInterval, announceRetry)
		var t *time.Timer
		for tries := 1; ; tries++ {
			err := m.Announce(ctx)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				if tries > 1 {
					s.log.Info("gratuitous ARP landed", "service", name, "vip", rt.cfg.VIP, "tries", tries)
				}
				return
			}
			if errors.Is(err, vip.ErrLate) {
				s.log.Info("gratuitous ARP not sent: it came due while we stood still", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
				return // the loop's stall guard decides (stall.go)
			}
			n := rt.ann.fail(err)
			if errors.Is(err, vip.ErrNotPresent) {
				s.log.Warn("gratuitous ARP not sent: the address is not on the interface", "service", name, "vip", rt.cfg.VIP, "failures", n)
				return
			}
			lvl := slog.LevelDebug
			if tries == 1 {
				lvl = slog.LevelWarn
			}
			s.log.Log(ctx, lvl, "gratuitous ARP failed; sending again", "service", name, "vip", rt.cfg.VIP, "tries", tries, "failures", n, "reason", err.Error())
			d := announceRetry
			if tries > 1 {
				d, wait = wait, min(2*wait, announceRetryMax)
			}
			if t == nil {
				t = time.NewTimer(d)
				defer t.Stop()
			} else {
				t.Reset(d)
			}
			due := time.Now().Add(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			if time.Since(due) > s.cfg.Timers.Deadtime {
				return // we stood still: the loop's stall guard decides (stall.go)
			}
		}
	}()
}

// release drops the VIP.
func (s *session) release(name string, rt *svcRT) {
	delete(s.inherited, name)
	if rt.stopAnn != nil {
		rt.stopAnn()
		rt.stopAnn = nil
	}
	if rt.stopDup != nil {
		rt.stopDup()
		rt.stopDup = nil
	}
	rt.owning = false
	rt.ensureAt, rt.announce = time.Time{}, time.Time{}
	if rt.mgr == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rt.mgr.Release(ctx); err != nil {
		s.log.Error("VIP release failed", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
		return
	}
	s.log.Info("VIP released", "service", name, "vip", rt.cfg.VIP, "interface", rt.cfg.Interface)
}

// probe asks the segment for another owner; the answer comes back as Probed.
func (s *session) probe(name string) {
	rt := s.svcs[name]
	if rt == nil {
		return
	}
	if rt.mgr == nil {
		s.events <- quorum.Probed{At: time.Now(), Service: name}
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		mac, err := rt.mgr.Probe(s.ctx)
		if err != nil {
			s.log.Warn("probe failed; treating as no answer", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
		}
		ev := quorum.Probed{At: time.Now(), Service: name, Conflict: mac != nil}
		if mac != nil {
			ev.By = mac.String()
		}
		select {
		case s.events <- ev:
		case <-s.ctx.Done():
		}
	}()
}

// watchDup raises an alarm (log, status, trap) the first time each foreign
// host claims the address of a service we own: an ARP reply or gratuitous
// ARP for our VIP from another MAC. It only reports: the heartbeats decide
// who keeps the address (a split brain is resolved by the core), and a
// re-announce here could race the core's hand-over.
func (s *session) watchDup(name string, rt *svcRT) {
	w, ok := rt.mgr.(vip.Watcher)
	if !ok || rt.stopDup != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	rt.stopDup = cancel
	vipText := fmt.Sprint(rt.cfg.VIP)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		seen := map[string]bool{} // only this goroutine's callback touches it
		err := w.Watch(ctx, func(mac net.HardwareAddr) {
			if seen[mac.String()] {
				return
			}
			seen[mac.String()] = true
			a := quorum.Alarm{Service: name, Text: fmt.Sprintf("duplicate address: %s also answers for %s", mac, vipText)}
			r := request{fn: func(s *session) {
				// Released meanwhile (the loop ended this watch): the
				// claim is the new owner's announcement, not a duplicate.
				if ctx.Err() != nil {
					return
				}
				s.trap(a)
				s.alarm(time.Now(), a)
			}, done: make(chan struct{})}
			select {
			case s.d.reqs <- r:
			case <-ctx.Done():
			}
		})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("duplicate-address watch stopped", "service", name, "vip", vipText, "reason", err.Error())
		}
	}()
}

// held lists the services whose VIP this session holds.
func (s *session) held() map[string]bool {
	m := map[string]bool{}
	for name, rt := range s.svcs {
		if rt.owning {
			m[name] = true
		}
	}
	return m
}

// vipConfig turns a service's config into the vip package's.
func vipConfig(s config.ServiceConfig) vip.Config {
	return vip.Config{
		Addr:             s.VIP,
		Interface:        s.Interface,
		Label:            s.Label,
		Lifetime:         s.Lifetime,
		AnnounceCount:    s.AnnounceCount,
		AnnounceInterval: s.AnnounceInterval,
		ProbeWindow:      s.ProbeWindow,
		AnnounceRefresh:  s.AnnounceRefresh,
	}
}

// vipConfigFor is vipConfig with the session's stall bound: a round of an
// announcement that comes due later than the deadtime is stale.
func (s *session) vipConfigFor(sc config.ServiceConfig) vip.Config {
	vc := vipConfig(sc)
	vc.StaleAfter = s.cfg.Timers.Deadtime
	return vc
}

// refresh re-adds owned VIPs before their lifetime runs out, re-announces
// them every announce_refresh, and releases a VIP kept from an earlier run
// (a reload, a killed daemon) that the core did not claim in time.
func (s *session) refresh(now time.Time) {
	for _, name := range s.order {
		rt := s.svcs[name]
		if !rt.owning || rt.mgr == nil {
			continue
		}
		if !rt.ensureAt.IsZero() && !now.Before(rt.ensureAt) {
			if err := rt.mgr.Ensure(s.ctx); err != nil {
				s.log.Error("VIP refresh failed", "service", name, "vip", rt.cfg.VIP, "reason", err.Error())
			}
			rt.ensureAt = now.Add(ensureEvery(rt.cfg))
		}
		if !rt.announce.IsZero() && !now.Before(rt.announce) {
			rt.announce = now.Add(rt.cfg.AnnounceRefresh)
			s.announceAsync(name, rt, rt.one, 0)
		}
	}
	for name, t := range s.inherited {
		if now.Before(t) {
			continue
		}
		delete(s.inherited, name)
		if st := s.serviceState(name); st != quorum.StateUp {
			s.log.Info("releasing a VIP kept from an earlier run: the core did not claim it", "service", name, "vip", s.svcs[name].cfg.VIP)
			s.release(name, s.svcs[name])
		}
	}
}

// vipWake is the earlier of w and the next VIP refresh or reload release.
func (s *session) vipWake(w time.Time) time.Time {
	for _, rt := range s.svcs {
		if rt.owning {
			if !rt.ensureAt.IsZero() && rt.ensureAt.Before(w) {
				w = rt.ensureAt
			}
			if !rt.announce.IsZero() && rt.announce.Before(w) {
				w = rt.announce
			}
		}
	}
	for _, t := range s.inherited {
		if t.Before(w) {
			w = t
		}
	}
	return w
}
