//go:build linux

package daemon

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
	"github.com/failover-ha/failover/internal/lab"
)

// TestPrivilegedTrapsOnFailover runs two daemons in a lab whose [snmp]
// points at a receiver on 127.0.0.1 (the test's namespace: the trap sender
// is not bound to a lab host) and checks that an operator fail on the master
// sends the state changes of both nodes as traps.
func TestPrivilegedTrapsOnFailover(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, Serial: [][2]int{{1, 2}}, NoClient: true})
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	traps := make(chan map[string]string, 256)
	go func() {
		buf := make([]byte, 65535)
		dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Logger: gosnmp.NewLogger(nil)}
		for {
			n, _, err := rx.ReadFrom(buf)
			if err != nil {
				close(traps)
				return
			}
			p, err := dec.UnmarshalTrap(buf[:n], false)
			if err != nil {
				continue
			}
			m := map[string]string{}
			for _, v := range p.Variables {
				switch x := v.Value.(type) {
				case []byte:
					m[v.Name] = string(x)
				case string:
					m[v.Name] = x
				}
			}
			traps <- m
		}
	}()

	dir := t.TempDir()
	sock := map[string]string{}
	for _, pair := range [][2]string{{"h1", "h2"}, {"h2", "h1"}} {
		self, peer := pair[0], pair[1]
		file := labConfig(t, dir, l, self, peer, map[string]int{"h1": 100, "h2": 50})
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("\n[snmp]\ntrap_targets = [\"" + rx.LocalAddr().String() + "\"]\ncommunity = \"lab\"\n")
		f.Close()
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		h := l.Host(self)
		buf := &syncBuf{}
		lv := new(slog.LevelVar)
		d, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: lv})), Level: lv, Net: NewNet(h.Netlink(), h.NS(), h.Do)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			<-done
			if t.Failed() {
				t.Logf("log of %s:\n%s", self, buf.String())
			}
		})
		sock[self] = cfg.ControlSocket
	}
	waitFor(t, "VIP on the master h1", 5*time.Second, func() bool { return hasVIP(t, l.Host("h1")) })
	waitFor(t, "h2 in recover", 5*time.Second, func() bool { return webState(t, sock["h2"]) == "recover" })

	if _, err := mustClient(t, sock["h1"]).Fail(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"h1 web up->fail": false, "h2 web recover->up": false}
	var seen []string
	deadline := time.After(10 * time.Second) // bounds a broken test only
	for missing := len(want); missing > 0; {
		select {
		case m, ok := <-traps:
			if !ok {
				t.Fatal("receiver closed")
			}
			if m["."+snmp.OIDSnmpTrapOID] != "."+snmp.OIDServiceStateChanged {
				continue
			}
			k := m["."+snmp.OIDNode] + " " + m["."+snmp.OIDService] + " " + m["."+snmp.OIDFromState] + "->" + m["."+snmp.OIDToState]
			seen = append(seen, k)
			if done, ok := want[k]; ok && !done {
				want[k] = true
				missing--
			}
		case <-deadline:
			t.Fatalf("traps seen %q; want %v", seen, want)
		}
	}
	t.Logf("service traps: %q", seen)
}
