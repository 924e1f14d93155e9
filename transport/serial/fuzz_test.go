package serial

import (
	"bytes"
	"testing"
)

func FuzzDeframe(f *testing.F) {
	f.Add(AppendFrame(nil, []byte("hello")), []byte("x"))
	f.Add(append([]byte{1, 2, 0, 3}, AppendFrame(nil, bytes.Repeat([]byte{0}, 300))...), []byte{0, 0})
	f.Fuzz(func(t *testing.T, stream, payload []byte) {
		d := NewDeframer(512)
		d.Feed(stream, func(p []byte) {
			if len(p) == 0 || len(p) > 512 {
				t.Fatalf("emitted %d bytes", len(p))
			}
		})
		if cap(d.buf) > maxEncoded(512) || cap(d.out) > maxEncoded(512) {
			t.Fatalf("buffer grew to %d", cap(d.buf))
		}
		if d.Discarded() > uint64(len(stream)) {
			t.Fatalf("discarded %d of %d bytes", d.Discarded(), len(stream))
		}
		// Whatever came before, a good frame after it is delivered.
		if len(payload) == 0 || len(payload) > 512 {
			return
		}
		var got [][]byte
		d.Feed(AppendFrame(nil, payload), func(p []byte) { got = append(got, bytes.Clone(p)) })
		// The input may itself end in a valid frame body that the good
		// frame's leading delimiter completes: then two frames come out.
		if len(got) == 0 || len(got) > 2 || !bytes.Equal(got[len(got)-1], payload) {
			t.Fatalf("good frame after %d bytes of input: got %d frames", len(stream), len(got))
		}
	})
}
