package rig

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

func TestParseEchoReply(t *testing.T) {
	data := make([]byte, len(probeMagic)+8)
	copy(data, probeMagic)
	binary.BigEndian.PutUint64(data[len(probeMagic):], 70000) // past the 16-bit wire sequence
	msg := func(typ ipv4.ICMPType, id int, data []byte) []byte {
		b, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: 70000 & 0xffff, Data: data}}).Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		seq  uint64
		ok   bool
	}{
		{"our reply", msg(ipv4.ICMPTypeEchoReply, 0xf000, data), 70000, true},
		{"another pinger's reply", msg(ipv4.ICMPTypeEchoReply, 0xf001, data), 0, false},
		{"a request (ours, looped back)", msg(ipv4.ICMPTypeEcho, 0xf000, data), 0, false},
		{"a reply without our data", msg(ipv4.ICMPTypeEchoReply, 0xf000, []byte("ping")), 0, false},
		{"garbage", []byte{0, 1}, 0, false},
	} {
		seq, ok := parseEchoReply(tc.b, 0xf000)
		if seq != tc.seq || ok != tc.ok {
			t.Errorf("%s: got %d %v, want %d %v", tc.name, seq, ok, tc.seq, tc.ok)
		}
	}
}
