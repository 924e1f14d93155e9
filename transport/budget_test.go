package transport

import (
	"math"
	"testing"
	"time"
)

// TestSealedBound seals the widest frame SealedBound allows for and checks
// the bound holds, and is not far off.
func TestSealedBound(t *testing.T) {
	shape := FrameShape{
		Node:     "h1",
		Views:    [][2]string{{"h2", "eth0"}, {"h2", "eth1"}, {"h2", "serial0"}},
		Services: []string{"web", "database"},
		Targets:  []string{"h2"},
	}
	const (
		bigTime  = -(1 << 62) + 1 // widest zigzag varint the bound allows for
		bigCount = 1<<42 - 1
	)
	f := Frame{
		Kind: KindControl, Node: shape.Node, Epoch: 1<<62 - 1, Seq: bigCount, SentAt: bigTime,
		Interval: math.MaxInt64 / 1000 * 1000, Fingerprint: math.MaxUint32,
		Control: &Control{Op: OpRelease, Service: "database", Target: "h2", Ref: bigCount},
	}
	for _, v := range shape.Views {
		f.Views = append(f.Views, PathView{Peer: v[0], Path: v[1], Up: true, LastHeard: -math.MaxInt64,
			Loss: 100, EchoSeq: bigCount, EchoAt: bigTime, EchoHold: -math.MaxInt64})
	}
	for _, s := range shape.Services {
		f.Services = append(f.Services, ServiceView{Name: s, State: 255, Priority: 255})
	}
	b, err := newTestSealer(t, 1).Seal(f)
	if err != nil {
		t.Fatal(err)
	}
	bound := SealedBound(shape)
	if len(b) > bound {
		t.Errorf("sealed frame is %d bytes, SealedBound says at most %d", len(b), bound)
	}
	if len(b) < bound-8 {
		t.Errorf("sealed frame is %d bytes, SealedBound %d is loose", len(b), bound)
	}
}

// TestSerialInterval: a serial path's interval is stretched to the time one
// frame of the given size takes on the wire (8N1, 10 bit times a byte,
// rounded up to the nanosecond), never shortened. Wire sizes by hand: 217
// bytes sealed + 4 CRC + 1 COBS + 2 delimiters = 224; 130 → 137; 250 → 258
// (a second COBS block); 1436 → 1448.
func TestSerialInterval(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		baud, frame int
		interval    time.Duration
		want        time.Duration
	}{
		{115200, 217, 20 * ms, 20 * ms},    // 19.44ms fits in one 20ms tick: the lab's two nodes
		{115200, 217, 10 * ms, 19444445},   // 2240e9/115200 ns
		{0, 217, 0, 19444445},              // 0 = DefaultBaud
		{57600, 217, 20 * ms, 38888889},    // 2240e9/57600
		{38400, 217, 20 * ms, 58333334},    // 2240e9/38400
		{9600, 217, 20 * ms, 233333334},    // 2240e9/9600
		{9600, 217, 300 * ms, 300 * ms},    // a long interval is kept
		{9600, 130, 0, 142708334},          // 1370e9/9600
		{115200, 250, 0, 22395834},         // 2580e9/115200
		{9600, 1436, 20 * ms, 1508333334},  // 14480e9/9600: 16 nodes
		{115200, 1436, 20 * ms, 125694445}, // 14480e9/115200
		{115200, 1436, 200 * ms, 200 * time.Millisecond},
	} {
		if got := SerialInterval(tt.baud, tt.frame, tt.interval); got != tt.want {
			t.Errorf("SerialInterval(%d, %d, %v) = %v, want %v", tt.baud, tt.frame, tt.interval, got, tt.want)
		}
	}
}

// TestMinSerialBaud: the lowest standard speed at which one frame fits in
// the interval (bit times by hand: 217 bytes sealed = 2240, 733 = 7420,
// 1436 = 14480).
func TestMinSerialBaud(t *testing.T) {
	for _, tt := range []struct {
		frame    int
		interval time.Duration
		want     int
	}{
		{217, 20 * time.Millisecond, 115200},  // needs 112000
		{217, 10 * time.Millisecond, 230400},  // needs 224000
		{217, time.Second, 2400},              // needs 2240
		{733, time.Second, 9600},              // needs 7420
		{1436, time.Second, 19200},            // needs 14480
		{1436, 20 * time.Millisecond, 921600}, // needs 724000
		{MaxFrameLen + TagLen, time.Millisecond, 0},
	} {
		if got := MinSerialBaud(tt.frame, tt.interval); got != tt.want {
			t.Errorf("MinSerialBaud(%d, %v) = %d, want %d", tt.frame, tt.interval, got, tt.want)
		}
	}
}
