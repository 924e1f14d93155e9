package daemon

import (
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
	"github.com/failover-ha/failover/quorum"
)

// trapConfig is the trap sender's view of the [snmp] table.
func trapConfig(c *config.Config) snmp.Config {
	return snmp.Config{Targets: c.SNMP.TrapTargets, Community: c.SNMP.Community}
}

// trapEvent is the SNMP trap a core action reports, if any: every service
// state change, peer verdict change and alarm.
func trapEvent(node string, a quorum.Action) (snmp.Event, bool) {
	switch a := a.(type) {
	case quorum.StateChanged:
		return snmp.Event{Kind: snmp.ServiceChanged, Node: node, Service: a.Service, From: a.From.String(), To: a.To.String(), Reason: a.Reason}, true
	case quorum.PeerChanged:
		return snmp.Event{Kind: snmp.PeerChanged, Node: node, Peer: a.Peer, From: a.From.String(), To: a.To.String(), Reason: a.Reason}, true
	case quorum.Alarm:
		return snmp.Event{Kind: snmp.Alarm, Node: node, Service: a.Service, Peer: a.Peer, Reason: a.Text}, true
	}
	return snmp.Event{}, false
}

// trap queues the trap of a, if it has one. It never blocks.
func (s *session) trap(a quorum.Action) {
	if ev, ok := trapEvent(s.cfg.Node, a); ok && s.d.traps != nil {
		s.d.traps.Notify(ev)
	}
}
