package snmp_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
)

// trapd is a Net-SNMP snmptrapd run by a test on 127.0.0.1 with
// FAILOVER-MIB loaded, printing one line per notification it accepts.
type trapd struct {
	addr  netip.AddrPort
	lines chan string // what it prints, line by line; closed when it exits

	mu  sync.Mutex
	out strings.Builder // everything, for a failure message
}

// trapdFormat prints a notification on one line: the security part
// ("TRAP2, SNMP v3, user failover, context ") and the varbinds, each
// separated by a tab.
const trapdFormat = `TRAP %P\t%v\n`

// startTrapd starts snmptrapd with conf as its only configuration
// (-C -c) on a free port of 127.0.0.1 and waits until it listens.
func startTrapd(t *testing.T, bin, conf string) *trapd {
	t.Helper()
	dir := t.TempDir()
	mibs := filepath.Dir(writeMIB(t, snmp.MIB()))
	confFile := filepath.Join(dir, "snmptrapd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		port := freeUDPPort(t)
		d := &trapd{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), lines: make(chan string, 1024)}
		cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", confFile,
			"-M", "+"+mibs+":"+baseMIBs(t), "-m", "+FAILOVER-MIB",
			"-F", trapdFormat, "udp:"+d.addr.String())
		// Its persistent store (the localized keys of createUser) and
		// ~/.snmp stay in the test's directory.
		cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"), "HOME="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				d.mu.Lock()
				d.out.WriteString(sc.Text() + "\n")
				d.mu.Unlock()
				d.lines <- sc.Text()
			}
			close(d.lines)
		}()
		stop := func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
		// snmptrapd prints its version once its ports are open; it exits
		// when it cannot bind (the free port was taken meanwhile).
		ready := false
		deadline := time.After(30 * time.Second) // bounds a broken test only
	wait:
		for {
			select {
			case l, ok := <-d.lines:
				if !ok {
					break wait
				}
				if strings.HasPrefix(l, "NET-SNMP version") {
					ready = true
					break wait
				}
			case <-deadline:
				break wait
			}
		}
		if ready {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("snmptrapd said:\n%s", d.output())
				}
			})
			return d
		}
		stop()
		if attempt == 3 {
			t.Fatalf("snmptrapd did not start:\n%s", d.output())
		}
	}
}

func (d *trapd) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// waitFor returns the first notification line containing marker; lines
// before it are passed to seen.
func (d *trapd) waitFor(t *testing.T, marker string, seen func(string)) string {
	t.Helper()
	deadline := time.After(30 * time.Second) // bounds a broken test only
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				t.Fatalf("snmptrapd exited before printing %q", marker)
			}
			if !strings.HasPrefix(l, "TRAP ") {
				continue
			}
			if strings.Contains(l, marker) {
				return l
			}
			seen(l)
		case <-deadline:
			t.Fatalf("snmptrapd printed no notification with %q", marker)
		}
	}
}

