package daemon

import (
	"time"

	"github.com/failover-ha/failover/daemon/client"
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
	}
	for _, m := range cs.Mismatches {
		st.Mismatch = append(st.Mismatch, m.Peer+": "+m.Key+": ours "+m.Ours+", theirs "+m.Theirs)
	}
	rtt := map[string]time.Duration{}
	for _, rt := range s.paths {
		p := client.Path{
			Name: rt.cfg.Name, Kind: rt.cfg.Kind, Interface: rt.cfg.Interface, Device: rt.cfg.Device,
			Open: rt.p != nil, Carrier: rt.p != nil && rt.carrier, Error: rt.err,
			OwnFrames: rt.own,
		}
		if rt.ctr != nil {
			c := rt.ctr.Snapshot()
			p.Sent, p.SendErr, p.Received = c.FramesSent, c.SendErrors, c.FramesRecv
			p.BadAuth = c.AuthFailures + c.Malformed + c.BadVersion
			p.Replayed, p.Foreign = c.Replays, c.OtherCluster
			p.SentBytes, p.RecvBytes = c.BytesSent, c.BytesRecv
			p.SentRate, p.RecvRate = rt.traffic.rates(now, rt.ctr)
			rtt[rt.cfg.Name] = c.RTT
		}
		st.Paths = append(st.Paths, p)
	}
	for _, pe := range cs.Peers {
		cp := client.Peer{Name: pe.Name, State: pe.State.String(), Reason: pe.Reason, Epoch: pe.Epoch}
		for _, pp := range pe.Paths {
			x := client.PeerPath{
				Path: pp.Name, State: pp.State.String(), LastHeard: pp.LastHeard,
				Loss: pp.Loss * 100, Epoch: pe.Epoch, RTT: client.Duration(rtt[pp.Name]),
			}
			if !pp.LastHeard.IsZero() {
				x.Age = client.Duration(now.Sub(pp.LastHeard).Round(time.Microsecond))
			}
			cp.Paths = append(cp.Paths, x)
		}
		st.Peers = append(st.Peers, cp)
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
			Reason: ss.Reason, Since: ss.Since, Nodes: rt.cfg.Priority,
		}
		if rt.mgr != nil {
			if ok, err := rt.mgr.Present(s.ctx); err == nil {
				cs.Present = ok
			}
		}
		for _, pe := range s.cfg.Peers {
			for _, sv := range s.remote[pe.Name].svcs {
				if sv.Name == name {
					cs.Remote = append(cs.Remote, client.RemoteState{Node: pe.Name, State: quorum.State(sv.State).String(), Priority: int(sv.Priority)})
				}
			}
		}
		if cs.Reason == "" && rt.err != "" {
			cs.Reason = rt.err
		}
		st.Services = append(st.Services, cs)
	}
	return st
}
