package quorum

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPropertyRandomFaults drives 2..4 nodes through random faults. Safety
// is checked by the simulator at every instant: two nodes never hold the same
// address while a path between them has worked both ways for longer than a
// heartbeat interval (the time it takes them to hear each other). After the
// faults stop and time passes, every service has exactly one owner.
//
// Set QUORUM_SEED to replay one run; QUORUM_RUNS to change how many.
func TestPropertyRandomFaults(t *testing.T) {
	runs := 200
	if testing.Short() || raceEnabled { // the race detector finds nothing more in run 31
		runs = 30
	}
	if v, err := strconv.Atoi(os.Getenv("QUORUM_RUNS")); err == nil {
		runs = v
	}
	base := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("QUORUM_SEED"), 10, 64); err == nil {
		base, runs = v, 1
	}
	t.Logf("base seed %d (QUORUM_SEED=%d replays the first run)", base, base)
	for i := range runs {
		seed := base + uint64(i)
		if !propertyRun(t, seed) {
			t.Fatalf("failed with seed %d: rerun with QUORUM_SEED=%d", seed, seed)
		}
	}
}

func propertyRun(t *testing.T, seed uint64) bool {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	s := newSim(t)
	s.rng = rand.New(rand.NewPCG(seed, 1))
	var script []string
	note := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		script = append(script, line)
		s.logf("## %s", line)
	}

	nNodes := 2 + rng.IntN(3)
	for i := 1; i <= nNodes; i++ {
		s.addNode(fmt.Sprintf("n%d", i))
	}
	allPaths := []string{"eth0", "eth1", "serial0"}
	for _, name := range allPaths[:1+rng.IntN(3)] {
		p := PathSpec{Name: name, Interval: ms(100), Deadtime: ms(300 + 100*rng.IntN(3))}
		if rng.IntN(2) == 0 {
			p.Floor = ms(200)
		}
		if rng.IntN(4) == 0 {
			s.jitter[name] = ms(1 + rng.IntN(40))
		}
		s.paths = append(s.paths, p)
	}
	for i := 1; i <= 1+rng.IntN(2); i++ {
		sv := Service{
			Name:          fmt.Sprintf("vip%d", i),
			Priorities:    map[string]int{},
			Failback:      rng.IntN(2) == 0,
			FailbackDelay: ms(100 * rng.IntN(10)),
			IndoubtHold:   ms(10 * rng.IntN(15)),
		}
		if rng.IntN(2) == 0 {
			sv.Path = s.paths[0].Name
		}
		for _, n := range s.nodes {
			sv.Priorities[n.name] = []int{0, 10, 50, 50, 100}[rng.IntN(5)]
		}
		sv.Priorities[s.nodes[rng.IntN(nNodes)].name] = 60 // someone can run it
		s.services = append(s.services, sv)
	}
	s.startup = ms(300 + 100*rng.IntN(3))
	s.latency = ms(1 + rng.IntN(30))
	if rng.IntN(2) == 0 {
		s.damping = Damping{Period: ms(1000 + 1000*rng.IntN(5)), Flaps: 2 + rng.IntN(3), Settle: ms(250 * rng.IntN(5))}
	}
	if rng.IntN(2) == 0 {
		s.lifetime = ms(1000 + 500*rng.IntN(4))
	}
	note("seed %d: %d nodes, latency %v, jitter %v, paths %v, services %+v, damping %+v, lifetime %v",
		seed, nNodes, s.latency, s.jitter, s.paths, s.services, s.damping, s.lifetime)

	for _, n := range s.nodes {
		if rng.IntN(3) == 0 {
			s.run(ms(rng.IntN(400)))
		}
		s.boot(n)
	}
	pick := func() *node { return s.nodes[rng.IntN(len(s.nodes))] }
	pickPath := func() string { return s.paths[rng.IntN(len(s.paths))].Name }
	pickSvc := func() string { return s.services[rng.IntN(len(s.services))].Name }
	shutdown := map[*node]bool{}
	for range 40 {
		switch rng.IntN(15) {
		case 0, 1, 2:
			d := ms(10 + rng.IntN(1500))
			note("run %v", d)
			s.run(d)
		case 3:
			a, b := pick(), pick()
			if a == b {
				continue
			}
			p := pickPath()
			if rng.IntN(2) == 0 {
				note("cut %s %s>%s", p, a.name, b.name)
				s.setCut(p, a.name, b.name, true)
			} else {
				note("cut %s %s %s", p, a.name, b.name)
				s.setCut(p, a.name, b.name, true)
				s.setCut(p, b.name, a.name, true)
			}
		case 4:
			note("heal")
			s.setCut("*", "", "", false)
		case 5:
			n, p, up := pick(), pickPath(), rng.IntN(2) == 0
			note("link %s %s up=%v", n.name, p, up)
			n.carrier[p] = up
			s.step(n, Link{At: s.now, Path: p, Up: up})
			s.updateConnectivity()
		case 6:
			n, sv := pick(), pickSvc()
			op := []Op{OpFail, OpRecover}[rng.IntN(2)]
			note("cmd %s %s %v", n.name, sv, op)
			s.step(n, Command{At: s.now, Service: sv, Op: op})
		case 7:
			n, sv, ok := pick(), pickSvc(), rng.IntN(2) == 0
			note("health %s %s ok=%v", n.name, sv, ok)
			s.step(n, Health{At: s.now, Service: sv, OK: ok, Reason: "check"})
		case 8:
			n := pick()
			if n.core == nil {
				note("boot %s", n.name)
				s.boot(n)
				delete(shutdown, n)
			} else if r := rng.IntN(3); r == 0 {
				note("kill %s", n.name)
				s.kill(n)
			} else if r == 1 {
				note("crash %s", n.name)
				s.crash(n)
			} else {
				note("shutdown %s", n.name)
				s.step(n, Shutdown{At: s.now})
				shutdown[n] = true
			}
		case 9:
			n := pick()
			note("conflict %s", n.name)
			n.conflict[pickSvc()] = true
		case 10:
			p := pickPath()
			l := float64(rng.IntN(4)) / 10
			note("loss %s %v", p, l)
			s.loss[p] = l
			s.updateConnectivity()
		case 11:
			d := ms(rng.IntN(200))
			note("run %v", d)
			s.run(d)
		case 12:
			n, sv, drop := pick(), pickSvc(), 10*rng.IntN(8)
			note("weight %s %s %d", n.name, sv, drop)
			s.step(n, Weight{At: s.now, Service: sv, Drop: drop})
		case 13:
			n := pick()
			switch {
			case n.core == nil:
			case n.stalled:
				note("resume %s", n.name)
				s.resume(n)
			default:
				note("stall %s", n.name)
				s.stall(n)
			}
		case 14:
			n, p := pick(), pickPath()
			every := ms(50 + 50*rng.IntN(6))
			k := 2 + rng.IntN(8)
			note("flap %s %s every %v, %d times", n.name, p, every, k)
			for range k {
				n.carrier[p] = !n.carrier[p]
				s.step(n, Link{At: s.now, Path: p, Up: n.carrier[p]})
				s.updateConnectivity()
				s.run(every)
			}
		}
		if len(s.violations) > 0 {
			break
		}
	}

	// The faults stop: heal everything and bring every node back.
	note("settle")
	s.setCut("*", "", "", false)
	clear(s.loss)
	for _, n := range s.nodes {
		if n.stalled {
			s.resume(n)
		}
		if shutdown[n] {
			s.kill(n)
		}
		if n.core == nil {
			s.boot(n)
		}
		for _, p := range s.paths {
			if !n.carrier[p.Name] {
				n.carrier[p.Name] = true
				s.step(n, Link{At: s.now, Path: p.Name, Up: true})
			}
		}
		for _, sv := range s.services {
			s.step(n, Health{At: s.now, Service: sv.Name, OK: true})
			s.step(n, Weight{At: s.now, Service: sv.Name, Drop: 0})
			s.step(n, Command{At: s.now, Service: sv.Name, Op: OpRecover})
		}
	}
	s.updateConnectivity()
	s.run(10 * time.Second)

	ok := len(s.violations) == 0
	for _, sv := range s.services {
		owners := s.owners(sv.Name)
		var up []string
		for _, n := range s.nodes {
			if n.state[sv.Name] == StateUp {
				up = append(up, n.name)
			}
		}
		if len(owners) != 1 || strings.Join(owners, ",") != strings.Join(up, ",") {
			ok = false
			t.Errorf("seed %d: after settling %s is held by %v (state up on %v), want exactly one", seed, sv.Name, owners, up)
		}
	}
	if !ok {
		t.Errorf("seed %d: violations:\n%s\nscript:\n%s", seed, strings.Join(s.violations, "\n"), strings.Join(script, "\n"))
		s.dumpTrace(t)
	}
	return ok
}
