package transport

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleFrame() Frame {
	return Frame{
		Kind: KindHeartbeat, Cluster: 7, KeyID: 1, Node: "h1", Epoch: 1764088537, Seq: 42,
		SentAt: 123456789, Interval: 200 * time.Millisecond, Fingerprint: 0xdeadbeef,
		Views: []PathView{
			{Peer: "h2", Path: "eth0", Up: true, LastHeard: 150 * time.Millisecond, Loss: 0, EchoSeq: 41, EchoAt: 123400000, EchoHold: 20 * time.Millisecond},
			{Peer: "h2", Path: "eth1", Up: true, LastHeard: 180 * time.Millisecond, Loss: 3, EchoSeq: 41, EchoAt: 123400000, EchoHold: 21 * time.Millisecond},
			{Peer: "h2", Path: "serial0", Up: false, LastHeard: 9 * time.Second, Loss: 100},
		},
		Services: []ServiceView{{Name: "web", State: 2, Priority: 100}},
	}
}

// sampleTimers are timers for sampleFrame's one service, with the
// defaults' magnitudes.
func sampleTimers() *Timers {
	return &Timers{
		Deadtime: 100 * time.Millisecond, Startup: 300 * time.Millisecond, Damping: 10 * time.Second,
		FlapLimit: 3, CarrierSettle: time.Second, Rest: 0x1234abcd,
		Services: []ServiceTimers{{Failback: true, FailbackDelay: 5 * time.Second}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen)
	tests := []struct {
		name string
		f    Frame
	}{
		{"minimal", Frame{Kind: KindHeartbeat, Node: "a"}},
		{"sample", sampleFrame()},
		{"negative durations and times", Frame{Kind: KindHeartbeat, Node: "n", SentAt: -5, Interval: -time.Second,
			Views: []PathView{{LastHeard: -time.Microsecond, EchoAt: -1 << 62, EchoHold: -3 * time.Microsecond}}}},
		{"max values", Frame{Kind: KindHeartbeat, Cluster: ^uint32(0), KeyID: 255, Node: long, Epoch: ^uint64(0),
			Seq: ^uint64(0), SentAt: 1<<63 - 1, Fingerprint: ^uint32(0),
			Views: []PathView{{Peer: long, Path: long, Up: true, Loss: 255, EchoSeq: ^uint64(0), EchoAt: -1 << 63}}}},
		{"control release", Frame{Kind: KindControl, Node: "h2", Seq: 9,
			Control: &Control{Op: OpRelease, Service: "web", Target: "h1"}}},
		{"control ack broadcast", Frame{Kind: KindControl, Node: "h2",
			Services: []ServiceView{{Name: "web", State: 1}, {Name: strings.Repeat("s", MaxSvcLen), State: 3, Priority: 1}},
			Control:  &Control{Op: OpAck, Ref: 1 << 40}}},
		{"empty names in views", Frame{Kind: KindHeartbeat, Node: "n", Views: []PathView{{}}, Services: []ServiceView{{}}}},
		{"timers", func() Frame { f := sampleFrame(); f.Timers = sampleTimers(); return f }()},
		{"timers without services", Frame{Kind: KindHeartbeat, Node: "n", Timers: &Timers{Deadtime: -time.Microsecond, AdaptiveFloor: 1 << 40 * time.Microsecond,
			IndoubtHold: time.Hour, FlapLimit: maxFlapLimit, Rest: ^uint32(0)}}},
		{"timers on a control frame", Frame{Kind: KindControl, Node: "h2",
			Services: []ServiceView{{Name: "web", State: 1}, {Name: "db", State: 2}},
			Control:  &Control{Op: OpAck, Ref: 7},
			Timers:   &Timers{Deadtime: time.Second, Services: []ServiceTimers{{}, {Failback: true, FailbackDelay: 1500 * time.Microsecond}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.f.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got Frame
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if diff := cmp.Diff(tt.f, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			// Every strict prefix is malformed, never a panic; except the
			// one that ends where the timer section starts: that is the
			// same frame without it.
			plain := tt.f
			plain.Timers = nil
			base, _ := plain.MarshalBinary()
			for i := range len(b) {
				var g Frame
				err := g.UnmarshalBinary(b[:i])
				if i == len(base) && tt.f.Timers != nil {
					if err != nil {
						t.Fatalf("prefix without the timer section: %v", err)
					}
					if diff := cmp.Diff(plain, g); diff != "" {
						t.Fatalf("prefix without the timer section (-want +got):\n%s", diff)
					}
					continue
				}
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
					t.Fatalf("prefix %d/%d: err = %v, want ErrMalformed", i, len(b), err)
				}
			}
		})
	}
}

func TestCodecDurationsTruncateToMicroseconds(t *testing.T) {
	f := Frame{Kind: KindHeartbeat, Node: "n", Interval: 1500 * time.Nanosecond}
	b, _ := f.MarshalBinary()
	var g Frame
	if err := g.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if g.Interval != time.Microsecond {
		t.Errorf("Interval = %v, want 1µs", g.Interval)
	}
}

func TestMarshalRejects(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen+1)
	tests := []struct {
		name string
		f    Frame
		want string
	}{
		{"no node", Frame{Kind: KindHeartbeat}, "node name is 0 bytes"},
		{"long node", Frame{Kind: KindHeartbeat, Node: long}, "node name is 33 bytes"},
		{"bad kind", Frame{Kind: 9, Node: "n"}, "unknown kind 9"},
		{"control without block", Frame{Kind: KindControl, Node: "n"}, "without a control block"},
		{"heartbeat with block", Frame{Kind: KindHeartbeat, Node: "n", Control: &Control{}}, "with a control block"},
		{"too many views", Frame{Kind: KindHeartbeat, Node: "n", Views: make([]PathView, MaxViews+1)}, "33 path views"},
		{"too many services", Frame{Kind: KindHeartbeat, Node: "n", Services: make([]ServiceView, MaxServices+1)}, "33 services"},
		{"long view name", Frame{Kind: KindHeartbeat, Node: "n", Views: []PathView{{Peer: long}}}, "view 0"},
		{"long target", Frame{Kind: KindControl, Node: "n", Control: &Control{Target: long}}, "control target"},
		{"timers for other services", Frame{Kind: KindHeartbeat, Node: "n", Services: make([]ServiceView, 2),
			Timers: &Timers{Services: make([]ServiceTimers, 1)}}, "timers for 1 services, the frame has 2"},
		{"negative flap limit", Frame{Kind: KindHeartbeat, Node: "n", Timers: &Timers{FlapLimit: -1}}, "flap limit -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.MarshalBinary()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, _ := sampleFrame().MarshalBinary()
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"version 2", mod(func(b []byte) []byte { b[0] = 2; return b }), ErrVersion},
		{"kind 0", mod(func(b []byte) []byte { b[1] = 0; return b }), ErrMalformed},
		{"empty node", mod(func(b []byte) []byte { b[7] = 0; return b }), ErrMalformed},
		{"node too long", mod(func(b []byte) []byte { b[7] = MaxNameLen + 1; return b }), ErrMalformed},
		{"too big", make([]byte, MaxFrameLen+1), ErrMalformed},
		{"view count beyond bytes", []byte{1, 1, 0, 0, 0, 0, 0, 1, 'n', 0, 0, 0, 0, 0, 0, 0, 0, 30}, ErrMalformed},
		{"view count beyond limit", []byte{1, 1, 0, 0, 0, 0, 0, 1, 'n', 0, 0, 0, 0, 0, 0, 0, 0, MaxViews + 1}, ErrMalformed},
		{"overlong varint", append([]byte{1, 1, 0, 0, 0, 0, 0, 1, 'n'}, bytes.Repeat([]byte{0xff}, 11)...), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if err := f.UnmarshalBinary(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// What a later revision may add is skipped: sections of other tags, and
// fields at the end of the timer section.
func TestUnmarshalSkipsLaterAdditions(t *testing.T) {
	f := sampleFrame()
	b, _ := f.MarshalBinary()
	withT := f
	withT.Timers = sampleTimers()
	bt, _ := withT.MarshalBinary()
	sect := bt[len(b):]
	padded := append(bytes.Clone(sect[:1]), byte(0), sect[2]+3)
	padded = append(append(padded, sect[sectHeaderLen:]...), 0xAA, 0xBB, 0xCC)
	for _, tt := range []struct {
		name string
		b    []byte
		want Frame
	}{
		{"unknown section", append(bytes.Clone(b), 0xAA, 0, 2, 0xBB, 0xCC), f},
		{"empty unknown section", append(bytes.Clone(b), 9, 0, 0), f},
		{"unknown sections around the timers", append(append(append(bytes.Clone(b), 7, 0, 1, 0), sect...), 8, 0, 0), withT},
		{"fields after the timers", append(bytes.Clone(b), padded...), withT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var g Frame
			if err := g.UnmarshalBinary(tt.b); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnmarshalRejectsBadSections(t *testing.T) {
	f := sampleFrame()
	b, _ := f.MarshalBinary()
	withT := f
	withT.Timers = sampleTimers()
	bt, _ := withT.MarshalBinary()
	sect := bt[len(b):]
	body := sect[sectHeaderLen:]
	mk := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{b}, parts...), nil) }
	section := func(tag byte, body []byte) []byte { return append([]byte{tag, 0, byte(len(body))}, body...) }
	// the service count is the byte before the last two (flags, delay 5s = 4 varint bytes)
	svcCount := len(body) - 1 - 4 - 1
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"garbage after the frame", mk([]byte{0xAA, 0xBB})},
		{"section longer than the frame", mk([]byte{9, 0, 5, 1, 2})},
		{"truncated section length", mk([]byte{sectTimers, 0})},
		{"two timer sections", mk(sect, sect)},
		{"timer body cut short", mk(section(sectTimers, body[:len(body)-1]))},
		{"timers for two services", mk(section(sectTimers, func() []byte {
			x := append(bytes.Clone(body), body[svcCount+1:]...)
			x[svcCount] = 2
			return x
		}()))},
		{"unknown service flags", mk(section(sectTimers, func() []byte { x := bytes.Clone(body); x[svcCount+1] = 0x80; return x }()))},
		{"flap limit out of range", mk(section(sectTimers, func() []byte {
			at := skipVarints(body, 5)                // deadtime, floor, startup, hold, damping
			x := append(bytes.Clone(body[:at]), 0x01) // flap limit -1 (zig-zag)
			return append(x, body[skipVarints(body, 6):]...)
		}()))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var g Frame
			if err := g.UnmarshalBinary(tt.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// skipVarints is the offset after the first n varints of b.
func skipVarints(b []byte, n int) int {
	at := 0
	for range n {
		_, k := binary.Varint(b[at:])
		at += k
	}
	return at
}

// A frame without timers (every frame while the peers' fingerprints
// agree) is byte for byte what it was before the timer section existed:
// the serial line's stretched interval and the detection speed do not
// change. The golden bytes were written by the encoder before it.
func TestFrameWithoutTimersUnchanged(t *testing.T) {
	for _, tt := range []struct {
		f    Frame
		want string
	}{
		{sampleFrame(), "01010000000701026831d9b597c9062aaab4de7580b518deadbeef03026832046574683001e0a712002980bdd775c0b802026832046574683101c0fc15032980bdd77590c8020268320773657269616c300080d1ca086400000001037765620264"},
		{Frame{Kind: KindControl, Node: "h2", Seq: 9, Services: []ServiceView{{Name: "web", State: 1, Priority: 50}},
			Control: &Control{Op: OpRelease, Service: "web", Target: "h1"}}, "0102000000000002683200090000000000000001037765620132010377656202683100"},
	} {
		b, err := tt.f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != tt.want {
			t.Errorf("encoding changed:\n got %s\nwant %s", got, tt.want)
		}
		withT := tt.f
		withT.Timers = &Timers{Services: make([]ServiceTimers, len(tt.f.Services))}
		bt, _ := withT.MarshalBinary()
		t.Logf("%d bytes, %d with a zero timer section", len(b), len(bt))
	}
}

func TestSampleFrameSize(t *testing.T) {
	// The byte budget in docs/design.md is computed from this frame.
	s := newTestSealer(t, 7)
	b, err := s.Seal(sampleFrame())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sample two-node frame: %d bytes sealed", len(b))
	if len(b) > 160 {
		t.Errorf("sealed sample frame is %d bytes, budget 160", len(b))
	}
	// During a mismatch the heartbeat carries the timer section. With
	// long-running clocks it still fits in the bound the serial interval
	// is stretched for (a control frame with every number at its widest).
	f := sampleFrame()
	f.Epoch, f.SentAt = 1<<52, 1<<52 // µs since 1970, for the next century
	f.Timers = sampleTimers()
	f.Timers.Damping, f.Timers.Startup = time.Hour, time.Minute
	bt, err := s.Seal(f)
	if err != nil {
		t.Fatal(err)
	}
	shape := FrameShape{Node: f.Node, Services: []string{"web"}, Targets: []string{"h2"}}
	for _, v := range f.Views {
		shape.Views = append(shape.Views, [2]string{v.Peer, v.Path})
	}
	bound := SealedBound(shape)
	t.Logf("with the timer section: %d bytes sealed; the serial bound of this shape: %d", len(bt), bound)
	if len(bt) > bound {
		t.Errorf("sealed sample frame with timers is %d bytes, over the serial bound %d", len(bt), bound)
	}
}
