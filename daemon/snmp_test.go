package daemon

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

	"github.com/failover-ha/failover/internal/snmptrap"
	"github.com/failover-ha/failover/quorum"
)

var eqAddrPort = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

func TestConfigSNMP(t *testing.T) {
	c, err := ParseConfig("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultSNMP(), c.SNMP, eqAddrPort); diff != "" {
		t.Errorf("no [snmp]: (-want +got)\n%s", diff)
	}
	c, err = ParseConfig("f.toml", []byte(base+"\n[snmp]\ntrap_targets = [\"198.18.1.250:162\", \"[2001:db8::1]:1162\"]\ncommunity = \"ops\"\nversion = \"2c\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := SNMPConfig{
		TrapTargets: []netip.AddrPort{netip.MustParseAddrPort("198.18.1.250:162"), netip.MustParseAddrPort("[2001:db8::1]:1162")},
		Community:   "ops", Version: "2c",
	}
	if diff := cmp.Diff(want, c.SNMP, eqAddrPort); diff != "" {
		t.Errorf("[snmp] (-want +got)\n%s", diff)
	}
}

func TestConfigSNMPProblems(t *testing.T) {
	for _, tc := range []struct {
		name, snmp string
		want       []string
	}{
		{"bad target", `trap_targets = ["198.18.1.250"]`,
			[]string{`f.toml:20: snmp.trap_targets: "198.18.1.250" (entry 1) is not addr:port`}},
		{"port zero", `trap_targets = ["198.18.1.250:0"]`,
			[]string{`f.toml:20: snmp.trap_targets: "198.18.1.250:0" (entry 1) is not addr:port`}},
		{"multicast target", `trap_targets = ["239.1.1.1:162"]`,
			[]string{`f.toml:20: snmp.trap_targets: 239.1.1.1:162 is not a host address`}},
		{"twice", `trap_targets = ["198.18.1.250:162", "198.18.1.250:162"]`,
			[]string{`f.toml:20: snmp.trap_targets: 198.18.1.250:162 listed twice`}},
		{"version 3", `version = "3"`,
			[]string{`f.toml:20: snmp.version: "3" is not supported: only "2c"`}},
		{"empty community", `community = ""`,
			[]string{`f.toml:20: snmp.community: empty`}},
		{"unknown key", `comunity = "x"`,
			[]string{`f.toml:20: snmp.comunity: unknown key (did you mean "community"?)`}},
		{"wrong type", `trap_targets = "198.18.1.250:162"`,
			[]string{`f.toml:20: snmp.trap_targets: want an array, got a string`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("f.toml", []byte(base+"\n[snmp]\n"+tc.snmp+"\n"))
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i, lines[i], w)
				}
			}
		})
	}
}

func TestTrapEvent(t *testing.T) {
	for _, tc := range []struct {
		a    quorum.Action
		want snmptrap.Event
		ok   bool
	}{
		{quorum.StateChanged{Service: "web", From: quorum.StateIndoubt, To: quorum.StateUp, Reason: "n1 dead"},
			snmptrap.Event{Kind: snmptrap.ServiceChanged, Node: "n2", Service: "web", From: "indoubt", To: "up", Reason: "n1 dead"}, true},
		{quorum.PeerChanged{Peer: "n1", From: quorum.PeerAlive, To: quorum.PeerDead, Reason: "silent"},
			snmptrap.Event{Kind: snmptrap.PeerChanged, Node: "n2", Peer: "n1", From: "alive", To: "dead", Reason: "silent"}, true},
		{quorum.Alarm{Service: "web", Peer: "n1", Text: "both up"},
			snmptrap.Event{Kind: snmptrap.Alarm, Node: "n2", Service: "web", Peer: "n1", Reason: "both up"}, true},
		{quorum.SendHeartbeat{}, snmptrap.Event{}, false},
		{quorum.PathChanged{Peer: "n1", Path: "eth0"}, snmptrap.Event{}, false},
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
	cfg, err := ParseConfig("f.toml", []byte(base+"\n[snmp]\ntrap_targets = [\""+rx.LocalAddr().String()+"\"]\ncommunity = \"lab\"\n"))
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
		"." + snmptrap.OIDSnmpTrapOID: "." + snmptrap.OIDServiceStateChanged,
		"." + snmptrap.OIDNode:        "n1",
		"." + snmptrap.OIDService:     "web",
		"." + snmptrap.OIDPeer:        "",
		"." + snmptrap.OIDFromState:   "recover",
		"." + snmptrap.OIDToState:     "up",
		"." + snmptrap.OIDReason:      "n2 released it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("varbinds (-want +got):\n%s", diff)
	}
}
