package transport

import (
	"math"
	"testing"
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
