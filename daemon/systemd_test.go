package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestDecided(t *testing.T) {
	startup := 300 * time.Millisecond
	svc := func(states ...quorum.State) quorum.Status {
		st := quorum.Status{Started: t0}
		for i, s := range states {
			st.Services = append(st.Services, quorum.ServiceStatus{Name: fmt.Sprint("s", i), State: s})
		}
		return st
	}
	starting := svc(quorum.StateRecover)
	starting.Starting = true
	for _, tt := range []struct {
		name string
		st   quorum.Status
		at   time.Duration
		want bool
	}{
		{"listening", starting, startup, false},
		{"listening long after", starting, startup + time.Hour, false},
		{"up", svc(quorum.StateUp), startup, true},
		{"recover behind a holder", svc(quorum.StateRecover, quorum.StateUp), startup, true},
		{"fail", svc(quorum.StateFail), startup, true},
		{"no services", svc(), startup, true},
		{"indoubt", svc(quorum.StateUp, quorum.StateIndoubt), startup, false},
		{"reclaim", svc(quorum.StateReclaim), startup, false},
		{"indoubt past the settle limit", svc(quorum.StateIndoubt), startup + settleLimit, true},
	} {
		if got := decided(tt.st, t0.Add(tt.at), startup); got != tt.want {
			t.Errorf("%s: decided = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestStatusLine(t *testing.T) {
	st := quorum.Status{Self: "n1", Starting: true,
		Services: []quorum.ServiceStatus{{Name: "web", State: quorum.StateUp, Owner: "n1"}, {Name: "db", State: quorum.StateRecover, Owner: "n2"}},
		Peers:    []quorum.PeerStatus{{Name: "n2", State: quorum.PeerDegraded}}}
	want := "listening before claiming anything; web up; db recover (n2 holds it); peer n2 degraded"
	if got := statusLine(st); got != want {
		t.Errorf("statusLine = %q, want %q", got, want)
	}
}

// TestNotifierTurns drives the notifier with a real core and a fake clock:
// nothing before the decision, READY once, STATUS only on change, pings
// every half watchdog interval however often the loop turns.
func TestNotifierTurns(t *testing.T) {
	cfg, err := config.Parse("n1.toml", []byte(snmpBase))
	if err != nil {
		t.Fatal(err)
	}
	core, err := quorum.New(cfg.Core(), t0)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	n := &notifier{log: slog.New(slog.NewTextHandler(io.Discard, nil)), watchdog: time.Second,
		send: func(s string) error { sent = append(sent, s); return nil }}
	startup := cfg.Timers.Startup
	shutdown := false
	turn := func(at time.Duration) []string {
		sent = nil
		n.turn(t0.Add(at), core, startup, shutdown)
		return sent
	}
	if got := turn(0); len(got) != 1 || got[0] != "STATUS=listening before claiming anything; web recover; peer n2 unknown\nWATCHDOG=1" {
		t.Errorf("first turn sent %q", got)
	}
	if got := turn(100 * time.Millisecond); len(got) != 0 {
		t.Errorf("nothing changed, yet the turn sent %q", got)
	}
	// The listen ends; the core claims: indoubt, then (probe clear) up.
	step := func(at time.Duration, ev quorum.Event) {
		acts, err := core.StepAt(t0.Add(at), ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			n.saw(a)
		}
	}
	step(startup, quorum.Tick{})
	if got := turn(startup); len(got) != 1 || strings.Contains(got[0], "READY") || !strings.Contains(got[0], "web indoubt") {
		t.Errorf("indoubt: sent %q; want a STATUS and no READY", got)
	}
	step(startup+20*time.Millisecond, quorum.Probed{Service: "web"})
	step(startup+40*time.Millisecond, quorum.Tick{})
	if got := turn(startup + 40*time.Millisecond); len(got) != 1 || got[0] != "STATUS=web up; peer n2 unknown\nREADY=1" {
		t.Errorf("decided: sent %q, want STATUS web up and READY=1", got)
	}
	// The loop turns every 20ms: a ping every 500ms, and READY never again.
	pings := 0
	for at := startup + 60*time.Millisecond; at < startup+3*time.Second; at += 20 * time.Millisecond {
		for _, s := range turn(at) {
			if s != "WATCHDOG=1" {
				t.Fatalf("at %v sent %q", at, s)
			}
			pings++
		}
	}
	if pings != 6 {
		t.Errorf("%d pings in 3s with a 1s watchdog, want 6", pings)
	}
	// Shutdown: STATUS and STOPPING once, whether or not a state changed.
	shutdown = true
	if got := strings.Join(turn(startup+3*time.Second), "|"); got != "STOPPING=1" {
		t.Errorf("shutdown begun, the core not told yet: sent %q", got)
	}
	step(startup+3*time.Second, quorum.Shutdown{})
	got := strings.Join(turn(startup+3*time.Second+time.Millisecond), "|")
	if strings.Contains(got, "STOPPING=1") || !strings.Contains(got, "handing over") {
		t.Errorf("hand-over: sent %q, want the STATUS and no second STOPPING", got)
	}
}

func TestNotifierOff(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := newNotifier(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n.send != nil {
		t.Fatal("a notifier without NOTIFY_SOCKET would send")
	}
	n.turn(t0, nil, 0, true) // does not touch the core
}

func TestJournalHandler(t *testing.T) {
	var b bytes.Buffer
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelDebug)
	log := slog.New(JournalHandler(&b, false, &slog.HandlerOptions{Level: lv}))
	log.Info("service state", "service", "web", "to", "up")
	log.With("peer", "n2").Warn("peer state", "to", "dead")
	log.Error("failoverd stopped")
	log.Debug("frame")
	want := `<6>level=INFO msg="service state" service=web to=up
<4>level=WARN msg="peer state" peer=n2 to=dead
<3>level=ERROR msg="failoverd stopped"
<7>level=DEBUG msg=frame
`
	if b.String() != want {
		t.Errorf("journal text log:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	slog.New(JournalHandler(&b, true, &slog.HandlerOptions{})).Info("x")
	if !strings.HasPrefix(b.String(), `<6>{"time":`) {
		t.Errorf("journal JSON log: %q", b.String())
	}
}

func TestUnderJournal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stream")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if !UnderJournal(f) {
		t.Error("stderr is the journal's stream, UnderJournal says no")
	}
	if UnderJournal(os.Stdin) || UnderJournal(&bytes.Buffer{}) {
		t.Error("another stream is not the journal's")
	}
	t.Setenv("JOURNAL_STREAM", "")
	if UnderJournal(f) {
		t.Error("no JOURNAL_STREAM, yet UnderJournal")
	}
}

func TestCheckCaps(t *testing.T) {
	cfg, err := config.Parse("n1.toml", []byte(snmpBase))
	if err != nil {
		t.Fatal(err)
	}
	all := func(int) bool { return true }
	only := func(bit int) func(int) bool { return func(b int) bool { return b == bit } }
	if err := checkCaps(cfg, all); err != nil {
		t.Errorf("all capabilities: %v", err)
	}
	for _, tt := range []struct {
		have      func(int) bool
		want, not string
	}{
		{only(capNetAdmin), "missing capability CAP_NET_RAW (gratuitous ARP", "CAP_NET_ADMIN (adding"},
		{only(capNetRaw), "missing capability CAP_NET_ADMIN (adding and removing the VIP): run", "CAP_NET_RAW (gratuitous"},
		{func(int) bool { return false }, "missing capability CAP_NET_ADMIN (adding and removing the VIP) and CAP_NET_RAW (", ""},
	} {
		err := checkCaps(cfg, tt.have)
		if !errors.Is(err, ErrMissingCapability) || !strings.Contains(err.Error(), tt.want) || (tt.not != "" && strings.Contains(err.Error(), tt.not)) {
			t.Errorf("checkCaps = %v; want ErrMissingCapability with %q", err, tt.want)
		}
	}
	// This process: the test runs as root (or root of a user namespace).
	if have, err := effectiveCaps(); err != nil || (os.Geteuid() == 0 && checkCaps(cfg, have) != nil) {
		t.Errorf("effectiveCaps: %v, check %v", err, checkCaps(cfg, have))
	}
}
