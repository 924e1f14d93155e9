package transport

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzUnmarshal(f *testing.F) {
	withTimers := sampleFrame()
	withTimers.Timers = sampleTimers()
	for _, fr := range []Frame{sampleFrame(), {Kind: KindControl, Node: "h2", Control: &Control{Op: OpReclaim, Service: "web"}}, withTimers} {
		b, err := fr.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr Frame
		if err := fr.UnmarshalBinary(data); err != nil {
			return
		}
		// Whatever decodes re-encodes, and decodes to the same frame.
		b, err := fr.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded frame does not re-encode: %v\n%#v", err, fr)
		}
		if len(b) > len(data) {
			t.Fatalf("re-encoding grew: %d > %d bytes", len(b), len(data))
		}
		var again Frame
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if diff := cmp.Diff(fr, again); diff != "" {
			t.Fatalf("(-first +second):\n%s", diff)
		}
	})
}

func FuzzOpen(f *testing.F) {
	s := newTestSealer(f, 7)
	b, err := s.Seal(sampleFrame())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	withTimers := sampleFrame()
	withTimers.Timers = sampleTimers()
	bt, err := s.Seal(withTimers)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bt)
	insec, _ := NewSealer(7, nil, Unauthenticated())
	u, _ := insec.Seal(sampleFrame())
	f.Add(u)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Also open data under a valid tag, so the fuzzer reaches the body
		// decoder through Open.
		if len(data) >= headerLen {
			k := s.ring.keys[s.ring.sendID]
			h := k.get()
			h.Write(data)
			tagged := append(bytes.Clone(data), h.Sum(nil)[:TagLen]...)
			if fr, err := s.Open(tagged); err == nil && (fr.Cluster != 7 || fr.KeyID != data[6]) {
				t.Fatalf("opened cluster %d key %d from header %x", fr.Cluster, fr.KeyID, data[:headerLen])
			}
		}
		for _, o := range []*Sealer{s, insec} {
			fr, err := o.Open(data)
			if err != nil {
				continue
			}
			if fr.Cluster != 7 {
				t.Fatalf("opened a frame of cluster %d", fr.Cluster)
			}
			if o == s && fr.KeyID == InsecureKeyID {
				t.Fatal("authenticated sealer accepted an unauthenticated frame")
			}
		}
	})
}
