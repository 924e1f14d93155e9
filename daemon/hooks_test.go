package daemon

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/notify"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

// Every reason text the core gives a state change falls in a class.
func TestReasonClass(t *testing.T) {
	for reason, want := range map[string]string{
		"operator: fail":                                           "operator",
		"operator: recover":                                        "operator",
		"health: check http: HTTP 503, want 200":                   "health",
		"health check failed":                                      "health",
		"health: ok: carrier on eth0":                              "health",
		"carrier lost on service path eth0":                        "carrier",
		"carrier back on eth0":                                     "carrier",
		"split brain: n2 also holds web and outranks us; yielding": "split_brain",
		"shutdown": "shutdown",
		"we outrank holder n2; asking for web back": "failback",
		"reclaimed by n1":                             "failback",
		"released by n2 (reclaim)":                    "failback",
		"released by n1 (hand-over)":                  "handover",
		"peer n1 dead: eth0, eth1 silent for 120ms":   "peer_dead",
		"claimed: peer n1 dead: eth0 silent":          "peer_dead",
		"n1 reports web fail":                         "free",
		"claimed: nobody holds web and we rank first": "free",
		"no longer eligible":                          "stand_down",
		"isolated":                                    "stand_down",
		"listening: carrier just returned":            "stand_down",
		"n2 holds web":                                "stand_down",
		"n1 outranks us and is alive":                 "stand_down",
		"holder n2 gone without a release":            "stand_down",
		"starting":                                    "other",
		"kept the address an earlier run of ours left: nobody holds web and we rank first": "restart",
	} {
		if got := reasonClass(reason); got != want {
			t.Errorf("reasonClass(%q) = %q, want %q", reason, got, want)
		}
	}
}

func TestAdvertChanged(t *testing.T) {
	a := []transport.ServiceView{{Name: "web", State: 2, Priority: 100}}
	for _, tc := range []struct {
		b    []transport.ServiceView
		want bool
	}{
		{[]transport.ServiceView{{Name: "web", State: 2, Priority: 100}}, false},
		{[]transport.ServiceView{{Name: "web", State: 2, Priority: 70}}, false}, // a priority is not an owner
		{[]transport.ServiceView{{Name: "web", State: 1, Priority: 100}}, true},
		{nil, true},
	} {
		if got := advertChanged(a, tc.b); got != tc.want {
			t.Errorf("advertChanged(%v, %v) = %v, want %v", a, tc.b, got, tc.want)
		}
	}
}

func TestNotifyConfig(t *testing.T) {
	cfg, err := config.Parse("f.toml", []byte(`notify = ["/bin/all"]
notify_timeout = "3s"
notify_fifo = "/run/f.fifo"
`+snmpBase+`notify = ["/bin/web", "x"]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := notify.Config{Global: []string{"/bin/all"}, Service: map[string][]string{"web": {"/bin/web", "x"}}, Timeout: 3 * time.Second, FIFO: "/run/f.fifo"}
	if diff := cmp.Diff(want, notifyConfig(cfg)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !hooksConfigured(cfg) {
		t.Error("hooks not seen as configured")
	}
	plain, _ := config.Parse("f.toml", []byte(snmpBase))
	if hooksConfigured(plain) {
		t.Error("a config without hooks seen as having some")
	}
}

// StateChanged actions are counted by reason class and queued for the
// hooks in their order; the owner's loss and return give the last outage.
func TestObserve(t *testing.T) {
	s := coreSession(t, snmpBase)
	t0 := time.Now()
	s.observe(t0, []quorum.Action{
		quorum.StateChanged{Service: "web", From: quorum.StateRecover, To: quorum.StateIndoubt, Reason: "nobody holds web and we rank first"},
		quorum.StateChanged{Service: "web", From: quorum.StateIndoubt, To: quorum.StateUp, Reason: "claimed: nobody holds web and we rank first"},
		quorum.StateChanged{Service: "web", From: quorum.StateUp, To: quorum.StateFail, Reason: "operator: fail"},
	})
	st := s.d.svcStats["web"]
	want := map[[2]string]uint64{{"indoubt", "free"}: 1, {"up", "free"}: 1, {"fail", "operator"}: 1}
	if diff := cmp.Diff(want, st.transitions); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	if q := s.d.hooks.Status().Queued; q != 0 {
		t.Errorf("%d changes queued with no hooks configured, want 0", q)
	}
	// The owner as the core sees it: the core claims the service, loses it
	// to an operator's fail and claims it again; the outage is the time
	// nobody held it.
	clear(st.transitions)
	at := s.core.Status().At
	// step feeds ev, answers a probe with nobody there, and observes.
	step := func(ev quorum.Event) {
		t.Helper()
		acts, err := s.core.Step(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acts {
			if _, ok := a.(quorum.Probe); ok {
				more, err := s.core.Step(quorum.Probed{At: at, Service: "web"})
				if err != nil {
					t.Fatal(err)
				}
				acts = append(acts, more...)
			}
		}
		s.observe(at, acts)
	}
	drive := func(until quorum.State) {
		t.Helper()
		for range 50 {
			if s.core.Status().Services[0].State == until {
				return
			}
			at = s.core.NextDeadline()
			step(quorum.Tick{At: at})
		}
		t.Fatalf("web never reached %v: %+v", until, s.core.Status().Services[0])
	}
	command := func(op quorum.Op) {
		t.Helper()
		at = at.Add(100 * time.Millisecond)
		step(quorum.Command{At: at, Service: "web", Op: op})
	}
	drive(quorum.StateUp)
	if st.owner != "n1" || !st.outageFrom.IsZero() || st.lastOutage != 0 {
		t.Fatalf("after the first claim: %+v, want owner n1 and no outage", st)
	}
	command(quorum.OpFail)
	lost := at
	if st.owner != "" || !st.outageFrom.Equal(lost) {
		t.Fatalf("after fail: %+v, want no owner since %v", st, lost)
	}
	command(quorum.OpRecover)
	drive(quorum.StateUp)
	if st.owner != "n1" || st.lastOutage != at.Sub(lost) || !st.lastOutageAt.Equal(at) {
		t.Errorf("after the second claim: %+v, want an outage of %v", st, at.Sub(lost))
	}
	var cs client.Service
	cs.Name = "web"
	s.serviceExtras(&cs, nil)
	if cs.LastOutage != client.Duration(at.Sub(lost)) || !cs.LastOutageAt.Equal(at) {
		t.Errorf("service extras: outage %v at %v", cs.LastOutage, cs.LastOutageAt)
	}
	wantT := []client.Transition{{To: "fail", Reason: "operator", Count: 1}, {To: "indoubt", Reason: "free", Count: 2},
		{To: "recover", Reason: "operator", Count: 1}, {To: "up", Reason: "free", Count: 2}}
	if diff := cmp.Diff(wantT, cs.Transitions); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}
