package quorum

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzStep feeds arbitrary event sequences, names and times included: Step
// must never panic, a rejected event must leave the status unchanged, and
// NextDeadline must stay ahead of the last event.
func FuzzStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{1, 0, 0, 1, 1, 0, 2, 0, 9, 9, 3, 1, 200, 4, 0, 0, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzStep(t, data) })
}

func fuzzStep(t testing.TB, data []byte) {
	{
		c, err := New(twoNodeConfig("n1"), t0)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{"n2", "n1", "n3", ""}
		paths := []string{"eth0", "eth1", "serial0", "wlan0"}
		svcs := []string{"vip1", "vip9", ""}
		at := t0
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		for n := 0; len(data) > 0 && n < 300; n++ {
			op, arg := next(), next()
			at = at.Add(time.Duration(int8(next())) * ms(10)) // may go back
			var ev Event
			switch op % 9 {
			case 0:
				ev = Tick{At: at}
			case 1:
				h := Heard{At: at, Peer: names[arg%4], Path: paths[(arg/4)%4], Epoch: uint64(arg % 3), Seq: uint64(next()),
					Interval: ms(int(next())), Services: []ServiceState{{Name: svcs[arg%3], State: State(next() % 7), Priority: int(next())}},
					Views: []View{{Peer: names[arg%4], Path: paths[arg%4], Up: arg%2 == 0}}}
				if arg%5 == 0 {
					h.Control = &Control{Op: ControlOp(next() % 5), Service: svcs[arg%3], Target: names[next()%4], Ref: uint64(next())}
				}
				ev = h
			case 2:
				ev = Link{At: at, Path: paths[arg%4], Up: arg%2 == 0}
			case 3:
				ev = Health{At: at, Service: svcs[arg%3], OK: arg%2 == 0}
			case 4:
				ev = Command{At: at, Service: svcs[arg%3], Op: Op(arg % 4)}
			case 5:
				ev = Probed{At: at, Service: svcs[arg%3], Conflict: arg%2 == 0}
			case 6:
				ev = Shutdown{At: at}
			case 7:
				ev = nil
			case 8:
				ev = Weight{At: at, Service: svcs[arg%3], Drop: int(int8(next()))}
			}
			before := c.Status()
			_, err := c.Step(ev)
			if err != nil {
				if after := c.Status(); !cmp.Equal(before, after) {
					t.Fatalf("rejected %T (%v) changed status (-before +after):\n%s", ev, err, cmp.Diff(before, after))
				}
				for _, e := range []error{ErrUnknownPeer, ErrUnknownPath, ErrUnknownService, ErrTimeBackwards, ErrStale, ErrUnexpected} {
					if errors.Is(err, e) {
						err = nil
					}
				}
				if err != nil {
					t.Fatalf("error without a sentinel: %v", err)
				}
			}
			if st := c.Status(); !c.NextDeadline().After(st.At) {
				t.Fatalf("NextDeadline %v not after %v", c.NextDeadline(), st.At)
			}
		}
	}
}
