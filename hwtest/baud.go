package hwtest

import (
	"fmt"
	"math/bits"
	"slices"
)

// standardBauds lists the rates hwtest accepts: the standard rates every
// Linux serial driver knows.
func standardBauds() []int {
	return []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}
}

// CheckBaud returns an error naming the rate and the accepted ones if baud is
// not a standard rate.
func CheckBaud(baud int) error {
	if slices.Contains(standardBauds(), baud) {
		return nil
	}
	return fmt.Errorf("unsupported baud %d: use one of %v", baud, standardBauds())
}

// byteStats summarises the values of received bytes. A baud mismatch has a
// recognisable signature: a UART sampling at the wrong rate either sees each
// sender bit several times (receiver faster: bytes made of long runs of equal
// bits, 0xFF 0xF0 0x80 0xFE ...) or misses the stop bit (receiver slower:
// framing errors, which Linux delivers as 0x00 in raw mode). Uniform noise
// has neither.
type byteStats struct {
	N        uint64 // bytes seen
	Zero     uint64 // 0x00 bytes (framing errors and breaks read as 0x00)
	FewEdges uint64 // bytes with at most one 0↔1 transition between adjacent bits
}

func (s *byteStats) add(p []byte) {
	for _, c := range p {
		s.N++
		if c == 0 {
			s.Zero++
		}
		if bits.OnesCount8((c^(c>>1))&0x7F) <= 1 {
			s.FewEdges++
		}
	}
}

// signature scores (0..2) how much undecodable bytes look like UART sampling
// at the wrong rate: the share of bytes with at most one bit edge plus the
// share of 0x00 bytes (framing errors count twice). Uniform random bytes score
// about 0.07; a simulated mismatch of 2× or more scores 0.35 or more (see
// TestBaudSignature).
func (s byteStats) signature() float64 {
	if s.N == 0 {
		return 0
	}
	return float64(s.FewEdges+s.Zero) / float64(s.N)
}

// baudSignatureMin is the signature above which undecodable bytes are
// reported as a probable baud mismatch rather than noise.
const baudSignatureMin = 0.2

// uartResample simulates what a UART receiving at rxBaud makes of data sent
// back to back by a UART transmitting at txBaud (8N1, line idle high before
// and after). The receiver oversamples 16× as real UARTs do: it waits for a
// falling edge, checks the start bit at its middle, samples eight data bits
// and the stop bit at the middle of each of its own bit times, and delivers
// 0x00 on a framing error (stop bit low), as Linux does in raw mode
// (IGNPAR and PARMRK off). It is a model for tests and for documentation of
// the signature above; it does not model noise or clock drift.
func uartResample(data []byte, txBaud, rxBaud int) []byte {
	if txBaud <= 0 || rxBaud <= 0 {
		return nil
	}
	txBits := make([]bool, 0, len(data)*10)
	for _, c := range data {
		txBits = append(txBits, false)
		for i := range 8 {
			txBits = append(txBits, c>>i&1 == 1)
		}
		txBits = append(txBits, true)
	}
	// Time in ticks of 1/(16*rxBaud) s; tx bit index at tick n is
	// n*txBaud/(16*rxBaud). Past the end the line idles high.
	level := func(n int64) bool {
		i := n * int64(txBaud) / (16 * int64(rxBaud))
		if i >= int64(len(txBits)) {
			return true
		}
		return txBits[i]
	}
	end := int64(len(txBits))*16*int64(rxBaud)/int64(txBaud) + 1
	var out []byte
	for n := int64(0); n < end; {
		if level(n) {
			n++
			continue
		}
		// Falling edge at n: confirm the start bit at its middle.
		if level(n + 8) {
			n++
			continue
		}
		var c byte
		for i := range 8 {
			if level(n + 8 + 16*int64(i+1)) {
				c |= 1 << i
			}
		}
		if !level(n + 8 + 16*9) {
			c = 0 // framing error
		}
		out = append(out, c)
		n += 8 + 16*9 // hunt for the next start from the middle of the stop bit
	}
	return out
}
