package hwtest

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// The UART model: equal rates are transparent; any mismatch of 2× or more
// garbles every frame, and what arrives scores as a baud mismatch while
// random noise does not.
func TestBaudSignature(t *testing.T) {
	var data []byte
	for i := range 20 {
		data = append(data, encodeSerial(frame{Type: typeProbe, Seq: uint32(i), Payload: pattern(uint32(i), 64)})...)
	}
	if got := uartResample(data, 115200, 115200); !bytes.Equal(got, data) {
		t.Fatal("equal rates changed the bytes")
	}
	for _, c := range []struct{ tx, rx int }{
		{115200, 9600}, {9600, 115200}, {115200, 57600}, {57600, 115200}, {19200, 9600}, {38400, 115200},
	} {
		var d deframer
		d.feed(uartResample(data, c.tx, c.rx), func(frame) {})
		if d.Frames != 0 || d.Bytes == 0 {
			t.Errorf("tx %d rx %d: %d frames decoded from %d bytes, want 0 from > 0", c.tx, c.rx, d.Frames, d.Bytes)
		}
		if s := d.Stats.signature(); s < baudSignatureMin {
			t.Errorf("tx %d rx %d: signature %.2f < %.2f", c.tx, c.rx, s, baudSignatureMin)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	var s byteStats
	s.add(noise)
	if s.signature() >= baudSignatureMin {
		t.Errorf("noise signature %.2f ≥ %.2f", s.signature(), baudSignatureMin)
	}
}
