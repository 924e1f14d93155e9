package snmp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
)

// OIDs. Enterprise is a placeholder (see the package doc).
const (
	Enterprise = "1.3.6.1.4.1.99999"

	// Notifications (the value of snmpTrapOID.0).
	OIDServiceStateChanged = Enterprise + ".1.0.1"
	OIDPeerStateChanged    = Enterprise + ".1.0.2"
	OIDAlarm               = Enterprise + ".1.0.3"

	// Varbinds, all OCTET STRING.
	OIDNode      = Enterprise + ".1.1.1"
	OIDService   = Enterprise + ".1.1.2"
	OIDPeer      = Enterprise + ".1.1.3"
	OIDFromState = Enterprise + ".1.1.4"
	OIDToState   = Enterprise + ".1.1.5"
	OIDReason    = Enterprise + ".1.1.6"

	// Standard SNMPv2-MIB objects every v2c trap starts with.
	OIDSysUpTime   = "1.3.6.1.2.1.1.3.0"
	OIDSnmpTrapOID = "1.3.6.1.6.3.1.1.4.1.0"
)

// Kind is what an Event reports.
type Kind int

const (
	ServiceChanged Kind = iota + 1 // a service's state changed here
	PeerChanged                    // the verdict on a peer changed
	Alarm                          // something needs an operator
)

func (k Kind) String() string {
	switch k {
	case ServiceChanged:
		return "service-changed"
	case PeerChanged:
		return "peer-changed"
	case Alarm:
		return "alarm"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// OID is the notification OID of k ("" for an unknown kind).
func (k Kind) OID() string {
	switch k {
	case ServiceChanged:
		return OIDServiceStateChanged
	case PeerChanged:
		return OIDPeerStateChanged
	case Alarm:
		return OIDAlarm
	}
	return ""
}

// Event is one state change to report. Empty fields are sent as empty
// strings, so every trap of a kind has the same varbinds.
type Event struct {
	Kind     Kind
	Node     string // the node sending the trap
	Service  string
	Peer     string
	From, To string // states; empty for an alarm
	Reason   string
}

// Config says where traps go. No targets means traps are off.
type Config struct {
	Targets   []netip.AddrPort // trap receivers
	Community string           // v2c community
}

// Options are a Sender's dependencies.
type Options struct {
	Logger *slog.Logger // required
	// Start is when the agent started; sysUpTime counts from it. Zero means
	// the time New is called.
	Start time.Time
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Queue is how many events may wait; 0 means 256.
	Queue int
}

// Sender queues events and sends them as traps. Create it with New.
type Sender struct {
	log   *slog.Logger
	start time.Time
	now   func() time.Time
	q     chan Event
	drops atomic.Uint64

	mu  sync.Mutex
	cfg Config
	gen uint64 // bumped by SetConfig
}

// New returns a Sender for cfg. Nothing is sent until Run runs.
func New(cfg Config, opts Options) *Sender {
	s := &Sender{log: opts.Logger, start: opts.Start, now: opts.Now, cfg: cfg}
	if s.now == nil {
		s.now = time.Now
	}
	if s.start.IsZero() {
		s.start = s.now()
	}
	n := opts.Queue
	if n <= 0 {
		n = 256
	}
	s.q = make(chan Event, n)
	return s
}

// SetConfig replaces the targets and community; events already queued go
// to the new ones.
func (s *Sender) SetConfig(cfg Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.gen++
}

func (s *Sender) config() (Config, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.gen
}

// Notify queues ev without blocking. It reports false, counts and logs the
// drop when the queue is full. With no targets configured it does nothing
// and reports true.
func (s *Sender) Notify(ev Event) bool {
	if cfg, _ := s.config(); len(cfg.Targets) == 0 {
		return true
	}
	select {
	case s.q <- ev:
		return true
	default:
		n := s.drops.Add(1)
		s.log.Warn("snmp trap dropped: queue full", "kind", ev.Kind.String(), "service", ev.Service, "peer", ev.Peer, "dropped_total", n)
		return false
	}
}

// Dropped is how many events Notify dropped so far.
func (s *Sender) Dropped() uint64 { return s.drops.Load() }

// PDUs returns the varbinds of the trap for ev sent at uptime.
func PDUs(ev Event, uptime time.Duration) []gosnmp.SnmpPDU {
	str := func(oid, v string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.OctetString, Value: v}
	}
	return []gosnmp.SnmpPDU{
		{Name: OIDSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(uptime / (10 * time.Millisecond))},
		{Name: OIDSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: ev.Kind.OID()},
		str(OIDNode, ev.Node),
		str(OIDService, ev.Service),
		str(OIDPeer, ev.Peer),
		str(OIDFromState, ev.From),
		str(OIDToState, ev.To),
		str(OIDReason, ev.Reason),
	}
}

// Run sends queued events until ctx ends, then sends what is still queued
// (the traps of a shutdown) and returns nil. Send errors are logged and the
// trap is not retried.
func (s *Sender) Run(ctx context.Context) error {
	conns := map[netip.AddrPort]*gosnmp.GoSNMP{}
	var gen uint64
	closeAll := func() {
		for ap, g := range conns {
			if g.Conn != nil {
				g.Conn.Close()
			}
			delete(conns, ap)
		}
	}
	defer closeAll()
	stopping := false
	for {
		var ev Event
		if stopping {
			select {
			case ev = <-s.q:
			default:
				return nil
			}
		} else {
			select {
			case <-ctx.Done():
				stopping = true
				continue
			case ev = <-s.q:
			}
		}
		cfg, g := s.config()
		if g != gen {
			closeAll()
			gen = g
		}
		vars := PDUs(ev, s.now().Sub(s.start))
		for _, ap := range cfg.Targets {
			c := conns[ap]
			if c == nil {
				c = &gosnmp.GoSNMP{
					Target:    ap.Addr().String(),
					Port:      ap.Port(),
					Transport: "udp",
					Community: cfg.Community,
					Version:   gosnmp.Version2c,
					Timeout:   time.Second,
					Retries:   0,
					MaxOids:   gosnmp.MaxOids,
					// Traps get no answer; the send is one UDP write, also
					// after ctx ends.
					Context: context.Background(),
				}
				if err := c.Connect(); err != nil {
					s.log.Warn("snmp trap not sent", "target", ap.String(), "kind", ev.Kind.String(), "reason", err.Error())
					continue
				}
				conns[ap] = c
			}
			if _, err := c.SendTrap(gosnmp.SnmpTrap{Variables: vars}); err != nil {
				s.log.Warn("snmp trap not sent", "target", ap.String(), "kind", ev.Kind.String(), "reason", err.Error())
				continue
			}
			s.log.Debug("snmp trap sent", "target", ap.String(), "kind", ev.Kind.String(), "service", ev.Service, "peer", ev.Peer)
		}
	}
}
