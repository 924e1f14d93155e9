package snmp

import (
	_ "embed"
	"fmt"
	"strconv"
)

// Standard SNMPv2-MIB objects every notification starts with.
const (
	OIDSysUpTime   = "1.3.6.1.2.1.1.3.0"
	OIDSnmpTrapOID = "1.3.6.1.6.3.1.1.4.1.0"
)

// The arcs of FAILOVER-MIB under its root (the enterprise OID).
const (
	arcNotifications = "0" // failoverNotifications
	arcObjects       = "1" // failoverObjects
)

//go:embed FAILOVER-MIB.txt
var mib string

// MIB returns the text of FAILOVER-MIB, the SMIv2 module that defines the
// notifications and objects a Sender sends (under DefaultEnterprise).
func MIB() string { return mib }

// Object is one of the objects FAILOVER-MIB defines for the notifications
// to carry. Each is an SnmpAdminString sent as instance 0.
type Object int

// The objects, numbered as under failoverObjects.
const (
	ObjNode      Object = iota + 1 // failoverNode: the sending node
	ObjService                     // failoverService
	ObjPeer                        // failoverPeer
	ObjFromState                   // failoverFromState
	ObjToState                     // failoverToState
	ObjReason                      // failoverReason: why, or the alarm's text
)

// Objects lists every Object in MIB order.
func Objects() []Object {
	return []Object{ObjNode, ObjService, ObjPeer, ObjFromState, ObjToState, ObjReason}
}

// Name is the object's descriptor in FAILOVER-MIB.
func (o Object) Name() string {
	switch o {
	case ObjNode:
		return "failoverNode"
	case ObjService:
		return "failoverService"
	case ObjPeer:
		return "failoverPeer"
	case ObjFromState:
		return "failoverFromState"
	case ObjToState:
		return "failoverToState"
	case ObjReason:
		return "failoverReason"
	}
	return fmt.Sprintf("Object(%d)", int(o))
}

func (o Object) String() string { return o.Name() }

// OID is the object's OID under the enterprise arc (without the instance).
func (o Object) OID(enterprise string) string {
	return enterprise + "." + arcObjects + "." + strconv.Itoa(int(o))
}

// Instance is the OID a notification's varbind for o carries: the
// object's OID and instance 0.
func (o Object) Instance(enterprise string) string { return o.OID(enterprise) + ".0" }

// value is ev's field for o.
func (o Object) value(ev Event) string {
	switch o {
	case ObjNode:
		return ev.Node
	case ObjService:
		return ev.Service
	case ObjPeer:
		return ev.Peer
	case ObjFromState:
		return ev.From
	case ObjToState:
		return ev.To
	case ObjReason:
		return ev.Reason
	}
	return ""
}

// Kinds lists every Kind in MIB order.
func Kinds() []Kind { return []Kind{ServiceChanged, PeerChanged, Alarm} }

// Name is the notification's descriptor in FAILOVER-MIB ("" for an
// unknown kind).
func (k Kind) Name() string {
	switch k {
	case ServiceChanged:
		return "failoverServiceStateChanged"
	case PeerChanged:
		return "failoverPeerStateChanged"
	case Alarm:
		return "failoverAlarm"
	}
	return ""
}

// OID is the notification OID of k under the enterprise arc (the value
// of snmpTrapOID.0); "" for an unknown kind.
func (k Kind) OID(enterprise string) string {
	if k.Name() == "" {
		return ""
	}
	return enterprise + "." + arcNotifications + "." + strconv.Itoa(int(k))
}

// Objects are the objects a notification of kind k carries, in the order
// of its OBJECTS clause.
func (k Kind) Objects() []Object {
	switch k {
	case ServiceChanged:
		return []Object{ObjNode, ObjService, ObjFromState, ObjToState, ObjReason}
	case PeerChanged:
		return []Object{ObjNode, ObjPeer, ObjFromState, ObjToState, ObjReason}
	case Alarm:
		return []Object{ObjNode, ObjService, ObjPeer, ObjReason}
	}
	return nil
}
