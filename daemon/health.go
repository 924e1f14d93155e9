package daemon

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/check"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
)

// svcHealth is one service's health as the shell sums it for the core: the
// carrier of its NIC and its failing fail checks make the Health event,
// its failing weight checks the Weight event. Loop goroutine only.
type svcHealth struct {
	noCarrier string            // why the NIC has no carrier ("" = it has)
	failing   map[string]string // fail checks failing: check -> reason
	weights   map[string]int    // weight checks failing: check -> weight
}

// checkSpecs translates the config's checks into the scheduler's.
func checkSpecs(cfg *config.Config) []check.Spec {
	var specs []check.Spec
	for _, sc := range cfg.Services {
		for _, cc := range sc.Checks {
			sp := check.Spec{
				Service: sc.Name, Name: cc.Name, Kind: check.Kind(cc.Kind), Command: cc.Command, Target: cc.Target,
				Method: cc.Method, Interface: cc.Interface, Status: cc.Status, Body: cc.Body,
				Interval: cc.Interval, Timeout: cc.Timeout, Rise: cc.Rise, Fall: cc.Fall,
				Effect: check.EffectFail, Weight: cc.Weight,
			}
			if cc.Effect == "weight" {
				sp.Effect = check.EffectWeight
			}
			specs = append(specs, sp)
		}
	}
	return specs
}

// openChecks builds the session's check scheduler; Run starts it.
func (s *session) openChecks() error {
	s.health = map[string]*svcHealth{}
	for _, name := range s.order {
		s.health[name] = &svcHealth{failing: map[string]string{}, weights: map[string]int{}}
	}
	specs := checkSpecs(s.cfg)
	sch, err := check.New(specs, check.Options{
		Logger: s.log,
		Inside: s.nw.inside,
		OnChange: func(c check.Change) {
			s.post(func(cur *session) {
				if cur == s {
					s.checkChanged(c)
				}
			})
		},
	})
	if err != nil {
		return fmt.Errorf("daemon: checks: %w", err)
	}
	s.checks = sch
	if len(specs) > 0 {
		s.log.Info("health checks configured", "checks", len(specs))
	}
	return nil
}

// startChecks runs the checks until the session ends.
func (s *session) startChecks() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.checks.Run(s.ctx)
	}()
}

// post runs fn on the loop goroutine without waiting for it; it gives up
// when the session ends.
func (s *session) post(fn func(*session)) {
	r := request{fn: fn, done: make(chan struct{})}
	select {
	case s.d.reqs <- r:
	case <-s.ctx.Done():
	}
}

// checkChanged feeds a check's verdict change to the core. Loop only.
func (s *session) checkChanged(c check.Change) {
	h := s.health[c.Service]
	if h == nil {
		return
	}
	now := time.Now()
	switch c.Effect {
	case check.EffectWeight:
		if c.OK {
			delete(h.weights, c.Check)
		} else {
			h.weights[c.Check] = c.Weight
		}
		drop := 0
		for _, w := range h.weights {
			drop += w
		}
		s.log.Info("priority weight", "service", c.Service, "check", c.Check, "ok", c.OK, "drop", drop, "reason", c.Reason)
		s.step(now, quorum.Weight{Service: c.Service, Drop: drop})
	default:
		if c.OK {
			delete(h.failing, c.Check)
		} else {
			h.failing[c.Check] = c.Reason
		}
		s.sendHealth(now, c.Service, c.Reason)
	}
}

// carrierChanged records the carrier of a service's NIC and feeds the
// service's health to the core. Loop only.
func (s *session) carrierChanged(now time.Time, name string, up bool, reason string) {
	h := s.health[name]
	if h == nil {
		return
	}
	h.noCarrier = ""
	if !up {
		h.noCarrier = reason
	}
	s.sendHealth(now, name, reason)
}

// sendHealth gives the core the sum of the service's health: bad while its
// NIC has no carrier or any fail check fails. why is what just changed,
// the reason when the sum is good.
func (s *session) sendHealth(now time.Time, name, why string) {
	h := s.health[name]
	ev := quorum.Health{Service: name, OK: true, Reason: why}
	switch {
	case h.noCarrier != "":
		ev.OK, ev.Reason = false, h.noCarrier
	case len(h.failing) > 0:
		names := make([]string, 0, len(h.failing))
		for n := range h.failing {
			names = append(names, n)
		}
		slices.Sort(names)
		reasons := make([]string, len(names))
		for i, n := range names {
			reasons[i] = h.failing[n]
		}
		ev.OK, ev.Reason = false, strings.Join(reasons, "; ")
	}
	s.step(now, ev)
}
