package quorum

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A node started again with its address still on the NIC (Inherited): each
// case steps Inherited at start, then the events, and compares the actions
// of the last step and the state after it; once decided, the address is
// not touched again.
func TestInherited(t *testing.T) {
	kept := func(svc string) []Action {
		return []Action{
			AddVIP{Service: svc},
			Announce{Service: svc},
			StateChanged{Service: svc, From: StateRecover, To: StateUp, Reason: "kept the address an earlier run of ours left: nobody else holds " + svc},
			SendHeartbeat{},
		}
	}
	// n2 as n1's peer in twoNodeConfig: priority 50 against n1's 100.
	n2 := func(at time.Duration, svc State, prio int) Heard {
		h := heard(at, "eth0", 1, svc)
		h.Services[0].Priority = prio
		return h
	}
	tests := []struct {
		name  string
		self  string
		cfg   func(*Config)
		evs   []Event // after Inherited at t0
		want  []Action
		state State
	}{{
		name:  "nothing known yet: kept, recover, nothing done",
		self:  "n1",
		evs:   []Event{Tick{At: t0.Add(ms(499))}},
		want:  nil,
		state: StateRecover,
	}, {
		name:  "alone: kept through the startup listen, then up without hold or probe",
		self:  "n1",
		evs:   []Event{Tick{At: t0.Add(ms(500))}},
		want:  kept("vip1"),
		state: StateUp,
	}, {
		name:  "the peer heard holding nothing: up at once, long before the listen ends",
		self:  "n1",
		evs:   []Event{n2(ms(20), StateRecover, 50)},
		want:  kept("vip1"),
		state: StateUp,
	}, {
		name:  "the peer heard indoubt (its probes were answered by our address): up at once",
		self:  "n1",
		evs:   []Event{n2(ms(20), StateIndoubt, 50)},
		want:  kept("vip1"),
		state: StateUp,
	}, {
		name: "the peer holds the service: dropped at once",
		self: "n1",
		evs:  []Event{n2(ms(20), StateUp, 50)},
		want: []Action{RemoveVIP{Service: "vip1"}, SendHeartbeat{}},
		// n1 outranks it: it asks for the service back as failback says.
		state: StateRecover,
	}, {
		name:  "lower-ranked, the better peer holds nothing: kept (failback decides, off here)",
		self:  "n2",
		cfg:   func(c *Config) { c.Services[0].Failback = false },
		evs:   []Event{Heard{At: t0.Add(ms(20)), Peer: "n1", Path: "eth0", Epoch: 1, Seq: 1, Interval: ms(100), Services: []ServiceState{{Name: "vip1", State: StateRecover, Priority: 100}}}},
		want:  kept("vip1"),
		state: StateUp,
	}, {
		name: "unhealthy: dropped, fail",
		self: "n1",
		evs:  []Event{Health{At: t0.Add(ms(10)), Service: "vip1", OK: false, Reason: "check web"}},
		want: []Action{
			RemoveVIP{Service: "vip1"},
			StateChanged{Service: "vip1", From: StateRecover, To: StateFail, Reason: "health: check web"},
			SendHeartbeat{},
		},
		state: StateFail,
	}, {
		name:  "shut down while listening: dropped",
		self:  "n1",
		evs:   []Event{Shutdown{At: t0.Add(ms(10))}},
		want:  []Action{RemoveVIP{Service: "vip1"}},
		state: StateRecover,
	}, {
		name:  "stalled while listening: dropped",
		self:  "n1",
		evs:   []Event{Stalled{At: t0.Add(ms(400)), For: ms(400)}},
		want:  []Action{Alarm{Text: "stalled for 400ms: dropping claims"}, RemoveVIP{Service: "vip1"}},
		state: StateRecover,
	}, {
		name:  "priority 0 here: dropped at once",
		self:  "n1",
		cfg:   func(c *Config) { c.Services[0].Priorities["n1"] = 0 },
		want:  []Action{RemoveVIP{Service: "vip1"}},
		state: StateRecover,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := twoNodeConfig(tt.self)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c := mustNew(t, cfg)
			acts := mustStep(t, c, Inherited{At: t0, Service: "vip1"})
			if len(tt.evs) > 0 && len(acts) != 0 {
				t.Fatalf("Inherited at start: %v, want no actions", acts)
			}
			for _, ev := range tt.evs {
				acts = mustStep(t, c, ev)
			}
			if diff := cmp.Diff(tt.want, serviceActions(acts)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if got := c.Status().Services[0].State; got != tt.state {
				t.Errorf("state %v, want %v", got, tt.state)
			}
			if tt.want == nil {
				return // still listening
			}
			// Decided once: the address is not touched again.
			for _, a := range mustStep(t, c, Tick{At: t0.Add(ms(600))}) {
				switch a.(type) {
				case AddVIP, RemoveVIP:
					t.Errorf("after the decision: %#v", a)
				}
			}
		})
	}
}

// serviceActions leaves out the reports on peers and paths.
func serviceActions(acts []Action) []Action {
	var out []Action
	for _, a := range acts {
		switch a.(type) {
		case PathChanged, PeerChanged:
		default:
			out = append(out, a)
		}
	}
	return out
}

// Inherited for a service we already hold changes nothing.
func TestInheritedWhileUpIgnored(t *testing.T) {
	c := holder(t)
	if acts := mustStep(t, c, Inherited{At: c.now, Service: "vip1"}); len(acts) != 0 {
		t.Fatalf("Inherited while up: %v, want no actions", acts)
	}
	if got := c.Status().Services[0].State; got != StateUp {
		t.Fatalf("state %v, want up", got)
	}
}

// The startup listen ends once every peer has been heard (each frame says
// what its sender holds), not before: with one of two peers silent, the
// node listens for the whole Startup.
func TestStartupListenEndsOnceEveryPeerHeard(t *testing.T) {
	indoubt := StateChanged{Service: "vip1", From: StateRecover, To: StateIndoubt, Reason: "nobody holds vip1 and we rank first"}
	t.Run("every peer heard", func(t *testing.T) {
		c := mustNew(t, twoNodeConfig("n1"))
		acts := mustStep(t, c, heard(ms(20), "eth0", 1, StateRecover))
		if !hasAction(acts, indoubt) || !hasAction(acts, Probe{Service: "vip1"}) {
			t.Fatalf("n2 heard holding nothing at 20ms: %v, want indoubt and a probe", serviceActions(acts))
		}
	})
	t.Run("one peer not heard", func(t *testing.T) {
		cfg := twoNodeConfig("n1")
		cfg.Peers = append(cfg.Peers, Peer{Name: "n3", Paths: []string{"eth0", "eth1", "serial0"}})
		cfg.Services[0].Priorities["n3"] = 10
		c := mustNew(t, cfg)
		if acts := serviceActions(mustStep(t, c, heard(ms(20), "eth0", 1, StateRecover))); len(acts) != 0 {
			t.Fatalf("n2 heard, n3 not: %v, want no claim while listening", acts)
		}
		if acts := mustStep(t, c, Tick{At: t0.Add(ms(499))}); hasAction(acts, indoubt) {
			t.Fatalf("indoubt before the startup listen ended with n3 unheard")
		}
		if acts := mustStep(t, c, Tick{At: t0.Add(ms(500))}); !hasAction(acts, indoubt) {
			t.Fatalf("at the end of the startup listen: %v, want indoubt", serviceActions(acts))
		}
	})
}
