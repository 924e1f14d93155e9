package daemon

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/check"
	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/notify"
	"github.com/failover-ha/failover/quorum"
)

// status builds the control API's view. Loop goroutine only.
func (s *session) status() *client.Status {
	now := time.Now()
	cs := s.core.Status()
	st := &client.Status{
		Node: s.cfg.Node, Cluster: s.cfg.Cluster, ClusterID: s.cfg.ClusterID, Epoch: s.epoch,
		Started: s.d.start, Uptime: client.Duration(now.Sub(s.d.start).Round(time.Millisecond)), Now: now,
		Interval: client.Duration(s.cfg.Timers.Interval), Deadtime: client.Duration(s.cfg.Timers.Deadtime),
		Insecure: s.cfg.InsecureNoAuth, Config: s.cfg.File,
		Alarms: append([]client.Alarm(nil), s.alarms...),
		Stalls: s.stall.count, LastStall: client.Duration(s.stall.last.Round(time.Millisecond)), LastStallAt: s.stall.lastAt,
	}
	flapping := map[string]bool{}
	for _, lp := range cs.Paths {
		flapping[lp.Name] = lp.Flapping
	}
	for _, m := range cs.Mismatches {
		st.Mismatch = append(st.Mismatch, m.Peer+": "+m.Key+": ours "+m.Ours+", theirs "+m.Theirs)
		st.MismatchDetail = append(st.MismatchDetail, client.Mismatch{Peer: m.Peer, Key: m.Key, Ours: m.Ours, Theirs: m.Theirs})
	}
	rtt, jitter := map[string]time.Duration{}, map[string]time.Duration{}
	for _, rt := range s.paths {
		p := client.Path{
			Name: rt.cfg.Name, Kind: rt.cfg.Kind, Interface: rt.cfg.Interface, Device: rt.cfg.Device,
			Open: rt.p != nil, Carrier: rt.p != nil && rt.carrier, Error: rt.err,
			OwnFrames: rt.own, Flapping: flapping[rt.cfg.Name], Stale: s.stall.stale[rt.cfg.Name],
		}
		if rt.ctr != nil {
			c := rt.ctr.Snapshot()
			p.Sent, p.SendErr, p.Received = c.FramesSent, c.SendErrors, c.FramesRecv
			p.BadAuth = c.AuthFailures + c.Malformed + c.BadVersion
			p.Damaged = c.Malformed + c.BadVersion
			p.Replayed, p.Foreign = c.Replays, c.OtherCluster
			p.BytesSent, p.BytesRecv, p.AuthFail = c.BytesSent, c.BytesRecv, c.AuthFailures
			p.RTT, p.Jitter = client.Duration(c.RTT), client.Duration(c.Jitter)
			p.SentRate, p.RecvRate = rt.traffic.rates(now, rt.ctr)
			rtt[rt.cfg.Name] = c.RTT
			jitter[rt.cfg.Name] = c.Jitter
		}
		st.Paths = append(st.Paths, p)
	}
	dead := map[string]bool{}
	for _, pe := range cs.Peers {
		dead[pe.Name] = pe.State == quorum.PeerDead
		cp := client.Peer{Name: pe.Name, State: pe.State.String(), Reason: pe.Reason, Epoch: pe.Epoch}
		for _, pp := range pe.Paths {
			x := client.PeerPath{
				Path: pp.Name, State: pp.State.String(), LastHeard: pp.LastHeard,
				Loss: pp.Loss * 100, Epoch: pe.Epoch, RTT: client.Duration(rtt[pp.Name]), Jitter: client.Duration(jitter[pp.Name]),
				Flapping: pp.Flapping, OneWay: pp.OneWay,
			}
			if !pp.LastHeard.IsZero() {
				x.Age = client.Duration(now.Sub(pp.LastHeard).Round(time.Microsecond))
			}
			cp.Paths = append(cp.Paths, x)
		}
		st.Peers = append(st.Peers, cp)
	}
	checks := map[string][]check.Status{}
	if s.checks != nil {
		for _, c := range s.checks.Status() {
			checks[c.Spec.Service] = append(checks[c.Spec.Service], c)
		}
	}
	byName := map[string]quorum.ServiceStatus{}
	for _, ss := range cs.Services {
		byName[ss.Name] = ss
	}
	for _, name := range s.order {
		rt := s.svcs[name]
		ss := byName[name]
		cs := client.Service{
			Name: name, State: ss.State.String(), Owner: ss.Owner, Priority: ss.Priority,
			VIP: rt.cfg.VIP.String(), Interface: rt.cfg.Interface, Present: rt.owning,
			Reason: ss.Reason, Since: ss.Since, Nodes: rt.cfg.Priority, Drop: ss.Drop,
		}
		s.serviceExtras(&cs, checks[name])
		if rt.mgr != nil {
			if ok, err := rt.mgr.Present(s.ctx); err == nil {
				cs.Present = ok
			}
		}
		for _, pe := range s.cfg.Peers {
			if dead[pe.Name] {
				continue // its last advert is not its state now
			}
			for _, sv := range s.remote[pe.Name].svcs {
				if sv.Name == name {
					cs.Remote = append(cs.Remote, client.RemoteState{Node: pe.Name, State: quorum.State(sv.State).String(), Priority: int(sv.Priority)})
				}
			}
		}
		if cs.Reason == "" && rt.err != "" {
			cs.Reason = rt.err
		}
		cs.AnnounceFailures = rt.ann.failed.Load()
		cs.AnnounceError, cs.AnnounceErrorAt = rt.ann.lastErr()
		st.Services = append(st.Services, cs)
	}
	if ns := s.d.hooks.Status(); hooksConfigured(s.cfg) || len(ns.Recent) > 0 {
		st.Hooks = hookStatus(ns)
	}
	return st
}

