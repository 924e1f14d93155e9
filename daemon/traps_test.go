package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gosnmp/gosnmp"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
	"github.com/failover-ha/failover/quorum"
)

// snmpBase is a minimal valid config for the trap tests.
const snmpBase = `cluster = "lab"
node = "n1"
insecure_no_auth = true

[[peer]]
name = "n2"

[[path]]
kind = "udp"
interface = "eth0"
unicast = ["198.18.1.2:7405"]

[[service]]
name = "web"
vip = "198.18.1.100/24"
interface = "eth0"
priority = {n1 = 100, n2 = 50}
`

func TestTrapEvent(t *testing.T) {
	for _, tc := range []struct {
		a    quorum.Action
		want snmp.Event
		ok   bool
	}{
		{quorum.StateChanged{Service: "web", From: quorum.StateIndoubt, To: quorum.StateUp, Reason: "n1 dead"},
			snmp.Event{Kind: snmp.ServiceChanged, Node: "n2", Service: "web", From: "indoubt", To: "up", Reason: "n1 dead"}, true},
		{quorum.PeerChanged{Peer: "n1", From: quorum.PeerAlive, To: quorum.PeerDead, Reason: "silent"},
			snmp.Event{Kind: snmp.PeerChanged, Node: "n2", Peer: "n1", From: "alive", To: "dead", Reason: "silent"}, true},
		{quorum.Alarm{Service: "web", Peer: "n1", Text: "both up"},
			snmp.Event{Kind: snmp.Alarm, Node: "n2", Service: "web", Peer: "n1", Reason: "both up"}, true},
		{quorum.SendHeartbeat{}, snmp.Event{}, false},
		{quorum.PathChanged{Peer: "n1", Path: "eth0"}, snmp.Event{}, false},
	} {
		got, ok := trapEvent("n2", tc.a)
		if ok != tc.ok {
			t.Errorf("%T: ok = %t, want %t", tc.a, ok, tc.ok)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%T (-want +got):\n%s", tc.a, diff)
		}
	}
}

// TestStateChangeSendsTrap: a service state change the core reports to the
// loop reaches a trap receiver on 127.0.0.1 as a v2c trap with node,
// service, from and to states and reason.
func TestStateChangeSendsTrap(t *testing.T) {
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	cfg, err := config.Parse("f.toml", []byte(snmpBase+"\n[snmp]\ntrap_targets = [\""+rx.LocalAddr().String()+"\"]\ncommunity = \"lab\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(cfg, Options{Logger: log, Level: new(slog.LevelVar)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.traps.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	s := &session{d: d, cfg: cfg, log: log, ctx: ctx, svcs: map[string]*svcRT{"web": {cfg: cfg.Services[0]}}}
	s.do(time.Now(), []quorum.Action{quorum.StateChanged{Service: "web", From: quorum.StateRecover, To: quorum.StateUp, Reason: "n2 released it"}})

	buf := make([]byte, 65535)
	rx.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds a broken test only
	n, _, err := rx.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no trap: %v", err)
	}
	p, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c, Logger: gosnmp.NewLogger(nil)}).UnmarshalTrap(buf[:n], false)
	if err != nil {
		t.Fatal(err)
	}
	if p.Community != "lab" || p.PDUType != gosnmp.SNMPv2Trap {
		t.Errorf("community %q pdu %v, want \"lab\" SNMPv2Trap", p.Community, p.PDUType)
	}
	got := map[string]any{}
	for _, v := range p.Variables[1:] { // [0] is sysUpTime
		if b, ok := v.Value.([]byte); ok {
			got[v.Name] = string(b)
		} else {
			got[v.Name] = v.Value
		}
	}
	want := map[string]any{
		"." + snmp.OIDSnmpTrapOID: "." + snmp.OIDServiceStateChanged,
		"." + snmp.OIDNode:        "n1",
		"." + snmp.OIDService:     "web",
		"." + snmp.OIDPeer:        "",
		"." + snmp.OIDFromState:   "recover",
		"." + snmp.OIDToState:     "up",
		"." + snmp.OIDReason:      "n2 released it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("varbinds (-want +got):\n%s", diff)
	}
}
