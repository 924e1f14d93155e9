package check

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scripted is a prober that plays results in order ("+" pass, "-" fail,
// "h" hang until the timeout) and then repeats the last one.
type scripted struct {
	mu     sync.Mutex
	script string
	runs   int
	starts []time.Duration // since t0, of each run
	t0     time.Time
}

func (p *scripted) probe(ctx context.Context) (bool, string) {
	p.mu.Lock()
	i := min(p.runs, len(p.script)-1)
	p.runs++
	p.starts = append(p.starts, time.Since(p.t0))
	c := p.script[i]
	p.mu.Unlock()
	switch c {
	case '+':
		return true, "fine"
	case 'h':
		<-ctx.Done()
		return false, ""
	}
	return false, "broken\nsecond line"
}

func spec(name string, rise, fall int) Spec {
	return Spec{
		Service: "web", Name: name, Kind: KindExec, Command: []string{"/bin/true"},
		Interval: time.Second, Timeout: 300 * time.Millisecond, Rise: rise, Fall: fall, Effect: EffectFail,
	}
}

// collect records changes.
type collect struct {
	mu  sync.Mutex
	got []string
}

func (c *collect) on(ch Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := "fail"
	if ch.OK {
		v = "ok"
	}
	c.got = append(c.got, ch.Check+" "+v+": "+ch.Reason)
}

func (c *collect) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func TestSchedulerReportsOnlyChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c collect
		s, err := New([]Spec{spec("a", 2, 3)}, Options{OnChange: c.on})
		if err != nil {
			t.Fatal(err)
		}
		p := &scripted{script: "++---+-++++", t0: time.Now()}
		s.checks[0].probe = p
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(10*time.Second + time.Millisecond) // runs at 0s..10s: 11 runs
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []string{
			"a fail: check a: broken (3 failures in a row)",
			"a ok: check a: fine (2 passes in a row)",
		}
		if diff := cmp.Diff(want, c.list()); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		if p.runs != 11 {
			t.Errorf("%d runs in 10s at a 1s interval, want 11", p.runs)
		}
		st := s.Status()[0]
		if !st.OK || st.Runs != 11 || st.Failures != 4 || st.Last.Output != "fine" {
			t.Errorf("status = %+v, want ok after 11 runs with 4 failures, output fine", st)
		}
	})
}

func TestSchedulerFirstFailureAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c collect
		s, err := New([]Spec{spec("a", 2, 3)}, Options{OnChange: c.on})
		if err != nil {
			t.Fatal(err)
		}
		s.checks[0].probe = &scripted{script: "-", t0: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		go s.Run(ctx)
		synctest.Wait()
		cancel()
		if diff := cmp.Diff([]string{"a fail: check a: broken"}, c.list()); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
	})
}

func TestSchedulerHungRunFailsAtTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c collect
		s, err := New([]Spec{spec("hang", 1, 1)}, Options{OnChange: c.on})
		if err != nil {
			t.Fatal(err)
		}
		p := &scripted{script: "+h+", t0: time.Now()}
		s.checks[0].probe = p
		ctx, cancel := context.WithCancel(t.Context())
		go s.Run(ctx)
		time.Sleep(1500 * time.Millisecond) // run 2 started at 1s, timed out at 1.3s
		synctest.Wait()
		got := c.list()
		if diff := cmp.Diff([]string{"hang fail: check hang: timed out after 300ms (1 failure)"}, got); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		st := s.Status()[0]
		if st.Last.Duration != 300*time.Millisecond {
			t.Errorf("hung run took %v, want exactly the 300ms timeout", st.Last.Duration)
		}
		time.Sleep(time.Second) // run 3 at 2s passes
		synctest.Wait()
		cancel()
		if n := len(c.list()); n != 2 {
			t.Errorf("after the pass: %d changes, want 2: %q", n, c.list())
		}
		// The third run starts an interval after the second began, not
		// after it timed out.
		if diff := cmp.Diff([]time.Duration{0, time.Second, 2 * time.Second}, p.starts); diff != "" {
			t.Errorf("run starts (-want +got):\n%s", diff)
		}
	})
}

// A slow consumer of one check's changes delays only that check.
func TestSchedulerChecksIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		var c collect
		on := func(ch Change) {
			if ch.Check == "slow" {
				<-block
			}
			c.on(ch)
		}
		s, err := New([]Spec{spec("slow", 1, 1), spec("fast", 1, 1)}, Options{OnChange: on})
		if err != nil {
			t.Fatal(err)
		}
		s.checks[0].probe = &scripted{script: "-", t0: time.Now()}
		fast := &scripted{script: "-+-+", t0: time.Now()}
		s.checks[1].probe = fast
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(3*time.Second + time.Millisecond)
		if got := len(c.list()); got != 4 {
			t.Errorf("fast check: %d changes while the slow one's consumer blocks, want 4", got)
		}
		close(block)
		cancel()
		<-done
	})
}

func TestNewRejects(t *testing.T) {
	bad := spec("", 0, 0)
	bad.Interval = 0
	dup := []Spec{spec("a", 1, 1), spec("a", 1, 1)}
	w := spec("w", 1, 1)
	w.Effect = EffectWeight
	for _, tc := range []struct {
		name  string
		specs []Spec
		want  []string
	}{
		{"every problem at once", []Spec{bad}, []string{"name: empty", "interval: 0s", "rise: 0", "fall: 0"}},
		{"duplicate name", dup, []string{"check web/a: name: used twice"}},
		{"weight without weight", []Spec{w}, []string{"weight: 0, want >= 1"}},
		{"unknown kind", []Spec{{Service: "web", Name: "x", Kind: "smtp", Interval: 1, Timeout: 1, Rise: 1, Fall: 1, Effect: EffectFail}}, []string{`kind: "smtp"`}},
		{"tcp without port", []Spec{{Service: "web", Name: "x", Kind: KindTCP, Target: "db", Interval: 1, Timeout: 1, Rise: 1, Fall: 1, Effect: EffectFail}}, []string{`"db" is not host:port`}},
		{"arp to IPv6", []Spec{{Service: "web", Name: "x", Kind: KindPing, Method: MethodARP, Interface: "eth0", Target: "2001:db8::1", Interval: 1, Timeout: 1, Rise: 1, Fall: 1, Effect: EffectFail}}, []string{"arp needs an IPv4 address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.specs, Options{})
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx); err != ErrRunTwice {
		t.Errorf("second Run = %v, want ErrRunTwice", err)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"\n\n  two  \nthree":     "two",
		"one\r\n":                "one",
		strings.Repeat("é", 150): strings.Repeat("é", 100) + "…",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
