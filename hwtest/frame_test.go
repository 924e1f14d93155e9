package hwtest

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/failover-ha/failover/transport/serial"
	"github.com/google/go-cmp/cmp"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, f := range []frame{
		{Type: typeProbe, Session: 7, Seq: 1, SentAt: 123, Payload: pattern(1, 64)},
		{Type: typeBeacon, Payload: FarView{Baud: 9600, Bytes: 1, Frames: 2, BadFrames: 3}.marshal()},
		{Type: typeNICEcho, Session: 1, Seq: math.MaxUint32, SentAt: -1, Payload: []byte{}},
		{Type: typeEcho, Payload: make([]byte, maxPayload)},
	} {
		var d deframer
		var got []frame
		d.feed(encodeSerial(f), func(g frame) { g.Payload = bytes.Clone(g.Payload); got = append(got, g) })
		if len(got) != 1 {
			t.Fatalf("%v: decoded %d frames", f.Type, len(got))
		}
		if diff := cmp.Diff(f, got[0], cmp.AllowUnexported(frame{}), cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Errorf("%v (-want +got):\n%s", f.Type, diff)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := frame{Type: typeProbe, Seq: 1, Payload: []byte("abc")}.marshal(nil)
	flip := bytes.Clone(good)
	flip[len(flip)-6] ^= 1
	for name, b := range map[string][]byte{
		"empty": nil, "short": good[:10], "truncated": good[:len(good)-1], "crc": flip,
		"magic": append([]byte{'X'}, good[1:]...), "long": append(bytes.Clone(good), 0),
	} {
		if _, err := unmarshalFrame(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Garbage between frames costs only the damaged block: every good frame
// after it is delivered and the junk is counted, byte for byte. A block that
// is well framed but no probe frame (a failover daemon on the line) is
// corrupt too.
func TestDeframerResyncs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var junkBytes uint64
	for i := range 20 {
		stream = append(stream, encodeSerial(frame{Type: typeProbe, Seq: uint32(i), Payload: pattern(uint32(i), 32)})...)
		junk := make([]byte, 1+rng.IntN(40))
		for j := range junk {
			junk[j] = byte(1 + rng.IntN(255))
		}
		stream = append(stream, junk...)
		stream = append(stream, 0)
		junkBytes += uint64(len(junk)) + 1
	}
	foreign := serial.AppendFrame(nil, []byte("not a probe frame"))
	stream = append(stream, foreign...)
	junkBytes += uint64(len(foreign)) - 1 // its leading 0x00 ends the junk before it
	var d deframer
	n := 0
	for len(stream) > 0 { // feed in odd chunks
		k := min(len(stream), 1+rng.IntN(17))
		d.feed(stream[:k], func(frame) { n++ })
		stream = stream[k:]
	}
	if n != 20 || d.Frames != 20 || d.BadFrames != 21 || d.JunkBytes != junkBytes {
		t.Errorf("frames %d/%d bad %d junk %d, want 20/20 bad 21 junk %d", n, d.Frames, d.BadFrames, d.JunkBytes, junkBytes)
	}
}
