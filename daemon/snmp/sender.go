package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/gosnmp/gosnmp"
)

// Kind is what an Event reports; each kind is one NOTIFICATION-TYPE of
// FAILOVER-MIB.
type Kind int

const (
	ServiceChanged Kind = iota + 1 // failoverServiceStateChanged: a service's state changed here
	PeerChanged                    // failoverPeerStateChanged: the verdict on a peer changed
	Alarm                          // failoverAlarm: something needs an operator
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

// Event is one state change to report. A notification carries the fields
// of its kind's objects (Kind.Objects); an empty one is sent as an empty
// string, so every notification of a kind has the same varbinds.
type Event struct {
	Kind     Kind
	Node     string // the node sending the trap
	Service  string
	Peer     string
	From, To string // states; empty for an alarm
	Reason   string
}

// Config says where notifications go and how they are secured. No targets
// means traps are off.
type Config struct {
	Targets []netip.AddrPort // trap receivers
	// Enterprise is the OID of FAILOVER-MIB's root, dotted without a
	// leading dot; "" means DefaultEnterprise (a placeholder).
	Enterprise string
	Version    config.Version
	Community  string // V2c
	USM        USM    // V3
}

func (c Config) enterprise() string {
	if c.Enterprise == "" {
		return config.DefaultEnterprise
	}
	return c.Enterprise
}

// Options are a Sender's dependencies.
type Options struct {
	Logger *slog.Logger // required
	// Start is when the agent started; sysUpTime and the SNMPv3
	// snmpEngineTime count from it, snmpEngineBoots is derived from it.
	// Zero means the time New is called.
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

// SetConfig replaces the targets, version and credentials; events already
// queued go out with the new ones.
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

// maxValue is the SIZE of SnmpAdminString, in octets.
const maxValue = 255

// adminString makes v an SnmpAdminString: valid UTF-8 of at most 255
// octets, cut at a character boundary.
func adminString(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if len(v) <= maxValue {
		return v
	}
	n := maxValue
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// PDUs returns the varbinds of the notification for ev sent at uptime,
// with FAILOVER-MIB under enterprise: sysUpTime.0, snmpTrapOID.0, then one
// varbind per object of ev's kind (Kind.Objects), at the object's
// instance 0.
func PDUs(enterprise string, ev Event, uptime time.Duration) []gosnmp.SnmpPDU {
	vars := []gosnmp.SnmpPDU{
		{Name: OIDSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(uptime / (10 * time.Millisecond))},
		{Name: OIDSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: ev.Kind.OID(enterprise)},
	}
	for _, o := range ev.Kind.Objects() {
		vars = append(vars, gosnmp.SnmpPDU{Name: o.Instance(enterprise), Type: gosnmp.OctetString, Value: adminString(o.value(ev))})
	}
	return vars
}

// target is the connection to one trap receiver.
type target struct {
	g   *gosnmp.GoSNMP
	usm *gosnmp.UsmSecurityParameters // nil for v2c
}

// errNoEngineID: a v3 config without an engine ID would make gosnmp run
// engine discovery, which is for requests, not notifications.
var errNoEngineID = errors.New("snmp: version 3 needs an engine ID")

// dial makes the connection to ap for cfg. For v3 it localizes the user's
// keys once, so a trap costs no key derivation.
func (s *Sender) dial(cfg Config, ap netip.AddrPort) (*target, error) {
	g := &gosnmp.GoSNMP{
		Target:    ap.Addr().String(),
		Port:      ap.Port(),
		Transport: "udp",
		Community: cfg.Community,
		Version:   gosnmp.Version2c,
		Timeout:   time.Second,
		Retries:   0,
		MaxOids:   gosnmp.MaxOids,
		// Traps get no answer; the send is one UDP write, also after ctx
		// ends.
		Context: context.Background(),
	}
	t := &target{g: g}
	if cfg.Version == config.V3 {
		u := cfg.USM
		if len(u.EngineID) == 0 {
			return nil, errNoEngineID
		}
		t.usm = &gosnmp.UsmSecurityParameters{
			UserName:                 u.User,
			AuthoritativeEngineID:    string(u.EngineID),
			AuthoritativeEngineBoots: engineBoots(s.start),
			AuthenticationProtocol:   gosnmp.NoAuth,
			PrivacyProtocol:          gosnmp.NoPriv,
		}
		g.MsgFlags = gosnmp.NoAuthNoPriv
		if u.Level.Auth() {
			g.MsgFlags = gosnmp.AuthNoPriv
			t.usm.AuthenticationProtocol = authProtocol(u.Auth)
			t.usm.AuthenticationPassphrase = u.AuthPassphrase
		}
		if u.Level.Priv() {
			g.MsgFlags = gosnmp.AuthPriv
			t.usm.PrivacyProtocol = privProtocol(u.Priv)
			t.usm.PrivacyPassphrase = u.PrivPassphrase
		}
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.SecurityParameters = t.usm
		g.ContextEngineID = string(u.EngineID)
		g.Community = ""
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	if t.usm != nil {
		if err := t.usm.InitSecurityKeys(); err != nil {
			g.Conn.Close()
			return nil, fmt.Errorf("snmp: localize keys: %w", err)
		}
	}
	return t, nil
}

// send sends one notification through t.
func (s *Sender) send(t *target, vars []gosnmp.SnmpPDU) error {
	if t.usm != nil {
		// Only Run's goroutine uses t; gosnmp copies the parameters into
		// each message.
		t.usm.AuthoritativeEngineTime = engineTime(s.start, s.now())
	}
	_, err := t.g.SendTrap(gosnmp.SnmpTrap{Variables: vars})
	return err
}

// Run sends queued events until ctx ends, then sends what is still queued
// (the traps of a shutdown) and returns nil. Send errors are logged and the
// trap is not retried.
func (s *Sender) Run(ctx context.Context) error {
	conns := map[netip.AddrPort]*target{}
	var gen uint64
	closeAll := func() {
		for ap, t := range conns {
			if t.g.Conn != nil {
				t.g.Conn.Close()
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
		vars := PDUs(cfg.enterprise(), ev, s.now().Sub(s.start))
		for _, ap := range cfg.Targets {
			t := conns[ap]
			if t == nil {
				var err error
				if t, err = s.dial(cfg, ap); err != nil {
					s.log.Warn("snmp trap not sent", "target", ap.String(), "kind", ev.Kind.String(), "reason", err.Error())
					continue
				}
				conns[ap] = t
			}
			if err := s.send(t, vars); err != nil {
				s.log.Warn("snmp trap not sent", "target", ap.String(), "kind", ev.Kind.String(), "reason", err.Error())
				continue
			}
			s.log.Debug("snmp trap sent", "target", ap.String(), "kind", ev.Kind.String(), "service", ev.Service, "peer", ev.Peer)
		}
	}
}
