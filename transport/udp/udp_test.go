package udp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failover-ha/failover/transport"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// pair opens two paths on lo: a sends to b.
func pair(t testing.TB) (a, b *Path) {
	t.Helper()
	b, err := New(Config{Name: "lo-b", Interface: "lo", Peers: []netip.AddrPort{netip.AddrPortFrom(loopback, 9)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	a, err = New(Config{Name: "lo-a", Interface: "lo", Peers: []netip.AddrPort{netip.AddrPortFrom(loopback, b.LocalAddr().Port())}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, b
}

func TestLoopback(t *testing.T) {
	a, b := pair(t)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := a.Send([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	pk, err := b.Recv()
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if string(pk.Data) != "hello" || pk.Path != "lo-b" || pk.IfIndex != lo.Index ||
		pk.From != netip.AddrPortFrom(loopback, a.LocalAddr().Port()) || pk.At.Before(before) || pk.At.After(after) {
		t.Errorf("packet = %+v (a at %v, lo index %d)", pk, a.LocalAddr(), lo.Index)
	}
	if s := a.Counters().Snapshot(); s.FramesSent != 1 || s.BytesSent != 5 {
		t.Errorf("sender counters %+v", s)
	}
	if s := b.Counters().Snapshot(); s.FramesRecv != 1 || s.BytesRecv != 5 {
		t.Errorf("receiver counters %+v", s)
	}
}

func TestOversizeDatagramDropped(t *testing.T) {
	a, b := pair(t)
	if err := a.Send(bytes.Repeat([]byte{1}, transport.MaxFrameLen+transport.TagLen+100)); err != nil {
		t.Fatal(err)
	}
	if err := a.Send([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	pk, err := b.Recv()
	if err != nil || string(pk.Data) != "ok" {
		t.Fatalf("Recv = %q, %v", pk.Data, err)
	}
	if s := b.Counters().Snapshot(); s.Malformed != 1 {
		t.Errorf("counters %+v", s)
	}
}

func TestCloseUnblocksRecv(t *testing.T) {
	_, b := pair(t)
	errc := make(chan error)
	go func() { _, err := b.Recv(); errc <- err }()
	b.Close()
	if err := <-errc; !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Send([]byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want []string
	}{
		{Config{Name: "eth0", Interface: "nosuchnic0", Peers: []netip.AddrPort{netip.MustParseAddrPort("198.18.1.2:7000")}},
			[]string{"udp path eth0: interface nosuchnic0: ", "no such network interface"}},
		{Config{Name: "eth0"}, []string{"interface is empty", "neither a multicast group nor unicast peers"}},
		{Config{Name: "eth0", Interface: "eth0", Group: netip.MustParseAddrPort("198.18.1.1:7000"),
			Peers: []netip.AddrPort{netip.MustParseAddrPort("239.1.1.1:7000"), netip.MustParseAddrPort("198.18.1.2:0")}},
			[]string{"group 198.18.1.1 is not an IPv4 multicast", "peer 239.1.1.1:7000 is not a unicast", "peer 198.18.1.2:0 has no port"}},
	} {
		_, err := New(tt.cfg)
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("New(%+v) = %v, want it to contain %q", tt.cfg, err, w)
			}
		}
	}
}

// BenchmarkLoopback measures datagrams per second one path sustains on lo,
// with frames of a typical sealed size and at most 64 in flight (no loss).
func BenchmarkLoopback(b *testing.B) {
	a, r := pair(b)
	frame := bytes.Repeat([]byte{0xA5}, 130)
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := r.Recv(); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	b.ReportAllocs()
	start := time.Now()
	var sent int64
	for b.Loop() {
		for sent-got.Load() >= 64 {
			runtime.Gosched() // the receiver is behind
		}
		if err := a.Send(frame); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	for got.Load() < sent && time.Since(start) < 10*time.Second {
		runtime.Gosched()
	}
	el := time.Since(start)
	r.Close()
	<-done
	b.ReportMetric(float64(got.Load())/el.Seconds(), "frames/s")
	b.ReportMetric(float64(sent-got.Load()), "lost")
}
