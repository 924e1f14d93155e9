package config

import (
	"fmt"
	"strings"
	"testing"
)

// cluster is a config of node n1 among n nodes, with eth0 and eth1 (UDP)
// and a serial cable to n2 at baud, and timers given as TOML lines.
func cluster(n, baud int, timers string) string {
	var b strings.Builder
	b.WriteString("cluster = \"lab\"\nnode = \"n1\"\ninsecure_no_auth = true\n")
	if timers != "" {
		b.WriteString("\n[timers]\n" + timers + "\n")
	}
	prio := "n1 = 100"
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "\n[[peer]]\nname = \"n%d\"\n", i)
		prio += fmt.Sprintf(", n%d = %d", i, 100-i)
	}
	b.WriteString("\n[[path]]\nkind = \"udp\"\ninterface = \"eth0\"\nmulticast = \"239.192.0.1:7405\"\n")
	b.WriteString("\n[[path]]\nkind = \"udp\"\ninterface = \"eth1\"\nmulticast = \"239.192.0.2:7405\"\n")
	fmt.Fprintf(&b, "\n[[path]]\nname = \"serial0\"\nkind = \"serial\"\ndevice = \"/dev/ttyS0\"\nbaud = %d\npeers = [\"n2\"]\n", baud)
	fmt.Fprintf(&b, "\n[[service]]\nname = \"web\"\nvip = \"198.18.1.100/32\"\ninterface = \"eth0\"\npriority = {%s}\n", prio)
	return b.String()
}

// TestBudget: timers whose heartbeats a serial line cannot carry in time,
// or that cost more CPU than the budget, are refused with what they would
// cost and what would fit; the defaults, a two-node cable at 9600 baud, 8
// nodes at 9600 baud and 16 nodes at the default interval pass. A serial
// path sends as often as its largest frame fits on the line, in whole ticks
// (transport.SerialInterval); the numbers below are computed by hand.
func TestBudget(t *testing.T) {
	for _, tt := range []struct {
		name string
		text string
		want []string // substrings of the one problem; none: valid
	}{
		{"defaults", cluster(2, 115200, ""), nil},
		{"two nodes at 9600 baud", cluster(2, 9600, ""), nil},
		{"16 nodes at 115200 baud", cluster(16, 115200, ""), nil},
		// 733 bytes sealed, 742 on the wire: 773ms at 9600 baud, so every
		// 780ms, under the 1s limit.
		{"8 nodes at 9600 baud", cluster(8, 9600, ""), nil},
		// Two UDP paths: 2 x 2 x 1000 frames a second; serial0 (224 bytes on
		// the wire, 19.4ms, every 20ms): 2 x 50. At 2ms: 2000 + 100 frames,
		// 42ms; at 1.5ms: 2667 + 103, 55ms.
		{"1ms interval", cluster(2, 115200, "interval = \"1ms\"\ndeadtime = \"5ms\""), []string{
			"f.toml:6: timers.interval: 1ms would cost about 82ms of CPU a second (8.2% of a core): 4100 heartbeat frames a second sent and received on 3 paths at ~20µs each",
			"over the budget of 50ms; use an interval of 2ms or more"}},
		// 14480 bit times: 1.508s at 9600 baud, 76 ticks = 1.52s, deadtime
		// 2.5 x 1.52s = 3.8s; at 19200 baud 754ms, within 1s.
		{"16 nodes at 9600 baud", cluster(16, 9600, ""), []string{
			"path[2].baud: 9600 baud cannot carry this cluster's heartbeats often enough",
			"(1436 bytes sealed, 1448 on the wire) takes 1.51s on the line", "one must fit within a send interval",
			"the path sends every 1.52s and its deadtime becomes 3.8s", "the limit is a send interval of 1s: use 19200 baud or more"}},
		// Whole ticks of 350ms: 1.508s is five (1.75s, deadtime 4.375s);
		// the frame must fit in the two ticks within 1s, 700ms: 14480 bits
		// need 20686 baud (19200 baud would take 754ms, three ticks, 1.05s).
		{"16 nodes at 9600 baud, 350ms interval", cluster(16, 9600, "interval = \"350ms\"\ndeadtime = \"900ms\""), []string{
			"path[2].baud: 9600 baud cannot carry", "the path sends every 1.75s and its deadtime becomes 4.38s (timers.deadtime 900ms)",
			"use 38400 baud or more"}},
		// Two UDP paths with 15 peers: 2 x 16 x 100; serial0 (1448 bytes on
		// the wire, 126ms, every 130ms): 2 x 7.7. At 13ms: 2462 + 15 frames,
		// 49.5ms; at 12.5ms: 2560 + 15 (every 137.5ms), 51.5ms.
		{"16 nodes at 10ms", cluster(16, 115200, "interval = \"10ms\"\ndeadtime = \"50ms\""), []string{
			"timers.interval: 10ms would cost about 64ms of CPU a second (6.4% of a core): 3215 heartbeat frames", "use an interval of 13ms or more"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(tt.text))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want a problem containing %q, got none", tt.want)
			}
			msg := err.Error()
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("want one problem, got %d:\n%s", n, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("problem lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}
