package daemon

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/daemon/check"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

const checkConf = snmpBase + `
[[service.check]]
kind = "http"
target = "http://127.0.0.1:8080/health"

[[service.check]]
name = "db"
kind = "tcp"
target = "127.0.0.1:5432"
weight = 30

[[service.check]]
kind = "exec"
command = ["/bin/check", "-q"]
rise = 1
fall = 1
`

func TestCheckSpecs(t *testing.T) {
	cfg, err := config.Parse("f.toml", []byte(checkConf))
	if err != nil {
		t.Fatal(err)
	}
	d := config.DefaultCheck()
	want := []check.Spec{
		{Service: "web", Name: "http", Kind: check.KindHTTP, Target: "http://127.0.0.1:8080/health", Method: "icmp", Status: 200,
			Interval: d.Interval, Timeout: d.Timeout, Rise: d.Rise, Fall: d.Fall, Effect: check.EffectFail},
		{Service: "web", Name: "db", Kind: check.KindTCP, Target: "127.0.0.1:5432", Method: "icmp", Status: 200,
			Interval: d.Interval, Timeout: d.Timeout, Rise: d.Rise, Fall: d.Fall, Effect: check.EffectWeight, Weight: 30},
		{Service: "web", Name: "exec", Kind: check.KindExec, Command: []string{"/bin/check", "-q"}, Method: "icmp", Status: 200,
			Interval: d.Interval, Timeout: d.Timeout, Rise: 1, Fall: 1, Effect: check.EffectFail},
	}
	got := checkSpecs(cfg)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("specs (-want +got):\n%s", diff)
	}
	for _, sp := range got {
		if err := sp.Validate(); err != nil {
			t.Errorf("a valid config gave an invalid spec: %v", err)
		}
	}
}

// coreSession is a session with a real core and no network, for the
// health wiring.
func coreSession(t *testing.T, text string) *session {
	t.Helper()
	cfg, err := config.Parse("f.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(cfg, Options{Logger: log, Level: new(slog.LevelVar)})
	if err != nil {
		t.Fatal(err)
	}
	core, err := quorum.New(cfg.Core(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := transport.NewSealer(cfg.ClusterID, nil, transport.Unauthenticated())
	if err != nil {
		t.Fatal(err)
	}
	s := &session{d: d, cfg: cfg, log: log, core: core, sealer: sealer, ctx: t.Context(), svcs: map[string]*svcRT{}, order: []string{"web"},
		events: make(chan quorum.Event, 64), byName: map[string]*pathRT{}}
	s.svcs["web"] = &svcRT{cfg: cfg.Services[0]}
	s.health = map[string]*svcHealth{"web": {failing: map[string]string{}, weights: map[string]int{}}}
	return s
}

// The core's health of a service is the sum of its NIC's carrier and its
// fail checks; weight checks lower its priority.
func TestHealthSum(t *testing.T) {
	s := coreSession(t, checkConf)
	svc := func() quorum.ServiceStatus { return s.core.Status().Services[0] }
	fail := func(name string, ok bool, why string) {
		s.checkChanged(check.Change{Service: "web", Check: name, OK: ok, Effect: check.EffectFail, Reason: why})
	}
	weight := func(name string, ok bool, w int) {
		s.checkChanged(check.Change{Service: "web", Check: name, OK: ok, Effect: check.EffectWeight, Weight: w, Reason: "check " + name})
	}
	steps := []struct {
		name     string
		do       func()
		state    quorum.State
		reason   string
		priority int
	}{
		{"http fails", func() { fail("http", false, "check http: HTTP 503 (3 failures in a row)") },
			quorum.StateFail, "health: check http: HTTP 503 (3 failures in a row)", 100},
		{"exec fails too", func() { fail("exec", false, "check exec: exit status 1") },
			quorum.StateFail, "health: check http: HTTP 503 (3 failures in a row)", 100},
		{"http passes, exec still fails", func() { fail("http", true, "check http: HTTP 200 OK (2 passes in a row)") },
			quorum.StateFail, "health: check http: HTTP 503 (3 failures in a row)", 100},
		{"carrier lost", func() { s.carrierChanged(time.Now(), "web", false, "no carrier on eth0") },
			quorum.StateFail, "health: check http: HTTP 503 (3 failures in a row)", 100},
		{"exec passes, carrier still lost", func() { fail("exec", true, "check exec: exit status 0 (1 pass)") },
			quorum.StateFail, "", 100},
		{"carrier back: healthy", func() { s.carrierChanged(time.Now(), "web", true, "carrier on eth0") },
			quorum.StateRecover, "health: ok: carrier on eth0", 100},
		{"weight check fails", func() { weight("db", false, 30) }, quorum.StateRecover, "", 70},
		{"weight check passes", func() { weight("db", true, 30) }, quorum.StateRecover, "", 100},
	}
	for _, st := range steps {
		st.do()
		got := svc()
		if got.State != st.state || (st.reason != "" && got.Reason != st.reason) || got.Priority != st.priority {
			t.Errorf("%s: state %v (%q) priority %d, want %v (%q) %d", st.name, got.State, got.Reason, got.Priority, st.state, st.reason, st.priority)
		}
	}
	// While the carrier was lost the core saw it as unhealthy: the health it
	// was given names the carrier.
	h := s.health["web"]
	if h.noCarrier != "" || len(h.failing) != 0 || len(h.weights) != 0 {
		t.Errorf("health left %+v, want all clear", h)
	}
}
