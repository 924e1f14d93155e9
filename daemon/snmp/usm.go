package snmp

import (
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/gosnmp/gosnmp"
)

// USM is the SNMPv3 user the notifications are sent as.
type USM struct {
	User           string
	Level          config.SecurityLevel
	Auth           config.AuthProtocol
	AuthPassphrase string // used when Level.Auth()
	Priv           config.PrivProtocol
	PrivPassphrase string // used when Level.Priv()
	// EngineID is this sender's snmpEngineID (5..32 octets), the
	// authoritative engine of its notifications: receivers localize the
	// user's keys with it (Net-SNMP: createUser -e 0x<hex>).
	EngineID []byte
}

// bootsEpoch is where snmpEngineBoots counts from (see engineBoots):
// 2020-01-01 00:00:00 UTC in Unix seconds.
const bootsEpoch = 1577836800

// engineBoots is the snmpEngineBoots of an engine started at start: the
// seconds from 2020-01-01 to start. It grows from one start to the next
// without a state file, which is what RFC 3414 asks of it (a receiver
// drops a notification whose boots went back); it stays within the
// counter's 2^31-1 until 2088.
func engineBoots(start time.Time) uint32 {
	s := start.Unix() - bootsEpoch
	return uint32(min(max(s, 1), 2147483646))
}

// engineTime is the snmpEngineTime at now: seconds since start.
func engineTime(start, now time.Time) uint32 {
	return uint32(min(max(now.Sub(start)/time.Second, 0), 2147483647))
}

func authProtocol(a config.AuthProtocol) gosnmp.SnmpV3AuthProtocol {
	switch a {
	case config.SHA:
		return gosnmp.SHA
	case config.SHA224:
		return gosnmp.SHA224
	case config.SHA384:
		return gosnmp.SHA384
	case config.SHA512:
		return gosnmp.SHA512
	}
	return gosnmp.SHA256
}

func privProtocol(p config.PrivProtocol) gosnmp.SnmpV3PrivProtocol {
	switch p {
	case config.AES192:
		return gosnmp.AES192
	case config.AES256:
		return gosnmp.AES256
	case config.AES192C:
		return gosnmp.AES192C
	case config.AES256C:
		return gosnmp.AES256C
	}
	return gosnmp.AES
}
