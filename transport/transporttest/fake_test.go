package transporttest

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/failover-ha/failover/transport"
)

func TestLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLink("eth0", nil)
		a, b, c := l.Attach("h1"), l.Attach("h2"), l.Attach("h3")
		if err := a.Send([]byte("one")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*Path{b, c} {
			pk, err := p.Recv()
			if err != nil || string(pk.Data) != "one" || pk.Path != "eth0" {
				t.Fatalf("%s: Recv = %+v, %v", p.Node(), pk, err)
			}
		}
		c.Cut(true)
		a.Send([]byte("two"))
		if pk, _ := b.Recv(); string(pk.Data) != "two" {
			t.Fatalf("b got %q", pk.Data)
		}
		l.Cut(true)
		a.Send([]byte("three"))
		l.Cut(false)
		c.Cut(false)
		b.Inject([]byte("forged"))
		a.Send([]byte("four"))
		if pk, _ := b.Recv(); string(pk.Data) != "forged" {
			t.Fatalf("b got %q, want the injected frame", pk.Data)
		}
		if pk, _ := c.Recv(); string(pk.Data) != "four" {
			t.Fatalf("c got %q, want four (two and three were cut)", pk.Data)
		}
		if n := len(a.Sent()); n != 4 {
			t.Errorf("a sent %d, want 4", n)
		}
		go b.Close()
		synctest.Wait()
		if _, err := b.Recv(); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Recv after Close: %v", err)
		}
	})
}
