package snmp_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
)

// Receiver is a trap receiver on 127.0.0.1 that decodes with gosnmp.
type receiver struct {
	t    *testing.T
	conn net.PacketConn
	addr netip.AddrPort
}

func listen(t *testing.T) *receiver {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &receiver{t: t, conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// next waits for one trap (the deadline only bounds a broken test).
func (r *receiver) next() *gosnmp.SnmpPacket {
	r.t.Helper()
	buf := make([]byte, 65535)
	r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := r.conn.ReadFrom(buf)
	if err != nil {
		r.t.Fatalf("no trap: %v", err)
	}
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Logger: gosnmp.NewLogger(nil)}
	p, err := dec.UnmarshalTrap(buf[:n], false)
	if err != nil {
		r.t.Fatalf("decode trap: %v", err)
	}
	return p
}

type vb struct {
	OID   string
	Type  gosnmp.Asn1BER
	Value any
}

func varbinds(p *gosnmp.SnmpPacket) []vb {
	var out []vb
	for _, v := range p.Variables {
		val := v.Value
		if b, ok := val.([]byte); ok {
			val = string(b)
		}
		out = append(out, vb{v.Name, v.Type, val})
	}
	return out
}

// testLogger logs into the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func startSender(t *testing.T, cfg snmp.Config, opts snmp.Options) *snmp.Sender {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := snmp.New(cfg, opts)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return s
}

