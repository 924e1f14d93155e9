package daemon

import (
	"log/slog"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
	"github.com/failover-ha/failover/quorum"
)

// trapConfig is the trap sender's view of the [snmp] table.
func trapConfig(c *config.Config) snmp.Config {
	s := c.SNMP
	tc := snmp.Config{Targets: s.TrapTargets, Enterprise: s.EnterpriseOID, Version: config.V2c, Community: s.Community}
	if s.Version == "3" {
		tc.Version, tc.Community = config.V3, ""
		tc.USM = snmp.USM{
			User:           s.User,
			Level:          s.SecurityLevel,
			Auth:           s.AuthProtocol,
			AuthPassphrase: s.AuthPassphrase.Reveal(),
			Priv:           s.PrivProtocol,
			PrivPassphrase: s.PrivPassphrase.Reveal(),
			EngineID:       s.EngineID,
		}
	}
	return tc
}

// logTraps says where traps go and, for v3, the engine ID the receivers
// need; it warns while the enterprise arc is the placeholder.
func logTraps(log *slog.Logger, c *config.Config) {
	s := c.SNMP
	if len(s.TrapTargets) == 0 {
		return
	}
	args := []any{"targets", len(s.TrapTargets), "version", s.Version, "enterprise_oid", s.EnterpriseOID}
	if s.Version == "3" {
		args = append(args, "user", s.User, "security_level", s.SecurityLevel.String(), "engine_id", config.FormatEngineID(s.EngineID))
	}
	log.Info("snmp traps on", args...)
	if s.EnterpriseOID == config.DefaultEnterprise {
		log.Warn("snmp enterprise_oid is the placeholder " + config.DefaultEnterprise + " (not assigned by IANA): set your own PEN arc in [snmp] enterprise_oid and in FAILOVER-MIB")
	}
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
