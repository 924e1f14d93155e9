// Package snmp sends SNMPv2c traps about a failover node's state
// changes, as the original Failover did.
//
// A Sender takes Events with Notify, which never blocks: events go into a
// bounded queue and one goroutine (Run) sends them, one v2c trap per event
// and target. When the queue is full the event is dropped, counted
// (Dropped) and logged, so a slow or unreachable trap receiver can never
// delay the daemon's core loop. Traps are UDP and unacknowledged: a trap
// lost on the way is not noticed.
//
// Every trap carries sysUpTime.0 (the Sender's uptime), snmpTrapOID.0 (one
// of the notification OIDs below) and the varbinds node, service, peer,
// from-state, to-state and reason. The OIDs live under Enterprise, which is
// a PLACEHOLDER private enterprise number (99999), not one assigned to this
// project by IANA; a site that needs stable OIDs should register its own
// and change Enterprise.
//
// Notify, Dropped and SetConfig are safe for concurrent use; Run must be
// called once.
package snmp
