package quorum

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestScenarios runs every testdata/*.txt script; the format is described
// in testdata/README.md.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			runScript(t, f, string(b))
		})
	}
}

func runScript(t *testing.T, file, text string) {
	s := newSim(t)
	lastWasExpect := false
	failed := false
	defer func() {
		if failed || t.Failed() || os.Getenv("QUORUM_TRACE") != "" {
			s.dumpTrace(t)
		}
	}()
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if j := strings.Index(line, "#"); j >= 0 {
			line = strings.TrimSpace(line[:j])
		}
		if line == "" {
			continue
		}
		where := file + ":" + strconv.Itoa(i+1)
		f := strings.Fields(line)
		errorf := func(format string, args ...any) {
			t.Helper()
			failed = true
			t.Errorf(where+": "+format, args...)
		}
		fatalf := func(format string, args ...any) {
			t.Helper()
			failed = true
			s.dumpTrace(t)
			t.Fatalf(where+": "+format, args...)
		}
		need := func(n int) {
			t.Helper()
			if len(f) < n {
				fatalf("want at least %d words: %q", n, line)
			}
		}
		nodeArg := func(name string) *node {
			t.Helper()
			n := s.byName[name]
			if n == nil {
				fatalf("unknown node %q", name)
			}
			return n
		}
		dur := func(v string) time.Duration {
			t.Helper()
			d, err := time.ParseDuration(v)
			if err != nil {
				fatalf("%v", err)
			}
			return d
		}
		if f[0] != "expect" && lastWasExpect {
			for _, n := range s.nodes {
				n.window = nil
				clear(n.changes)
			}
			for _, sv := range s.services {
				h := strings.Join(s.owners(sv.Name), "+")
				if h == "" {
					h = "-"
				}
				s.holderLog[sv.Name] = []string{h}
			}
		}
		lastWasExpect = f[0] == "expect"
		if f[0] != "expect" {
			s.logf("## %s", line)
		}
		switch f[0] {
		case "path":
			need(2)
			p := PathSpec{Name: f[1], Interval: ms(100), Deadtime: ms(300)}
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "interval":
					p.Interval = dur(v)
				case "deadtime":
					p.Deadtime = dur(v)
				case "floor":
					p.Floor = dur(v)
				case "jitter":
					s.jitter[p.Name] = dur(v)
				default:
					fatalf("path: unknown key %q", k)
				}
			}
			s.paths = append(s.paths, p)
		case "service":
			need(2)
			sv := Service{Name: f[1], Priorities: map[string]int{}, Failback: true, FailbackDelay: ms(1000), IndoubtHold: ms(100)}
			for _, kv := range f[2:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "failback":
					sv.Failback = v == "on"
				case "delay":
					sv.FailbackDelay = dur(v)
				case "hold":
					sv.IndoubtHold = dur(v)
				case "path":
					sv.Path = v
				default:
					p, err := strconv.Atoi(v)
					if err != nil {
						fatalf("service: %q: want node=priority", kv)
					}
					sv.Priorities[k] = p
				}
			}
			s.services = append(s.services, sv)
		case "nodes":
			for _, name := range f[1:] {
				s.addNode(name)
			}
		case "set":
			args := f[1:]
			var target *node
			if len(args) > 0 && !strings.Contains(args[0], "=") {
				target = nodeArg(args[0])
				args = args[1:]
			}
			for _, kv := range args {
				k, v, _ := strings.Cut(kv, "=")
				switch {
				case k == "startup":
					s.startup = dur(v)
				case k == "interval" && target != nil:
					target.interval = dur(v)
				case k == "interval":
					s.interval = dur(v)
					for _, n := range s.nodes {
						n.interval = s.interval
					}
				case k == "latency":
					s.latency = dur(v)
				case k == "fingerprint" && target != nil:
					x, _ := strconv.ParseUint(v, 16, 32)
					target.fp = uint32(x)
				case strings.HasPrefix(k, "timers.") && target != nil:
					target.timers[strings.TrimPrefix(k, "timers.")] = v
				case strings.HasPrefix(k, "services.") && target != nil:
					target.timers[strings.TrimPrefix(k, "services.")] = v
				case k == "timers" && target != nil:
					target.noTimers = v == "off"
				case k == "damping":
					s.damping.Period = dur(v)
				case k == "flaps":
					s.damping.Flaps, _ = strconv.Atoi(v)
				case k == "settle":
					s.damping.Settle = dur(v)
				case k == "lifetime":
					s.lifetime = dur(v)
				default:
					fatalf("set: unknown key %q", k)
				}
			}
		case "boot":
			names := f[1:]
			if len(names) == 0 {
				for _, n := range s.nodes {
					names = append(names, n.name)
				}
			}
			for _, name := range names {
				s.boot(nodeArg(name))
			}
		case "kill":
			need(2)
			s.kill(nodeArg(f[1]))
		case "crash":
			need(2)
			s.crash(nodeArg(f[1]))
		case "run":
			need(2)
			s.run(dur(f[1]))
		case "cut", "heal":
			path, from, to := "*", "", ""
			if len(f) > 1 {
				path = f[1]
			}
			switch {
			case len(f) == 3 && strings.Contains(f[2], ">"):
				from, to, _ = strings.Cut(f[2], ">")
				nodeArg(from)
				nodeArg(to)
			case len(f) == 4:
				nodeArg(f[2])
				nodeArg(f[3])
				s.setCut(path, f[2], f[3], f[0] == "cut")
				from, to = f[3], f[2]
			case len(f) == 3:
				nodeArg(f[2]) // every link of one node
				s.setCut(path, f[2], "", f[0] == "cut")
				from, to = "", f[2]
			}
			s.setCut(path, from, to, f[0] == "cut")
		case "loss":
			need(3)
			p, err := strconv.Atoi(strings.TrimSuffix(f[2], "%"))
			if err != nil {
				fatalf("loss: %v", err)
			}
			s.loss[f[1]] = float64(p) / 100
			s.updateConnectivity()
		case "link":
			need(4)
			n := nodeArg(f[1])
			up := f[3] == "up"
			n.carrier[f[2]] = up
			s.step(n, Link{At: s.now, Path: f[2], Up: up})
			s.updateConnectivity()
		case "health":
			need(4)
			s.step(nodeArg(f[1]), Health{At: s.now, Service: f[2], OK: f[3] == "ok", Reason: strings.Join(f[4:], " ")})
		case "weight":
			need(4)
			drop, err := strconv.Atoi(f[3])
			if err != nil {
				fatalf("weight: %q: want a number", f[3])
			}
			s.step(nodeArg(f[1]), Weight{At: s.now, Service: f[2], Drop: drop})
		case "cmd":
			need(4)
			op := map[string]Op{"fail": OpFail, "recover": OpRecover}[f[3]]
			s.step(nodeArg(f[1]), Command{At: s.now, Service: f[2], Op: op})
		case "shutdown":
			need(2)
			s.step(nodeArg(f[1]), Shutdown{At: s.now})
		case "stall":
			need(2)
			s.stall(nodeArg(f[1]))
		case "resume":
			need(2)
			s.resume(nodeArg(f[1]))
		case "cutflap": // cutflap PATH A B EVERY FOR: cut, heal, cut... both ways every EVERY for FOR, ending healed
			need(6)
			nodeArg(f[2])
			nodeArg(f[3])
			every, total := dur(f[4]), dur(f[5])
			on := false
			for d := time.Duration(0); d < total; d += every {
				on = !on
				s.setCut(f[1], f[2], f[3], on)
				s.setCut(f[1], f[3], f[2], on)
				s.run(every)
			}
			s.setCut(f[1], f[2], f[3], false)
			s.setCut(f[1], f[3], f[2], false)
		case "flap": // flap NODE PATH EVERY FOR: carrier down, up, down... every EVERY for FOR, ending up
			need(5)
			n, every, total := nodeArg(f[1]), dur(f[3]), dur(f[4])
			up := true
			for d := time.Duration(0); d < total; d += every {
				up = !up
				n.carrier[f[2]] = up
				s.step(n, Link{At: s.now, Path: f[2], Up: up})
				s.updateConnectivity()
				s.run(every)
			}
			if !up {
				n.carrier[f[2]] = true
				s.step(n, Link{At: s.now, Path: f[2], Up: true})
				s.updateConnectivity()
			}
		case "conflict":
			need(3)
			nodeArg(f[1]).conflict[f[2]] = true
		case "expect":
			need(2)
			expect(s, f[1:], line, nodeArg, errorf, fatalf)
		default:
			fatalf("unknown command %q", f[0])
		}
	}
	if len(s.violations) > 0 {
		failed = true
		t.Errorf("safety violations:\n%s", strings.Join(s.violations, "\n"))
	}
}

func expect(s *sim, f []string, line string, nodeArg func(string) *node, errorf, fatalf func(string, ...any)) {
	need := func(n int) {
		if len(f) < n {
			fatalf("expect %s: want at least %d words", f[0], n)
		}
	}
	status := func(n *node) Status {
		if n.core == nil {
			fatalf("%s is not running", n.name)
		}
		return n.core.Status()
	}
	if len(f) > 1 && f[0] == "no" && f[1] == "mismatch" {
		f = append([]string{"nomismatch"}, f[2:]...)
	}
	switch f[0] {
	case "state": // expect state NODE SERVICE STATE
		need(4)
		st := status(nodeArg(f[1]))
		for _, sv := range st.Services {
			if sv.Name == f[2] {
				if sv.State.String() != f[3] {
					errorf("%s %s: state %v (%s), want %s", f[1], f[2], sv.State, sv.Reason, f[3])
				}
				return
			}
		}
		fatalf("no service %q", f[2])
	case "owner": // expect owner SERVICE NODE...|none
		need(3)
		want := f[2:]
		if f[2] == "none" {
			want = nil
		}
		if diff := cmp.Diff(want, s.owners(f[1])); diff != "" {
			errorf("owners of %s (-want +got):\n%s", f[1], diff)
		}
	case "peer": // expect peer NODE PEER VERDICT
		need(4)
		for _, p := range status(nodeArg(f[1])).Peers {
			if p.Name == f[2] {
				if p.State.String() != f[3] {
					errorf("%s sees %s %v (%s), want %s", f[1], f[2], p.State, p.Reason, f[3])
				}
				return
			}
		}
		fatalf("no peer %q", f[2])
	case "path": // expect path NODE PEER PATH STATE [oneway|twoway]
		need(5)
		for _, p := range status(nodeArg(f[1])).Peers {
			for _, ps := range p.Paths {
				if p.Name == f[2] && ps.Name == f[3] {
					if ps.State.String() != f[4] {
						errorf("%s sees %s on %s %v, want %s", f[1], f[2], f[3], ps.State, f[4])
					}
					if len(f) > 5 && ps.OneWay != (f[5] == "oneway") {
						errorf("%s sees %s on %s one-way=%v, want %s", f[1], f[2], f[3], ps.OneWay, f[5])
					}
					return
				}
			}
		}
		fatalf("no path %s/%s", f[2], f[3])
	case "flapping": // expect flapping NODE PEER PATH [no]: held down; PEER "-" = our own NIC
		need(4)
		want := len(f) < 5 || f[4] != "no"
		st := status(nodeArg(f[1]))
		if f[2] == "-" {
			for _, lp := range st.Paths {
				if lp.Name == f[3] {
					if lp.Flapping != want {
						errorf("%s's own %s flapping %v, want %v", f[1], f[3], lp.Flapping, want)
					}
					return
				}
			}
			fatalf("no path %s", f[3])
		}
		for _, p := range st.Peers {
			for _, ps := range p.Paths {
				if p.Name == f[2] && ps.Name == f[3] {
					if ps.Flapping != want {
						errorf("%s sees %s on %s flapping %v (%v), want %v", f[1], f[2], f[3], ps.Flapping, ps.State, want)
					}
					return
				}
			}
		}
		fatalf("no path %s/%s", f[2], f[3])
	case "moves": // expect moves SERVICE N: owner changes since the last expect block
		need(3)
		want, err := strconv.Atoi(f[2])
		if err != nil {
			fatalf("moves: %v", err)
		}
		if got := moves(s.holderLog[f[1]]); got != want {
			errorf("%s moved %d times, want %d: %v", f[1], got, want, s.holderLog[f[1]])
		}
	case "overlap": // expect overlap SERVICE none: never two holders since the last expect block
		need(3)
		for _, h := range s.holderLog[f[1]] {
			if strings.Contains(h, "+") && f[2] == "none" {
				errorf("%s held by %s at once: %v", f[1], h, s.holderLog[f[1]])
				return
			}
		}
	case "isolated": // expect isolated NODE [no]
		need(2)
		want := len(f) < 3 || f[2] != "no"
		if got := status(nodeArg(f[1])).Isolated; got != want {
			errorf("%s isolated %v, want %v", f[1], got, want)
		}
	case "mismatch": // expect mismatch NODE PEER KEY [OURS THEIRS]
		need(4)
		for _, m := range status(nodeArg(f[1])).Mismatches {
			if m.Peer == f[2] && m.Key == f[3] {
				if len(f) >= 6 && (m.Ours != f[4] || m.Theirs != f[5]) {
					errorf("%s: mismatch %s with %s: ours %s theirs %s, want %s %s", f[1], f[3], f[2], m.Ours, m.Theirs, f[4], f[5])
				}
				return
			}
		}
		errorf("%s reports no mismatch %s with %s: %+v", f[1], f[3], f[2], status(nodeArg(f[1])).Mismatches)
	case "nomismatch": // expect no mismatch NODE PEER KEY
		need(4)
		for _, m := range status(nodeArg(f[1])).Mismatches {
			if m.Peer == f[2] && m.Key == f[3] {
				errorf("%s reports mismatch %s with %s: %+v", f[1], f[3], f[2], m)
			}
		}
	case "action", "no": // expect action NODE TEXT... / expect no action NODE TEXT...
		neg := f[0] == "no"
		if neg {
			f = f[1:]
		}
		need(3)
		n := nodeArg(f[1])
		text := strings.Join(f[2:], " ")
		found := slices.ContainsFunc(n.window, func(a string) bool { return strings.Contains(a, text) })
		if found == neg {
			want := "an action containing"
			if neg {
				want = "no action containing"
			}
			errorf("%s: want %s %q; got:\n  %s", n.name, want, text, strings.Join(n.window, "\n  "))
		}
	case "states": // expect states NODE SERVICE STATE... (changes since last expect)
		need(3)
		n := nodeArg(f[1])
		want := f[3:]
		if len(want) == 0 {
			want = nil
		}
		if diff := cmp.Diff(want, stateNames(n.changes[f[2]])); diff != "" {
			errorf("%s %s state changes (-want +got):\n%s", n.name, f[2], diff)
		}
	default:
		fatalf("unknown expectation %q", line)
	}
}
