package daemon

import (
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/notify"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

// svcStats are what the daemon counts about a service across sessions
// (a reload keeps them). Loop goroutine only.
type svcStats struct {
	transitions  map[[2]string]uint64 // (to, reason class) -> changes
	owner        string               // who held it at the last look
	outageFrom   time.Time            // when the holder was last lost (zero: held)
	lastOutage   time.Duration
	lastOutageAt time.Time
}

// notifyConfig turns the config's hooks into the runner's.
func notifyConfig(cfg *config.Config) notify.Config {
	nc := notify.Config{Global: cfg.Notify, Service: map[string][]string{}, Timeout: cfg.NotifyTimeout, FIFO: cfg.NotifyFIFO}
	for _, sc := range cfg.Services {
		if len(sc.Notify) > 0 {
			nc.Service[sc.Name] = sc.Notify
		}
	}
	return nc
}

// hooksConfigured reports whether cfg runs hooks or writes a FIFO.
func hooksConfigured(cfg *config.Config) bool {
	nc := notifyConfig(cfg)
	return len(nc.Global) > 0 || len(nc.Service) > 0 || nc.FIFO != ""
}

func (d *Daemon) stats(name string) *svcStats {
	st := d.svcStats[name]
	if st == nil {
		st = &svcStats{transitions: map[[2]string]uint64{}}
		d.svcStats[name] = st
	}
	return st
}

// observe runs after the core's actions were carried out: every
// StateChanged is counted and queued for the hooks (which never delay the
// loop), and the owners are looked at again when a state or a verdict
// changed. Loop only.
func (s *session) observe(now time.Time, acts []quorum.Action) {
	look := false
	for _, a := range acts {
		switch a := a.(type) {
		case quorum.StateChanged:
			look = true
			st := s.d.stats(a.Service)
			st.transitions[[2]string{a.To.String(), reasonClass(a.Reason)}]++
			c := notify.Change{At: now, Node: s.cfg.Node, Service: a.Service, From: a.From.String(), To: a.To.String(), Reason: a.Reason}
			if rt := s.svcs[a.Service]; rt != nil {
				c.VIP = rt.cfg.VIP.String()
			}
			s.d.hooks.Notify(c)
		case quorum.PeerChanged:
			look = true
		}
	}
	if look && s.core != nil {
		s.trackOwners(now)
	}
}

// trackOwners notes when a service loses its holder and, when it has one
// again, how long nobody held it: the last outage as this node saw it.
// Loop only.
func (s *session) trackOwners(now time.Time) {
	for _, ss := range s.core.Status().Services {
		st := s.d.stats(ss.Name)
		switch {
		case st.owner != "" && ss.Owner == "":
			st.outageFrom = now
		case st.owner == "" && ss.Owner != "" && !st.outageFrom.IsZero():
			st.lastOutage, st.lastOutageAt = now.Sub(st.outageFrom), now
			st.outageFrom = time.Time{}
			s.log.Info("service held again", "service", ss.Name, "owner", ss.Owner, "outage", st.lastOutage.Round(time.Microsecond))
		}
		st.owner = ss.Owner
	}
}

// advertChanged reports whether a peer's newly heard service states differ
// from the ones it advertised before.
func advertChanged(old, svcs []transport.ServiceView) bool {
	if len(old) != len(svcs) {
		return true
	}
	for i := range old {
		if old[i].Name != svcs[i].Name || old[i].State != svcs[i].State {
			return true
		}
	}
	return false
}

// reasonClass sorts a state change's reason (the core's texts) into a few
// kinds, a metric label of bounded cardinality.
func reasonClass(reason string) string {
	r := strings.TrimPrefix(reason, "claimed: ")
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(r, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("operator:"):
		return "operator"
	case has("health"):
		return "health"
	case has("carrier"):
		return "carrier"
	case has("split brain"):
		return "split_brain"
	case has("shutdown"):
		return "shutdown"
	case has("kept the address"):
		return "restart"
	case has("we outrank holder", "reclaimed by") || strings.HasSuffix(r, "(reclaim)"):
		return "failback"
	case strings.HasSuffix(r, "(hand-over)"):
		return "handover"
	case has("peer ") && strings.Contains(r, " dead"):
		return "peer_dead"
	case has("nobody holds") || strings.Contains(r, " reports "):
		return "free"
	case has("no longer eligible", "isolated", "listening", "holder ") || strings.Contains(r, " outranks us") || strings.Contains(r, " holds "):
		return "stand_down"
	}
	return "other"
}