func TestTrapVarbinds(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return start.Add(12340 * time.Millisecond) }
	str := func(oid, v string) vb { return vb{oid, gosnmp.OctetString, v} }
	long := strings.Repeat("x", 254) + "é" // 256 octets: the "é" does not fit
	tests := []struct {
		name       string
		enterprise string // "" = the default
		ev         snmp.Event
		want       []vb // after sysUpTime
	}{
		{"service", "", snmp.Event{Kind: snmp.ServiceChanged, Node: "n2", Service: "web", Peer: "ignored", From: "indoubt", To: "up", Reason: "n1 dead on every path"}, []vb{
			{".1.3.6.1.6.3.1.1.4.1.0", gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.99999.0.1"},
			str(".1.3.6.1.4.1.99999.1.1.0", "n2"),
			str(".1.3.6.1.4.1.99999.1.2.0", "web"),
			str(".1.3.6.1.4.1.99999.1.4.0", "indoubt"),
			str(".1.3.6.1.4.1.99999.1.5.0", "up"),
			str(".1.3.6.1.4.1.99999.1.6.0", "n1 dead on every path"),
		}},
		{"peer", "", snmp.Event{Kind: snmp.PeerChanged, Node: "n2", Peer: "n1", From: "alive", To: "dead", Reason: "silent on eth0, eth1"}, []vb{
			{".1.3.6.1.6.3.1.1.4.1.0", gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.99999.0.2"},
			str(".1.3.6.1.4.1.99999.1.1.0", "n2"),
			str(".1.3.6.1.4.1.99999.1.3.0", "n1"),
			str(".1.3.6.1.4.1.99999.1.4.0", "alive"),
			str(".1.3.6.1.4.1.99999.1.5.0", "dead"),
			str(".1.3.6.1.4.1.99999.1.6.0", "silent on eth0, eth1"),
		}},
		{"alarm", "", snmp.Event{Kind: snmp.Alarm, Node: "n2", Service: "web", Peer: "n1", Reason: "both up <split brain> & \"quoted\""}, []vb{
			{".1.3.6.1.6.3.1.1.4.1.0", gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.99999.0.3"},
			str(".1.3.6.1.4.1.99999.1.1.0", "n2"),
			str(".1.3.6.1.4.1.99999.1.2.0", "web"),
			str(".1.3.6.1.4.1.99999.1.3.0", "n1"),
			str(".1.3.6.1.4.1.99999.1.6.0", "both up <split brain> & \"quoted\""),
		}},
		{"own arc, long and bad text", "1.3.6.1.4.1.12345.7", snmp.Event{Kind: snmp.Alarm, Node: "n2", Reason: long, Peer: "a\xffb"}, []vb{
			{".1.3.6.1.6.3.1.1.4.1.0", gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.12345.7.0.3"},
			str(".1.3.6.1.4.1.12345.7.1.1.0", "n2"),
			str(".1.3.6.1.4.1.12345.7.1.2.0", ""),
			str(".1.3.6.1.4.1.12345.7.1.3.0", "a\uFFFDb"),
			str(".1.3.6.1.4.1.12345.7.1.6.0", strings.Repeat("x", 254)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := listen(t)
			s := startSender(t, snmp.Config{Targets: []netip.AddrPort{r.addr}, Community: "s3cret", Enterprise: tt.enterprise}, snmp.Options{Start: start, Now: clock})
			if !s.Notify(tt.ev) {
				t.Fatal("Notify dropped the event")
			}
			p := r.next()
			if p.Version != gosnmp.Version2c || p.PDUType != gosnmp.SNMPv2Trap || p.Community != "s3cret" {
				t.Errorf("got version %v pdu %v community %q, want 2c SNMPv2Trap \"s3cret\"", p.Version, p.PDUType, p.Community)
			}
			want := append([]vb{{".1.3.6.1.2.1.1.3.0", gosnmp.TimeTicks, uint32(1234)}}, tt.want...)
			if diff := cmp.Diff(want, varbinds(p)); diff != "" {
				t.Errorf("varbinds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEveryTarget(t *testing.T) {
	a, b := listen(t), listen(t)
	s := startSender(t, snmp.Config{Targets: []netip.AddrPort{a.addr, b.addr}, Community: "public"}, snmp.Options{})
	s.Notify(snmp.Event{Kind: snmp.ServiceChanged, Node: "n1", Service: "web", From: "recover", To: "up"})
	for _, r := range []*receiver{a, b} {
		if got := varbinds(r.next())[5].Value; got != "up" {
			t.Errorf("to-state = %v, want up", got)
		}
	}
}

func TestSetConfig(t *testing.T) {
	a, b := listen(t), listen(t)
	s := startSender(t, snmp.Config{Targets: []netip.AddrPort{a.addr}, Community: "public"}, snmp.Options{})
	s.Notify(snmp.Event{Kind: snmp.ServiceChanged, Service: "one"})
	if got := varbinds(a.next())[3].Value; got != "one" {
		t.Fatalf("service = %v, want one", got)
	}
	s.SetConfig(snmp.Config{Targets: []netip.AddrPort{b.addr}, Community: "other"})
	s.Notify(snmp.Event{Kind: snmp.ServiceChanged, Service: "two"})
	p := b.next()
	if got := varbinds(p)[3].Value; got != "two" || p.Community != "other" {
		t.Fatalf("service = %v community %q, want two, other", got, p.Community)
	}
}

// TestNotifyNeverBlocks fills the queue of a sender that is not running:
// Notify must drop and count, not wait.
func TestNotifyNeverBlocks(t *testing.T) {
	cfg := snmp.Config{Targets: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}, Community: "public"}
	s := snmp.New(cfg, snmp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: 2})
	var ok int
	for range 5 {
		if s.Notify(snmp.Event{Kind: snmp.Alarm}) {
			ok++
		}
	}
	if ok != 2 || s.Dropped() != 3 {
		t.Errorf("queued %d dropped %d, want 2 and 3", ok, s.Dropped())
	}
}

func TestOffWithoutTargets(t *testing.T) {
	s := snmp.New(snmp.Config{}, snmp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: 1})
	for range 3 {
		if !s.Notify(snmp.Event{Kind: snmp.Alarm}) {
			t.Fatal("Notify without targets dropped")
		}
	}
	if s.Dropped() != 0 {
		t.Errorf("dropped %d, want 0", s.Dropped())
	}
}

// TestRunDrainsOnStop: events queued before Run's context ends are still
// sent (a shutdown's last state changes).
func TestRunDrainsOnStop(t *testing.T) {
	r := listen(t)
	s := snmp.New(snmp.Config{Targets: []netip.AddrPort{r.addr}, Community: "public"}, snmp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.Notify(snmp.Event{Kind: snmp.ServiceChanged, Service: "a"})
	s.Notify(snmp.Event{Kind: snmp.ServiceChanged, Service: "b"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b"} {
		if got := varbinds(r.next())[3].Value; got != want {
			t.Errorf("service = %v, want %s", got, want)
		}
	}
}

// TestV3Wire decodes the v3 traps a Sender sends with gosnmp as the
// receiver: authPriv with the user and engine ID, snmpEngineBoots from
// the start time, snmpEngineTime from the clock, a fresh salt per trap,
// and the varbinds of the notification.
func TestV3Wire(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start.Add(90 * time.Second)
	engine := config.DefaultEngineID(config.DefaultEnterprise, "n1")
	r := listen(t)
	u := snmp.USM{User: "failover", Level: config.AuthPriv, Auth: config.SHA256, AuthPassphrase: "auth-pass-phrase",
		Priv: config.AES128, PrivPassphrase: "priv-pass-phrase", EngineID: engine}
	s := startSender(t, snmp.Config{Targets: []netip.AddrPort{r.addr}, Version: config.V3, USM: u},
		snmp.Options{Start: start, Now: func() time.Time { return now }})
	var salts []string
	for i, ev := range []snmp.Event{
		{Kind: snmp.ServiceChanged, Node: "n1", Service: "web", From: "recover", To: "up", Reason: "first"},
		{Kind: snmp.ServiceChanged, Node: "n1", Service: "web", From: "up", To: "fail", Reason: "second"},
	} {
		s.Notify(ev)
		buf := make([]byte, 65535)
		r.conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds a broken test only
		n, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no trap: %v", err)
		}
		dec := &gosnmp.GoSNMP{
			Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
			Logger: gosnmp.NewLogger(nil),
			SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: "failover", AuthoritativeEngineID: string(engine),
				AuthenticationProtocol: gosnmp.SHA256, AuthenticationPassphrase: "auth-pass-phrase",
				PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "priv-pass-phrase"},
		}
		p, err := dec.UnmarshalTrap(buf[:n], false)
		if err != nil {
			t.Fatalf("trap %d: decode: %v", i, err)
		}
		sp := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		if p.PDUType != gosnmp.SNMPv2Trap || p.MsgFlags&gosnmp.AuthPriv != gosnmp.AuthPriv || p.MsgFlags&gosnmp.Reportable != 0 {
			t.Errorf("trap %d: pdu %v flags %v, want SNMPv2Trap, authPriv, not reportable", i, p.PDUType, p.MsgFlags)
		}
		if sp.UserName != "failover" || sp.AuthoritativeEngineID != string(engine) || p.ContextEngineID != string(engine) {
			t.Errorf("trap %d: user %q engine %x context engine %x, want failover and %x", i, sp.UserName, sp.AuthoritativeEngineID, p.ContextEngineID, engine)
		}
		if want := uint32(start.Unix() - 1577836800); sp.AuthoritativeEngineBoots != want || sp.AuthoritativeEngineTime != 90 {
			t.Errorf("trap %d: engine boots %d time %d, want %d and 90", i, sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime, want)
		}
		salts = append(salts, string(sp.PrivacyParameters))
		if got := varbinds(p)[6].Value; got != ev.Reason {
			t.Errorf("trap %d: reason %v, want %s", i, got, ev.Reason)
		}
	}
	if len(salts[0]) != 8 || salts[0] == salts[1] {
		t.Errorf("salts %x and %x: want two different 8-octet salts", salts[0], salts[1])
	}
}

// TestV3WithoutEngineID: a v3 config without an engine ID sends nothing
// (gosnmp would run engine discovery, a request notifications must not
// make) and logs why.
func TestV3WithoutEngineID(t *testing.T) {
	r := listen(t)
	var log syncBuf
	s := snmp.New(snmp.Config{Targets: []netip.AddrPort{r.addr}, Version: config.V3, USM: snmp.USM{User: "u", Level: config.NoAuthNoPriv}},
		snmp.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	s.Notify(snmp.Event{Kind: snmp.Alarm})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx)
	if got := log.String(); !strings.Contains(got, "snmp trap not sent") || !strings.Contains(got, "engine ID") {
		t.Errorf("log:\n%s\nwant a trap not sent for the missing engine ID", got)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
