package serial

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/failover-ha/failover/transport"
	"github.com/google/go-cmp/cmp"
)

func collect(d *Deframer, stream []byte, chunk int) (got [][]byte, bad int) {
	for len(stream) > 0 {
		n := min(chunk, len(stream))
		bad += d.Feed(stream[:n], func(p []byte) { got = append(got, bytes.Clone(p)) })
		stream = stream[n:]
	}
	return got, bad
}

func TestFrameRoundTrip(t *testing.T) {
	payloads := [][]byte{
		{0}, {1}, {0, 0, 0}, bytes.Repeat([]byte{0xFF}, 253), bytes.Repeat([]byte{0xFF}, 254),
		bytes.Repeat([]byte{0xFF}, 255), bytes.Repeat([]byte{0}, 600), bytes.Repeat([]byte{7}, MaxPayload),
	}
	for i, p := range payloads {
		enc := AppendFrame(nil, p)
		if bytes.IndexByte(enc[1:len(enc)-1], 0) >= 0 {
			t.Fatalf("payload %d: zero inside the encoded frame", i)
		}
		if w := transport.SerialWireLen(len(p)); len(enc) > w {
			t.Errorf("payload %d (%d bytes): encoded %d bytes, SerialWireLen says at most %d", i, len(p), len(enc), w)
		}
		for _, chunk := range []int{1, 3, 64, len(enc)} {
			got, bad := collect(NewDeframer(0), enc, chunk)
			if bad != 0 || len(got) != 1 || !bytes.Equal(got[0], p) {
				t.Errorf("payload %d chunk %d: got %d frames, %d bad", i, chunk, len(got), bad)
			}
		}
	}
}

// TestDeframerResync injects random garbage and truncated frames between good
// frames: every good frame is delivered, in order, whatever the damage.
func TestDeframerResync(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var stream []byte
		var want [][]byte
		for i := range 20 {
			p := make([]byte, 1+rng.IntN(300))
			for j := range p {
				p[j] = byte(rng.IntN(4)) // plenty of zeros
			}
			p[0] = byte(i)
			switch rng.IntN(4) {
			case 0: // garbage, possibly with zeros
				g := make([]byte, rng.IntN(50))
				for j := range g {
					g[j] = byte(rng.Uint32())
				}
				stream = append(stream, g...)
			case 1: // a truncated frame (cut anywhere but the whole)
				enc := AppendFrame(nil, p)
				stream = append(stream, enc[:rng.IntN(len(enc)-1)]...)
			case 2: // a frame with a flipped byte
				enc := AppendFrame(nil, p)
				k := 1 + rng.IntN(len(enc)-2)
				enc[k] ^= byte(1 + rng.IntN(255))
				stream = append(stream, enc...)
			}
			stream = AppendFrame(stream, p)
			want = append(want, p)
		}
		got, _ := collect(NewDeframer(400), stream, 1+rng.IntN(100))
		// A flipped byte may turn a damaged frame into a 0x00 split that
		// still fails its CRC: only good frames may come out, all of them.
		if !slices.EqualFunc(want, got, bytes.Equal) {
			t.Fatalf("round %d: (-want +got):\n%s", round, cmp.Diff(want, got))
		}
	}
}

func TestDeframerOverflow(t *testing.T) {
	d := NewDeframer(10)
	big := AppendFrame(nil, bytes.Repeat([]byte{1}, 100))
	good := AppendFrame(nil, []byte("ok"))
	stream := append(append(append([]byte{}, bytes.Repeat([]byte{5}, 100000)...), big...), good...)
	got, bad := collect(d, stream, 7)
	if len(got) != 1 || string(got[0]) != "ok" || bad < 2 {
		t.Errorf("got %q, bad %d", got, bad)
	}
	if cap(d.buf) > maxEncoded(10) {
		t.Errorf("deframer buffer grew to %d", cap(d.buf))
	}
}

// Discarded counts every byte of each frame Feed counts bad, its closing
// delimiter included, and nothing of good frames or idle delimiters.
func TestDeframerDiscarded(t *testing.T) {
	good := AppendFrame(nil, []byte("ok"))
	flipped := AppendFrame(nil, []byte("hello"))
	flipped[3] ^= 0x40
	var stream []byte
	stream = append(stream, good...)
	stream = append(stream, 'a', 'b', 'c', 0) // garbage: 4 bytes
	stream = append(stream, 0, 0)             // idle
	stream = append(stream, flipped...)       // bad CRC: all but its leading 0x00
	stream = append(stream, bytes.Repeat([]byte{5}, 100)...)
	stream = append(stream, 0) // too long for 10: 101 bytes
	stream = append(stream, good...)
	want := uint64(4 + len(flipped) - 1 + 101)
	for _, chunk := range []int{1, 7, len(stream)} {
		d := NewDeframer(10)
		got, bad := collect(d, stream, chunk)
		if len(got) != 2 || bad != 3 || d.Discarded() != want {
			t.Errorf("chunk %d: %d frames, %d bad, %d discarded; want 2, 3, %d", chunk, len(got), bad, d.Discarded(), want)
		}
		d.Reset()
		if d.Discarded() != want {
			t.Errorf("chunk %d: Reset cleared Discarded", chunk)
		}
	}
}
