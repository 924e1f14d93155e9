package transport

import (
	"errors"
	"sync/atomic"
	"time"
)

// Counters are one path's statistics. All methods are safe for concurrent
// use; the zero value is ready.
type Counters struct {
	framesSent, bytesSent, sendErrors atomic.Uint64
	framesRecv, bytesRecv             atomic.Uint64
	authFail, replays, malformed      atomic.Uint64
	otherCluster, badVersion, dropped atomic.Uint64
	rtt, jitter                       atomic.Int64 // ns
	rttSamples                        atomic.Uint64
}

// CounterSnapshot is a copy of Counters at one moment.
type CounterSnapshot struct {
	FramesSent   uint64        `json:"frames_sent"`
	BytesSent    uint64        `json:"bytes_sent"`
	SendErrors   uint64        `json:"send_errors"`
	FramesRecv   uint64        `json:"frames_recv"` // received by the path, before checks
	BytesRecv    uint64        `json:"bytes_recv"`
	AuthFailures uint64        `json:"auth_failures"`
	Replays      uint64        `json:"replays"`
	Malformed    uint64        `json:"malformed"` // includes serial CRC/framing errors
	OtherCluster uint64        `json:"other_cluster"`
	BadVersion   uint64        `json:"bad_version"`
	Dropped      uint64        `json:"dropped"`   // received but discarded (wrong NIC, queue full)
	RTT          time.Duration `json:"rtt_ns"`    // last round-trip time, 0 if none yet
	Jitter       time.Duration `json:"jitter_ns"` // RFC 3550 smoothed RTT variation
	RTTSamples   uint64        `json:"rtt_samples"`
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() CounterSnapshot {
	return CounterSnapshot{
		FramesSent: c.framesSent.Load(), BytesSent: c.bytesSent.Load(), SendErrors: c.sendErrors.Load(),
		FramesRecv: c.framesRecv.Load(), BytesRecv: c.bytesRecv.Load(),
		AuthFailures: c.authFail.Load(), Replays: c.replays.Load(), Malformed: c.malformed.Load(),
		OtherCluster: c.otherCluster.Load(), BadVersion: c.badVersion.Load(), Dropped: c.dropped.Load(),
		RTT: time.Duration(c.rtt.Load()), Jitter: time.Duration(c.jitter.Load()), RTTSamples: c.rttSamples.Load(),
	}
}

// Sent counts one datagram or serial frame of n bytes handed to the medium.
func (c *Counters) Sent(n int) { c.framesSent.Add(1); c.bytesSent.Add(uint64(n)) }

// SendError counts a failed send.
func (c *Counters) SendError() { c.sendErrors.Add(1) }

// Received counts one datagram or serial frame of n bytes.
func (c *Counters) Received(n int) { c.framesRecv.Add(1); c.bytesRecv.Add(uint64(n)) }

// Drop counts a received frame discarded before any check.
func (c *Counters) Drop() { c.dropped.Add(1) }

// Reject counts a frame rejected with err by Sealer.Open, UnmarshalBinary,
// a deframer or ReplayGuard.Check, by its sentinel. It returns err.
func (c *Counters) Reject(err error) error {
	switch {
	case errors.Is(err, ErrAuth):
		c.authFail.Add(1)
	case errors.Is(err, ErrReplay):
		c.replays.Add(1)
	case errors.Is(err, ErrCluster):
		c.otherCluster.Add(1)
	case errors.Is(err, ErrVersion):
		c.badVersion.Add(1)
	case err != nil:
		c.malformed.Add(1)
	}
	return err
}

// RTT computes a round-trip time from a view the peer echoed back: now and
// v.EchoAt are our own SentAt clock in microseconds; v.EchoHold is how long
// the peer held our frame before echoing it. ok is false when the view
// carries no echo or the result is negative (clock went back).
func RTT(nowMicros int64, v PathView) (rtt time.Duration, ok bool) {
	if v.EchoAt == 0 {
		return 0, false
	}
	rtt = microsDur(nowMicros-v.EchoAt) - v.EchoHold
	return rtt, rtt >= 0
}

// ObserveRTT records one round-trip sample: the last RTT, and the jitter
// smoothed as in RFC 3550 (J += (|D| - J) / 16, D the change from the
// previous sample).
func (c *Counters) ObserveRTT(rtt time.Duration) {
	prev := c.rtt.Swap(int64(rtt))
	if c.rttSamples.Add(1) == 1 {
		return
	}
	d := int64(rtt) - prev
	if d < 0 {
		d = -d
	}
	for {
		j := c.jitter.Load()
		if c.jitter.CompareAndSwap(j, j+(d-j)/16) {
			return
		}
	}
}
