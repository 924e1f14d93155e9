package transport

import "testing"

func BenchmarkMarshal(b *testing.B) {
	f := sampleFrame()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = f.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	data, _ := sampleFrame().MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		var f Frame
		if err := f.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	s := newTestSealer(b, 7)
	f := sampleFrame()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.AppendSeal(buf[:0], f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := newTestSealer(b, 7)
	data, _ := s.Seal(sampleFrame())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplayCheck(b *testing.B) {
	g := NewReplayGuard(0)
	b.ReportAllocs()
	var seq uint64
	for b.Loop() {
		seq++
		if err := g.Check("h2", "eth0", 1, seq); err != nil {
			b.Fatal(err)
		}
	}
}
