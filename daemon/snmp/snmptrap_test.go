package snmp_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

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
	tests := []struct {
		name string
		ev   snmp.Event
		oid  string
	}{
		{"service", snmp.Event{Kind: snmp.ServiceChanged, Node: "n2", Service: "web", From: "indoubt", To: "up", Reason: "n1 dead on every path"}, ".1.3.6.1.4.1.99999.1.0.1"},
		{"peer", snmp.Event{Kind: snmp.PeerChanged, Node: "n2", Peer: "n1", From: "alive", To: "dead", Reason: "silent on eth0, eth1"}, ".1.3.6.1.4.1.99999.1.0.2"},
		{"alarm", snmp.Event{Kind: snmp.Alarm, Node: "n2", Service: "web", Peer: "n1", Reason: "both up <split brain> & \"quoted\""}, ".1.3.6.1.4.1.99999.1.0.3"},
	}
	r := listen(t)
	s := startSender(t, snmp.Config{Targets: []netip.AddrPort{r.addr}, Community: "s3cret"}, snmp.Options{Start: start, Now: clock})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !s.Notify(tt.ev) {
				t.Fatal("Notify dropped the event")
			}
			p := r.next()
			if p.Version != gosnmp.Version2c || p.PDUType != gosnmp.SNMPv2Trap || p.Community != "s3cret" {
				t.Errorf("got version %v pdu %v community %q, want 2c SNMPv2Trap \"s3cret\"", p.Version, p.PDUType, p.Community)
			}
			want := []vb{
				{".1.3.6.1.2.1.1.3.0", gosnmp.TimeTicks, uint32(1234)},
				{".1.3.6.1.6.3.1.1.4.1.0", gosnmp.ObjectIdentifier, tt.oid},
				{".1.3.6.1.4.1.99999.1.1.1", gosnmp.OctetString, tt.ev.Node},
				{".1.3.6.1.4.1.99999.1.1.2", gosnmp.OctetString, tt.ev.Service},
				{".1.3.6.1.4.1.99999.1.1.3", gosnmp.OctetString, tt.ev.Peer},
				{".1.3.6.1.4.1.99999.1.1.4", gosnmp.OctetString, tt.ev.From},
				{".1.3.6.1.4.1.99999.1.1.5", gosnmp.OctetString, tt.ev.To},
				{".1.3.6.1.4.1.99999.1.1.6", gosnmp.OctetString, tt.ev.Reason},
			}
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
		if got := varbinds(r.next())[6].Value; got != "up" {
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
