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
// interval, stretched if needed so that a frame of frameBytes (sealed; the
// largest a node sends, SealedBound) fits within one interval on the wire
// (8N1: 10 bit times per byte). Frames are sent no more often than that, so
// the line never backs up, and ordinary heartbeats, about two thirds of the
// bound for two nodes, use roughly 60-70% of it. Each direction of a
// null-modem cable is its own wire, so with two nodes one sender owns each
// direction. baud <= 0 means DefaultBaud.
func SerialInterval(baud, frameBytes int, interval time.Duration) time.Duration {
	return max(interval, SerialWireTime(baud, frameBytes))
}

// Widths SealedBound assumes for the frame's variable-length numbers.
// Varints grow with their values; these cover what a node sends in
// practice: times in µs (epoch, SentAt, EchoAt) and durations in µs
// (interval, LastHeard, EchoHold) below 2^62, as a zigzag or plain varint;
// sequence numbers and control refs below 2^42 (900 years at 150 frames a
// second).
const (
	timeVarintLen  = 9
	countVarintLen = 6
)

// FrameShape is what sizes a node's frames: its name, the (peer, path) of
// each view it sends, its services, and the names a control block may
// target.
type FrameShape struct {
	Node     string
	Views    [][2]string // peer, path
	Services []string
	Targets  []string // control targets besides "" (everyone)
}

// SealedBound is the most bytes a sealed frame of shape s takes (the
// authentication tag included), with its numbers within the widths above:
// the largest frame a node with this shape sends, a control frame.
func SealedBound(s FrameShape) int {
	n := headerLen + 1 + len(s.Node)
	n += timeVarintLen + countVarintLen + 2*timeVarintLen // epoch, seq, sent at, interval
	n += 4 + 1                                            // fingerprint, view count
	for _, v := range s.Views {
		n += 1 + len(v[0]) + 1 + len(v[1]) + 1 + timeVarintLen + 1 + countVarintLen + 2*timeVarintLen
	}
	n++ // service count
	longest := 0
	for _, name := range s.Services {
		n += 1 + len(name) + 2
		longest = max(longest, len(name))
	}
	target := 0
	for _, t := range s.Targets {
		target = max(target, len(t))
	}
	n += 1 + 1 + longest + 1 + target + countVarintLen // control: op, service, target, ref
	return n + TagLen
}

// FrameCPU is what a daemon spends per heartbeat frame it sends or
// receives, all in: the system calls, the kernel's UDP and veth work, the
// wake-up, seal or open and the core's step. Measured in the lab (two
// hosts, two UDP paths and a serial cable at the default 20 ms: ~5 ms of CPU
// a second for ~250 frames a second; docs/benchmarks.md); real NICs cost
// about the same per frame.
const FrameCPU = 20 * time.Microsecond

// CPUBudget is the most CPU a second the heartbeats of one daemon may cost
// by FrameCPU: 5% of a core. The defaults cost a tenth of it; an interval
// of 1 ms with two paths would cost 80 ms a second.
const CPUBudget = 50 * time.Millisecond

// MaxSerialInterval is the longest send interval a serial path may be
// stretched to (SerialInterval). Its deadtime is 2.5 intervals and a peer
// is dead only when every path is down, so a longer one would delay every
// failover of a peer on that cable by seconds.
const MaxSerialInterval = time.Second

// SerialWireTime is how long frameBytes (sealed) take on a serial line at
// baud (8N1). baud <= 0 means DefaultBaud.
func SerialWireTime(baud, frameBytes int) time.Duration {
	if baud <= 0 {
		baud = DefaultBaud
	}
	bits := int64(SerialWireLen(frameBytes)) * 10
	return time.Duration((bits*int64(time.Second) + int64(baud) - 1) / int64(baud))
}

// MinSerialBaud is the lowest standard line speed at which a frame of
// frameBytes (sealed) fits within interval on the wire (SerialInterval does
// not stretch it), 0 if none up to 4 Mbaud.
func MinSerialBaud(frameBytes int, interval time.Duration) int {
	for _, b := range []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000, 2000000, 4000000} {
		if SerialInterval(b, frameBytes, interval) <= interval {
			return b
		}
	}
	return 0
}
