package rig

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// benchScenario is how one scenario is driven.
type benchScenario struct {
	what string
	// from and to: the owner before and after the fault.
	from, to string
	// detection is the log line that ends the detection stage.
	detection Mark
	// setup brings the cluster to the state before the fault (nil: the
	// settled cluster is that state).
	setup func(ctx context.Context) error
	// fault injects the fault.
	fault func(ctx context.Context) error
	// done reports whether the cluster has settled after the fault.
	done func(t0 time.Time) func(ctx context.Context) (bool, string)
	// restore puts the cluster back (nil: nothing to do).
	restore func(ctx context.Context) error
}

func (b *bench) scenario(name string) benchScenario {
	rg := b.rg
	svc, h1, h2 := benchSvc, benchMaster, benchBackup
	sent := func(host, op string) Mark {
		return Mark{Host: host, Msgs: []string{"control sent"}, Attrs: map[string]string{"op": op, "service": svc}}
	}
	dead := Mark{Host: h2, Msgs: []string{"peer state"}, Attrs: map[string]string{"peer": h1, "to": "dead"}}
	onBackup := func(t0 time.Time) func(ctx context.Context) (bool, string) { return rg.Settled(svc, h2, t0, h1) }
	failed := func(t0 time.Time) func(ctx context.Context) (bool, string) {
		return both(onBackup(t0), func(ctx context.Context) (bool, string) {
			st, _, err := rg.State(ctx, h1, svc)
			if err != nil {
				return false, err.Error()
			}
			return st == "fail", h1 + " " + st
		})
	}
	// Putting the cluster back may wait for paths held down by damping
	// (see run).
	home := func(ctx context.Context, since time.Time) error {
		return b.waitFor(ctx, b.o.Timeout+b.damping, svc+" back on "+h1, rg.Settled(svc, h1, since))
	}
	switch name {
	case ScenarioPowerPull:
		return benchScenario{
			what: "power pull of h1 (freeze: processes stopped, every NIC and cable silent) -> h2 takes over",
			from: h1, to: h2, detection: dead,
			fault: func(context.Context) error { return rg.Lab.Freeze(h1) },
			done:  onBackup,
			restore: func(ctx context.Context) error {
				t := time.Now()
				if err := rg.Lab.Thaw(h1); err != nil {
					return err
				}
				return home(ctx, t)
			},
		}
	case ScenarioCablePull:
		return benchScenario{
			what: "cable pull of h1's service NIC (eth0) -> h1 fails web and releases it to h2",
			from: h1, to: h2,
			detection: Mark{Host: h1, Msgs: []string{"link"}, Attrs: map[string]string{"path": "eth0", "up": "false"}},
			fault:     func(context.Context) error { return rg.Lab.Pull(h1, "eth0") },
			done:      failed,
			restore: func(ctx context.Context) error {
				t := time.Now()
				if err := rg.Lab.Plug(h1, "eth0"); err != nil {
					return err
				}
				return home(ctx, t)
			},
		}
	case ScenarioHandoverTerm:
		return benchScenario{
			what: "planned hand-over: SIGTERM to h1's failoverd -> it releases web to h2 and exits",
			from: h1, to: h2, detection: sent(h1, "release"),
			fault: func(context.Context) error { return rg.Signal(h1, syscall.SIGTERM) },
			done: func(t0 time.Time) func(ctx context.Context) (bool, string) {
				return both(onBackup(t0), func(context.Context) (bool, string) {
					select {
					case <-rg.Daemon(h1).Done():
						return true, "failoverd in h1 exited"
					default:
						return false, "failoverd in h1 still running"
					}
				})
			},
			restore: func(ctx context.Context) error {
				t := time.Now()
				if _, err := rg.StartDaemon(h1); err != nil {
					return err
				}
				return home(ctx, t)
			},
		}
	case ScenarioHandoverFail:
		return benchScenario{
			what: "planned hand-over: \"failover fail web\" on h1 -> it releases web to h2",
			from: h1, to: h2, detection: sent(h1, "release"),
			fault: func(ctx context.Context) error { _, err := rg.Client(h1).Fail(ctx, svc); return err },
			done:  failed,
			restore: func(ctx context.Context) error {
				t := time.Now()
				if _, err := rg.Client(h1).Recover(ctx, svc); err != nil {
					return err
				}
				return home(ctx, t)
			},
		}
	case ScenarioReclaim:
		return benchScenario{
			what: "reclaim after power back: h1 frozen and h2 the owner, then h1 thawed -> h1 reclaims web",
			from: h2, to: h1, detection: sent(h1, "reclaim"),
			setup: func(ctx context.Context) error {
				t := time.Now()
				if err := rg.Lab.Freeze(h1); err != nil {
					return err
				}
				err := b.wait(ctx, svc+" on "+h2+" while "+h1+" is frozen", onBackup(t))
				if err != nil {
					if terr := rg.Lab.Thaw(h1); terr != nil {
						return fmt.Errorf("%v; then thawing %s: %w", err, h1, terr) // not a timeout: h1 may stay frozen
					}
				}
				return err
			},
			fault: func(context.Context) error { return rg.Lab.Thaw(h1) },
			done:  func(t0 time.Time) func(ctx context.Context) (bool, string) { return rg.Settled(svc, h1, t0) },
		}
	}
	panic("rig: no bench scenario " + name) // Check refused unknown names
}

// both is done when a and b are.
func both(a, b func(ctx context.Context) (bool, string)) func(ctx context.Context) (bool, string) {
	return func(ctx context.Context) (bool, string) {
		okA, dA := a(ctx)
		okB, dB := b(ctx)
		return okA && okB, dA + ", " + dB
	}
}
