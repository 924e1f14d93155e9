package labtest

import (
	"testing"
)

// The USB adapter at h1's end is unplugged and plugged back as another
// ttyUSBn behind the same by-id path: h1's path reports down, reopens the
// by-id name by itself and carries frames again; h2's end never closes.
func TestPrivilegedSerialReplug(t *testing.T) {
	l, n1, n2 := rig(t)
	c := l.Cable("h1", "h2")
	before, _ := c.Nodes()
	if err := c.Unplug("h1"); err != nil {
		t.Fatal(err)
	}
	n1.expectLinks(t, map[string]bool{"serial0": false})
	seq, _ := n1.send(t)
	n2.expect(t, n1, seq, "eth0", "eth1")
	if err := c.Replug("h1"); err != nil {
		t.Fatal(err)
	}
	if after, _ := c.Nodes(); after == before {
		t.Fatalf("replugged as the same node %s", after)
	}
	n1.expectLinks(t, map[string]bool{"serial0": true})
	seq, _ = n1.send(t)
	n2.expect(t, n1, seq, pathNames...)
	seq, _ = n2.send(t)
	n1.expect(t, n2, seq, pathNames...)
	select {
	case ev := <-n2.links:
		t.Errorf("h2's end saw %+v; its adapter stayed in", ev)
	default:
	}
}