// serviceExtras adds a service's checks, transitions and last outage.
func (s *session) serviceExtras(cs *client.Service, checks []check.Status) {
	for _, c := range checks {
		sp := c.Spec
		target := sp.Target
		if sp.Kind == check.KindExec {
			target = strings.Join(sp.Command, " ")
		} else if sp.Method == check.MethodARP {
			target = "arp " + sp.Target + " on " + sp.Interface
		}
		cs.Checks = append(cs.Checks, client.Check{
			Name: sp.Name, Kind: string(sp.Kind), Target: target, Effect: sp.Effect.String(), Weight: sp.Weight,
			Interval: client.Duration(sp.Interval), Timeout: client.Duration(sp.Timeout), Rise: sp.Rise, Fall: sp.Fall,
			OK: c.OK, Since: c.Since, Streak: c.Streak, LastOK: c.Last.OK, LastRun: c.Last.At, Output: c.Last.Output,
			Duration: client.Duration(c.Last.Duration), Runs: c.Runs, Failures: c.Failures,
		})
	}
	st := s.d.svcStats[cs.Name]
	if st == nil {
		return
	}
	keys := slices.Collect(maps.Keys(st.transitions))
	slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		cs.Transitions = append(cs.Transitions, client.Transition{To: k[0], Reason: k[1], Count: st.transitions[k]})
	}
	cs.LastOutage, cs.LastOutageAt = client.Duration(st.lastOutage), st.lastOutageAt
}

// hookStatus is the notify runner's status in the API's terms.
func hookStatus(ns notify.Status) *client.Hooks {
	run := func(r notify.Run) client.HookRun {
		return client.HookRun{Service: r.Service, Hook: r.Hook, From: r.From, To: r.To, Command: r.Command, At: r.At,
			Duration: client.Duration(r.Duration), Exit: r.Exit, TimedOut: r.TimedOut, Error: r.Error, Output: r.Output}
	}
	h := &client.Hooks{Queued: ns.Queued, Dropped: ns.Dropped, FIFO: ns.FIFO, FIFOLines: ns.FIFOLines, FIFODropped: ns.FIFODropped, FIFOError: ns.FIFOError}
	for _, r := range ns.Recent {
		h.Recent = append(h.Recent, run(r))
	}
	for _, hs := range ns.Hooks {
		h.Stats = append(h.Stats, client.HookStats{Service: hs.Service, Hook: hs.Hook, Runs: hs.Runs, Failed: hs.Failed, TimedOut: hs.TimedOut, Last: run(hs.Last)})
	}
	return h
}
