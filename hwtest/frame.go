package hwtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/failover-ha/failover/transport/serial"
)

// frameType says what a probe frame is for.
type frameType uint8

// Probe frame types. Serial and UDP probes share one codec.
const (
	typeProbe    frameType = 1 // serial: initiator → far end (or loopback plug)
	typeEcho     frameType = 2 // serial: listener → initiator, the probe sent back
	typeBeacon   frameType = 3 // serial: listener's periodic "I am here" with its receive counters
	typeNICProbe frameType = 4 // udp: initiator → responder; Payload says mcast or ucast
	typeNICEcho  frameType = 5 // udp: responder → initiator
	frameMagic0            = 'H'
	frameMagic1            = 'T'
	frameVersion           = 1
	frameHeader            = 2 + 1 + 1 + 4 + 4 + 8 + 2 // magic, version, type, session, seq, sentAt, len
	frameCRC               = 4
	maxPayload             = 512
	// maxFrame bounds a frame on the wire (header, payload, CRC).
	maxFrame = frameHeader + maxPayload + frameCRC
)

func (t frameType) String() string {
	switch t {
	case typeProbe:
		return "probe"
	case typeEcho:
		return "echo"
	case typeBeacon:
		return "beacon"
	case typeNICProbe:
		return "nic-probe"
	case typeNICEcho:
		return "nic-echo"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// errFrame is returned by unmarshalFrame for anything that is not a valid
// probe frame (short, bad magic, bad CRC, bad length).
var errFrame = errors.New("hwtest: not a valid probe frame")

// frame is one probe. Session tells one hwtest run from another so stale
// echoes of an earlier run are not counted; Seq numbers the probes of a run;
// SentAt is the sender's clock in ns, echoed unchanged.
type frame struct {
	Type    frameType
	Session uint32
	Seq     uint32
	SentAt  int64
	Payload []byte
}

// marshal appends the frame with its CRC-32 (IEEE) to b.
func (f frame) marshal(b []byte) []byte {
	if len(f.Payload) > maxPayload {
		panic("hwtest: probe payload too long")
	}
	start := len(b)
	b = append(b, frameMagic0, frameMagic1, frameVersion, byte(f.Type))
	b = binary.BigEndian.AppendUint32(b, f.Session)
	b = binary.BigEndian.AppendUint32(b, f.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(f.SentAt))
	b = binary.BigEndian.AppendUint16(b, uint16(len(f.Payload)))
	b = append(b, f.Payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// unmarshalFrame decodes b. The payload aliases b.
func unmarshalFrame(b []byte) (frame, error) {
	if len(b) < frameHeader+frameCRC || b[0] != frameMagic0 || b[1] != frameMagic1 || b[2] != frameVersion {
		return frame{}, errFrame
	}
	n := int(binary.BigEndian.Uint16(b[20:22]))
	if n > maxPayload || len(b) != frameHeader+n+frameCRC {
		return frame{}, errFrame
	}
	body := b[:frameHeader+n]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(b[frameHeader+n:]) {
		return frame{}, errFrame
	}
	return frame{
		Type:    frameType(b[3]),
		Session: binary.BigEndian.Uint32(b[4:8]),
		Seq:     binary.BigEndian.Uint32(b[8:12]),
		SentAt:  int64(binary.BigEndian.Uint64(b[12:20])),
		Payload: b[frameHeader : frameHeader+n],
	}, nil
}

// pattern returns the probe payload for seq: n bytes that walk through every
// byte value (0x00 and 0xFF included, so COBS stuffing and all bit patterns
// are exercised) starting at an offset that depends on seq.
func pattern(seq uint32, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(uint32(i)*37 + seq*11)
	}
	return p
}

// encodeSerial returns f as it goes on a serial line, framed as the
// daemon's serial transport frames (serial.AppendFrame: 0x00, COBS of the
// frame and a CRC-32, 0x00), so a receiver resynchronises at the next
// delimiter after any garbage.
func encodeSerial(f frame) []byte {
	return serial.AppendFrame(nil, f.marshal(nil))
}

// deframer splits a serial byte stream into probe frames and counts what did
// not decode. Its zero value is ready to use; it is not safe for concurrent
// use.
type deframer struct {
	fr *serial.Deframer // the byte layer; nil until the first feed

	Bytes     uint64 // every byte fed
	Frames    uint64 // frames decoded
	BadFrames uint64 // delimited blocks that failed COBS, CRC or unmarshalFrame
	JunkBytes uint64 // bytes of those blocks, delimiters included
	Stats     byteStats

	rejected uint64 // bytes of well-framed blocks that were no probe frame
}

// feed consumes p and calls fn for each decoded frame. The frame's payload
// is valid only during fn.
func (d *deframer) feed(p []byte, fn func(frame)) {
	if d.fr == nil {
		d.fr = serial.NewDeframer(maxFrame)
	}
	d.Bytes += uint64(len(p))
	d.Stats.add(p)
	bad := d.fr.Feed(p, func(b []byte) {
		f, err := unmarshalFrame(b)
		if err != nil {
			d.BadFrames++
			d.rejected += uint64(len(serial.AppendFrame(nil, b)) - 1) // without the leading 0x00
			return
		}
		d.Frames++
		fn(f)
	})
	d.BadFrames += uint64(bad)
	d.JunkBytes = d.fr.Discarded() + d.rejected
}
