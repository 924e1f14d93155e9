package transport

import (
	"bytes"
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
			// every strict prefix is malformed, never a panic
			for i := range len(b) {
				var g Frame
				if err := g.UnmarshalBinary(b[:i]); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
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

func TestUnmarshalIgnoresExtension(t *testing.T) {
	f := sampleFrame()
	b, _ := f.MarshalBinary()
	var g Frame
	if err := g.UnmarshalBinary(append(b, 0xAA, 0xBB)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, g); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
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
}