func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// TestSnmptrapdDecodes sends v2c and v3 notifications through a Sender to
// a real snmptrapd with FAILOVER-MIB loaded, and checks that it decodes
// each into the named notification and named varbinds with their values.
// Notifications with a wrong community or wrong v3 keys, sent just before
// good ones, must not be printed: the receiver really checks them.
func TestSnmptrapdDecodes(t *testing.T) {
	bin := tool(t, "snmptrapd", "snmptrapd")
	const auth, priv = "auth-pass-phrase", "priv-pass-phrase"
	n1 := config.DefaultEngineID(config.DefaultEnterprise, "n1")
	n2 := config.DefaultEngineID(config.DefaultEnterprise, "n2")
	conf := strings.Join([]string{
		"authCommunity log lab",
		fmt.Sprintf("createUser -e %s failover SHA-256 %s AES %s", config.FormatEngineID(n1), auth, priv),
		fmt.Sprintf("createUser -e %s failover-sha SHA %s AES %s", config.FormatEngineID(n1), auth, priv),
		fmt.Sprintf("createUser -e %s failover-strong SHA-512 %s AES-256 %s", config.FormatEngineID(n1), auth, priv),
		fmt.Sprintf("createUser -e %s failover-auth SHA-256 %s", config.FormatEngineID(n1), auth),
		fmt.Sprintf("createUser -e %s failover SHA-256 %s AES %s", config.FormatEngineID(n2), auth, priv),
		"authUser log failover priv",
		"authUser log failover-sha priv",
		"authUser log failover-strong priv",
		"authUser log failover-auth auth",
		"",
	}, "\n")
	d := startTrapd(t, bin, conf)
	usm := func(engine []byte, user string, level config.SecurityLevel, a config.AuthProtocol, p config.PrivProtocol, privPass string) snmp.USM {
		return snmp.USM{User: user, Level: level, Auth: a, AuthPassphrase: auth, Priv: p, PrivPassphrase: privPass, EngineID: engine}
	}
	v2c := func(c string) *sendSpec {
		return &sendSpec{cfg: snmp.Config{Targets: []netip.AddrPort{d.addr}, Version: config.V2c, Community: c}}
	}
	v3 := func(u snmp.USM, up time.Duration) *sendSpec {
		return &sendSpec{cfg: snmp.Config{Targets: []netip.AddrPort{d.addr}, Version: config.V3, USM: u}, up: up}
	}
	n2user := usm(n2, "failover", config.AuthPriv, config.SHA256, config.AES128, priv)
	tests := []struct {
		name      string
		bad, good *sendSpec // bad is sent first and must not come through
		ev        snmp.Event
		security  string
	}{
		{"v2c", v2c("wrong"), v2c("lab"),
			snmp.Event{Kind: snmp.ServiceChanged, Node: "n1", Service: "web", From: "recover", To: "up", Reason: "n2 released it"},
			"SNMP v2c, community lab"},
		{"v3 authPriv SHA-256 AES",
			v3(usm(n1, "failover", config.AuthPriv, config.SHA256, config.AES128, "wrong-priv-phrase"), 0),
			v3(usm(n1, "failover", config.AuthPriv, config.SHA256, config.AES128, priv), 0),
			snmp.Event{Kind: snmp.PeerChanged, Node: "n1", Peer: "n2", From: "alive", To: "dead", Reason: "silent on eth0, eth1 and serial0"},
			"SNMP v3, user failover,"},
		{"v3 authPriv SHA AES", nil, v3(usm(n1, "failover-sha", config.AuthPriv, config.SHA, config.AES128, priv), 0),
			snmp.Event{Kind: snmp.Alarm, Node: "n1", Service: "web", Peer: "n2", Reason: "address conflict: 02:00:00:00:00:01 answers for web"},
			"SNMP v3, user failover-sha,"},
		{"v3 authPriv SHA-512 AES-256", nil, v3(usm(n1, "failover-strong", config.AuthPriv, config.SHA512, config.AES256, priv), 0),
			snmp.Event{Kind: snmp.ServiceChanged, Node: "n1", Service: "db", From: "up", To: "fail", Reason: "operator: fail"},
			"SNMP v3, user failover-strong,"},
		{"v3 authNoPriv SHA-256", nil, v3(usm(n1, "failover-auth", config.AuthNoPriv, config.SHA256, 0, ""), 0),
			snmp.Event{Kind: snmp.Alarm, Node: "n1", Reason: "configuration differs from n2"},
			"SNMP v3, user failover-auth,"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.Reason = fmt.Sprintf("%s (%d)", tt.ev.Reason, i)
			badMark := fmt.Sprintf("must not pass %d", i)
			if tt.bad != nil {
				bad := tt.ev
				bad.Reason = badMark
				send(t, *tt.bad, bad)
			}
			send(t, *tt.good, tt.ev)
			d.expect(t, tt.ev, tt.security, badMark)
		})
	}

	// The engine boots of a restarted daemon are higher (see engineBoots),
	// so the receiver takes its traps; a sender whose boots went back is
	// outside the time window and dropped. Engine n2 is used by nothing
	// else.
	t.Run("v3 engine restart", func(t *testing.T) {
		ev := snmp.Event{Kind: snmp.ServiceChanged, Node: "n2", Service: "web", From: "up", To: "fail", Reason: "up for two hours"}
		send(t, *v3(n2user, 2*time.Hour), ev)
		d.expect(t, ev, "SNMP v3, user failover,", "")
		ev.From, ev.To, ev.Reason = "recover", "up", "restarted"
		send(t, *v3(n2user, 0), ev)
		d.expect(t, ev, "SNMP v3, user failover,", "")
		bad := ev
		bad.Reason = "boots went back: must not pass"
		send(t, *v3(n2user, 2*time.Hour), bad)
		ev.Reason = "still the restarted engine"
		send(t, *v3(n2user, 0), ev)
		d.expect(t, ev, "SNMP v3, user failover,", bad.Reason)
	})
}

// expect waits for snmptrapd to print ev and checks the line: the
// security part starts with security, the notification and every varbind
// are named by FAILOVER-MIB and carry ev's values. No line before it may
// contain badMark (unless badMark is "").
func (d *trapd) expect(t *testing.T, ev snmp.Event, security, badMark string) {
	t.Helper()
	line := d.waitFor(t, "failoverReason.0 = STRING: "+ev.Reason, func(l string) {
		if badMark != "" && strings.Contains(l, badMark) {
			t.Errorf("snmptrapd accepted the notification it must drop: %s", l)
		}
	})
	fields := strings.Split(line, "\t")
	if !strings.HasPrefix(fields[0], "TRAP TRAP2, "+security) {
		t.Errorf("security: got %q, want %q", fields[0], "TRAP TRAP2, "+security+"...")
	}
	want := []string{"OID: FAILOVER-MIB::" + ev.Kind.Name()}
	for _, o := range ev.Kind.Objects() {
		want = append(want, fmt.Sprintf("FAILOVER-MIB::%s.0 = STRING: %s", o.Name(), field(ev, o)))
	}
	// fields[1] is sysUpTime.0, fields[2] snmpTrapOID.0 (named by
	// SNMPv2-MIB, which the test does not load).
	got := []string{}
	if len(fields) > 2 {
		_, oid, _ := strings.Cut(fields[2], " = ")
		got = append(got, oid)
		got = append(got, fields[3:]...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snmptrapd printed (-want +got):\n%s", diff)
	}
}

// sendSpec is how a test sends: the config, and how long the sending
// engine has been up.
type sendSpec struct {
	cfg snmp.Config
	up  time.Duration
}

func ptr[T any](v T) *T { return &v }

// field is ev's value for o, as the test expects it printed.
func field(ev snmp.Event, o snmp.Object) string {
	switch o {
	case snmp.ObjNode:
		return ev.Node
	case snmp.ObjService:
		return ev.Service
	case snmp.ObjPeer:
		return ev.Peer
	case snmp.ObjFromState:
		return ev.From
	case snmp.ObjToState:
		return ev.To
	case snmp.ObjReason:
		return ev.Reason
	}
	return "?"
}

// send sends ev once through a Sender as sp says and returns once it is
// out.
func send(t *testing.T, sp sendSpec, ev snmp.Event) {
	t.Helper()
	s := snmp.New(sp.cfg, snmp.Options{Logger: testLogger(t), Start: time.Now().Add(-sp.up)})
	if !s.Notify(ev) {
		t.Fatal("Notify dropped the event")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil { // ended: sends what is queued, returns
		t.Fatal(err)
	}
}
