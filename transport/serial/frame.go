package serial

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/failover-ha/failover/transport"
)

// Byte framing on the line (docs/design.md, "Wire format", serial):
//
//	0x00  COBS( payload || CRC-32/IEEE(payload) little-endian )  0x00
//
// COBS removes every zero byte from the body, so 0x00 only ever delimits.
// A frame starts and ends with a delimiter: garbage or a truncated frame
// before it ends at its leading 0x00, and a damaged frame costs only itself.

// MaxPayload is the largest payload the deframer accepts: a sealed frame.
const MaxPayload = transport.MaxFrameLen + transport.TagLen

const crcLen = 4

// maxEncoded is the largest COBS body (without delimiters) for a payload of n.
func maxEncoded(n int) int { m := n + crcLen; return m + 1 + m/254 }

// AppendFrame appends the line encoding of payload to dst.
func AppendFrame(dst, payload []byte) []byte {
	dst = append(dst, 0)
	var crc [crcLen]byte
	binary.LittleEndian.PutUint32(crc[:], crc32.ChecksumIEEE(payload))
	dst = cobsEncode(dst, payload, crc[:])
	return append(dst, 0)
}

// cobsEncode appends COBS(a||b) to dst.
func cobsEncode(dst, a, b []byte) []byte {
	ci := len(dst)
	dst = append(dst, 0)
	code := byte(1)
	for _, src := range [2][]byte{a, b} {
		for _, c := range src {
			if c == 0 {
				dst[ci] = code
				ci, code = len(dst), 1
				dst = append(dst, 0)
				continue
			}
			dst = append(dst, c)
			code++
			if code == 0xFF {
				dst[ci] = code
				ci, code = len(dst), 1
				dst = append(dst, 0)
			}
		}
	}
	dst[ci] = code
	return dst
}

// cobsDecode appends the decoding of src (no zero bytes) to dst.
func cobsDecode(dst, src []byte) ([]byte, bool) {
	for i := 0; i < len(src); {
		code := src[i]
		if code == 0 {
			return dst, false
		}
		i++
		n := int(code) - 1
		if n > len(src)-i {
			return dst, false
		}
		dst = append(dst, src[i:i+n]...)
		i += n
		if code != 0xFF && i < len(src) {
			dst = append(dst, 0)
		}
	}
	return dst, true
}

// Deframer turns the byte stream of a serial line back into payloads. It
// holds at most one encoded frame (bounded by the maximum payload) and
// resynchronises at every 0x00. Not safe for concurrent use.
type Deframer struct {
	max      int    // max payload
	buf      []byte // encoded bytes since the last delimiter
	out      []byte // decode buffer, reused
	overflow bool   // discarding until the next delimiter

	discarded uint64 // bytes of the frames Feed counted bad, see Discarded
}

// NewDeframer returns a Deframer for payloads of 1..maxPayload bytes
// (MaxPayload if maxPayload <= 0 or larger).
func NewDeframer(maxPayload int) *Deframer {
	if maxPayload <= 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	// Preallocated: Feed never appends past these capacities.
	n := maxEncoded(maxPayload)
	return &Deframer{max: maxPayload, buf: make([]byte, 0, n), out: make([]byte, 0, n)}
}

// Reset forgets any partial frame (after the port was reopened).
func (d *Deframer) Reset() { d.buf, d.overflow = d.buf[:0], false }

// Discarded is how many bytes Feed has dropped with damaged frames since
// NewDeframer: every byte of each frame it counted bad, the 0x00 that ended
// it included. Idle delimiters and good frames are not counted, nor the
// bytes of a frame not yet ended. Reset does not clear it.
func (d *Deframer) Discarded() uint64 { return d.discarded }

// Feed consumes p, calls emit for each good payload (the slice is valid only
// during the call) and returns how many damaged frames it dropped: bad CRC,
// bad COBS, too short or too long. Runs of garbage between delimiters count
// as damaged frames too.
func (d *Deframer) Feed(p []byte, emit func(payload []byte)) (bad int) {
	limit := maxEncoded(d.max)
	for len(p) > 0 {
		i := 0
		for i < len(p) && p[i] != 0 {
			i++
		}
		chunk := p[:i]
		switch {
		case d.overflow:
			d.discarded += uint64(len(chunk))
		case len(d.buf)+len(chunk) > limit:
			d.overflow = true
			d.discarded += uint64(len(d.buf) + len(chunk))
			d.buf = d.buf[:0]
			bad++
		default:
			d.buf = append(d.buf, chunk...)
		}
		if i == len(p) { // no delimiter yet
			return bad
		}
		p = p[i+1:]
		if d.overflow {
			d.overflow = false
			d.discarded++ // its delimiter
			continue
		}
		if len(d.buf) == 0 {
			continue
		}
		var ok bool
		d.out, ok = cobsDecode(d.out[:0], d.buf)
		enc := uint64(len(d.buf)) + 1 // with its delimiter
		d.buf = d.buf[:0]
		if !ok || len(d.out) <= crcLen || len(d.out)-crcLen > d.max {
			bad++
			d.discarded += enc
			continue
		}
		n := len(d.out) - crcLen
		if crc32.ChecksumIEEE(d.out[:n]) != binary.LittleEndian.Uint32(d.out[n:]) {
			bad++
			d.discarded += enc
			continue
		}
		emit(d.out[:n])
	}
	return bad
}
