package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// waitBound bounds every wait: generous, because a loaded CI machine is slow,
// and never asserted as a duration.
const waitBound = 30 * time.Second

// Test timers: slower than failoverd's defaults (20ms/100ms) so that a busy
// machine running the whole suite with -race does not see false deaths.
const (
	testInterval = 50 * time.Millisecond
	testDeadtime = 500 * time.Millisecond
)

// newRig starts a cluster for t; it is torn down by t.Cleanup, which also
// prints the daemons' logs when t failed.
func newRig(t *testing.T, opts rig.Options) *rig.Rig {
	t.Helper()
	lab.Require(t)
	opts.Failoverd = bin(t, "failoverd")
	opts.Dir = t.TempDir()
	if opts.Interval == 0 {
		opts.Interval = testInterval
	}
	if opts.Deadtime == 0 {
		opts.Deadtime = testDeadtime
	}
	opts.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	rg, err := rig.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, h := range rg.Hosts() {
				b, _ := os.ReadFile(rg.LogFile(h))
				t.Logf("--- %s's failoverd log:\n%s", h, tailLines(string(b), 60))
			}
		}
		if err := rg.Close(); err != nil {
			t.Errorf("rig close: %v", err)
		}
	})
	return rg
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls check until it holds, failing t after waitBound.
func waitFor(t *testing.T, what string, check func(ctx context.Context) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if err := rig.Poll(ctx, what, check); err != nil {
		t.Fatal(err)
	}
}

// settle waits until svc is up on owner only (VIP and state), every other
// host not in skip is in recover, and the client's probes sent after since
// are answered by owner; it logs the client-observed outage since since.
func settle(t *testing.T, rg *rig.Rig, svc, owner string, since time.Time, event string, skip ...string) {
	t.Helper()
	check := rg.Settled(svc, owner, since, skip...)
	waitFor(t, svc+" settled on "+owner, func(ctx context.Context) (bool, string) {
		if err := rg.Exited(skip...); err != nil {
			t.Fatal(err)
		}
		return check(ctx)
	})
	if !since.IsZero() {
		o := rg.Prober(svc).Outage(since, time.Now())
		t.Logf("%s: %s: client saw %s", event, svc, o)
	}
}

// holds observes, for a window of n deadtimes after the fault was seen,
// that svc stays on owner (state, VIP and client answers). It is not a
// timing assertion: it checks that nothing moves while the failure detector
// has had every chance to act.
func holds(t *testing.T, rg *rig.Rig, svc, owner string, n int) {
	t.Helper()
	end := time.Now().Add(time.Duration(n) * testDeadtime)
	from := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ; time.Now().Before(end); <-tick.C {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		state, _, err := rg.State(ctx, owner, svc)
		cancel()
		if err != nil || state != "up" {
			t.Fatalf("%s on %s: state %q (%v), want it to stay up", svc, owner, state, err)
		}
		holders, _ := rg.Holders(svc)
		if len(holders) != 1 || holders[0] != owner {
			t.Fatalf("%s: VIP held by %v, want %s alone", svc, holders, owner)
		}
	}
	if o := rg.Prober(svc).Outage(from, time.Now()); o.Longest > 0 {
		t.Logf("%s: client saw %s while it should have stayed on %s", svc, o, owner)
	}
	if a, ok := rg.Prober(svc).Last(); !ok || a.From != owner {
		t.Fatalf("%s: client last answered by %q, want %s", svc, a.From, owner)
	}
}

// peerState returns host's verdict on peer.
func peerState(ctx context.Context, rg *rig.Rig, host, peer string) (string, map[string]string, error) {
	st, err := rg.Status(ctx, host)
	if err != nil {
		return "", nil, err
	}
	for _, p := range st.Peers {
		if p.Name == peer {
			paths := map[string]string{}
			for _, pp := range p.Paths {
				paths[pp.Path] = pp.State
			}
			return p.State, paths, nil
		}
	}
	return "", nil, nil
}

// allAlive waits until every host sees every peer alive on every path.
func allAlive(t *testing.T, rg *rig.Rig) {
	t.Helper()
	waitFor(t, "every peer alive on every path", func(ctx context.Context) (bool, string) {
		for _, h := range rg.Hosts() {
			st, err := rg.Status(ctx, h)
			if err != nil {
				return false, err.Error()
			}
			for _, p := range st.Peers {
				if p.State != "alive" {
					return false, h + " sees " + p.Name + " " + p.State
				}
			}
		}
		return true, ""
	})
}

// failover runs the built failover binary.
func failover(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin(t, "failover"), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("failover %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// mustFailover runs failover and fails t unless it exits 0.
func mustFailover(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := failover(t, args...)
	if code != 0 {
		t.Fatalf("failover %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// states polls host's state of svc every few ms until stop is closed and
// returns the distinct states seen in order.
func states(rg *rig.Rig, host, svc string, stop <-chan struct{}) <-chan []string {
	out := make(chan []string, 1)
	go func() {
		var seq []string
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				out <- seq
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s, _, err := rg.State(ctx, host, svc)
			cancel()
			if err == nil && (len(seq) == 0 || seq[len(seq)-1] != s) {
				seq = append(seq, s)
			}
		}
	}()
	return out
}
