// Package snmp sends SNMP notifications (traps) about a failover node's
// state changes, SNMPv2c or SNMPv3, as FAILOVER-MIB defines them.
//
// A Sender takes Events with Notify, which never blocks: events go into a
// bounded queue and one goroutine (Run) sends them, one SNMPv2-Trap-PDU
// per event and target. When the queue is full the event is dropped,
// counted (Dropped) and logged, so a slow or unreachable trap receiver
// can never delay the daemon's core loop. Traps are UDP and
// unacknowledged: a trap lost on the way is not noticed, and none is
// retried.
//
// # What is sent
//
// Every notification carries sysUpTime.0 (the Sender's uptime),
// snmpTrapOID.0 (the kind's NOTIFICATION-TYPE) and the objects of its
// kind's OBJECTS clause, each at instance 0 as an SnmpAdminString (valid
// UTF-8, cut to 255 octets). The file FAILOVER-MIB.txt beside this
// package (also MIB) is the SMIv2 module that defines them; the tests
// check that the OIDs and varbinds sent are the module's. The module sits
// at Config.Enterprise, by default config.DefaultEnterprise, 1.3.6.1.4.1.99999:
// a PLACEHOLDER private enterprise number, not one assigned to this
// project by IANA. A site sets its own arc in the config and in the MIB's
// MODULE-IDENTITY.
//
// # SNMPv3
//
// With version config.V3, notifications use the User-based Security Model
// (RFC 3414): authPriv (the default), authNoPriv or noAuthNoPriv, HMAC-SHA
// or HMAC-SHA-2 (RFC 7860) and AES (RFC 3826; AES-192/256 with the
// Blumenthal or Reeder key extension). MD5 and DES are not offered. The
// Sender is the authoritative engine of its notifications: USM.EngineID is
// its snmpEngineID, with which receivers localize the user's keys
// (DefaultEngineID derives one from the node name). snmpEngineBoots is
// the seconds from 2020-01-01 to the Sender's start, so it grows across
// restarts without a state file; snmpEngineTime counts seconds from the
// start. A receiver therefore drops the v3 traps of a daemon restarted
// after its clock was set back (outside the time window) until the
// receiver forgets the engine. Keys are localized once per target and
// config, not per trap; each encrypted trap gets a fresh salt.
//
// There is no read side: nothing answers SNMP requests, and the MIB
// defines only the notifications and their objects.
//
// Notify, Dropped and SetConfig are safe for concurrent use; Run must be
// called once.
package snmp
