package daemon

import (
	"github.com/failover-ha/failover/transport"
	"github.com/failover-ha/failover/vip"
)

// ifIndexer is a path bound to one NIC by its index (udp.Path).
type ifIndexer interface{ IfIndex() int }

// linkChanged re-opens, when a NIC's carrier comes back, what its down
// invalidated: the address managers' ARP sockets on it (a packet socket
// open across a down reports ENETDOWN on its next send), and the UDP path
// on it if the NIC is no longer the one the path was bound to (recreated by
// a driver reset: a new index) or the path never opened. A UDP socket bound
// to a NIC that only went down and up keeps working, and so does its group
// membership: the kernel joins again and reports it when the NIC comes up
// (checked in the lab: multicast heartbeats arrive on the old socket).
func (s *session) linkChanged(rt *pathRT, up bool) {
	if !up || rt.cfg.Kind != "udp" {
		return
	}
	for _, name := range s.order {
		svc := s.svcs[name]
		if svc.cfg.Interface != rt.cfg.Interface {
			continue
		}
		for _, m := range []vipManager{svc.mgr, svc.one} {
			if r, ok := m.(vip.Reopener); ok {
				r.Reopen()
			}
		}
	}
	s.reopenUDP(rt)
}

// reopenUDP opens rt's UDP path again if its NIC changed or it was never
// open, and swaps the new one in (with a new reader; the old reader ends
// when its path is closed). The new path's counters start at zero.
func (s *session) reopenUDP(rt *pathRT) {
	idx, err := s.nw.ifIndex(rt.cfg.Interface)
	if err != nil {
		s.log.Debug("path not checked after carrier came back", "path", rt.cfg.Name, "reason", err.Error())
		return
	}
	if x, ok := rt.p.(ifIndexer); rt.p != nil && (!ok || x.IfIndex() == idx) {
		return
	}
	p, err := s.nw.openUDP(rt.cfg)
	if err != nil {
		rt.err = err.Error()
		s.log.Warn("path not re-opened after carrier came back", "path", rt.cfg.Name, "interface", rt.cfg.Interface, "reason", err.Error())
		return
	}
	nrt := &pathRT{cfg: rt.cfg, p: p, interval: rt.interval, next: rt.next, carrier: rt.carrier, own: rt.own, foreign: rt.foreign}
	if pcs, ok := p.(pathCounters); ok {
		nrt.ctr = pcs.Counters()
	} else {
		nrt.ctr = new(transport.Counters)
	}
	for i, x := range s.paths {
		if x == rt {
			s.paths[i] = nrt
		}
	}
	s.byName[rt.cfg.Name] = nrt
	if rt.p != nil {
		rt.p.Close() // its reader gets ErrClosed and returns
	}
	s.wg.Add(1)
	go s.read(nrt)
	s.log.Info("path re-opened: its NIC was recreated or it was never open", "path", rt.cfg.Name, "interface", rt.cfg.Interface, "ifindex", idx)
}
