package transport

import "time"

// DefaultBaud is the serial line speed used when none is configured.
const DefaultBaud = 115200

// SerialWireLen is the most bytes a sealed frame of n bytes occupies on a
// serial line: two 0x00 delimiters, a CRC-32 and the COBS overhead (one
// byte per started 254-byte block).
func SerialWireLen(n int) int {
	m := n + 4
	return 2 + m + 1 + m/254
}

// SerialInterval is the send interval for a serial path: the configured
// interval, stretched if needed so that frames of frameBytes (sealed) use at
// most half of the line at baud (8N1: 10 bit times per byte). Each direction
// of a null-modem cable is its own wire, so with two nodes one sender owns
// each direction. baud <= 0 means DefaultBaud.
func SerialInterval(baud, frameBytes int, interval time.Duration) time.Duration {
	if baud <= 0 {
		baud = DefaultBaud
	}
	bits := int64(SerialWireLen(frameBytes)) * 10
	// time on the wire, doubled for the 50% rule, rounded up to the µs.
	min := time.Duration((2*bits*int64(time.Second) + int64(baud) - 1) / int64(baud))
	return max(interval, min)
}
