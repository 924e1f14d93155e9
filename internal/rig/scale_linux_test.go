package rig

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/daemon/config"
)

func TestScaleServices(t *testing.T) {
	svcs := ScaleServices(3)
	var got []string
	for _, s := range svcs {
		got = append(got, fmt.Sprintf("%s %s %v", s.Name, s.VIP, s.Priorities))
	}
	want := []string{
		"s1 198.18.1.101/32 map[h1:3 h2:2 h3:1]",
		"s2 198.18.1.102/32 map[h1:1 h2:3 h3:2]",
		"s3 198.18.1.103/32 map[h1:2 h2:1 h3:3]",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ScaleServices(3) (-want +got):\n%s", d)
	}
	if s := ScaleServices(16); s[15].VIP.String() != "198.18.1.116/32" {
		t.Errorf("16th VIP %s, want 198.18.1.116/32", s[15].VIP)
	}
}

func TestSpreadSummarize(t *testing.T) {
	idle := &IdleSample{
		Window: Duration(10 * time.Second), LoadBefore: "1.00 0.50 0.25", LoadAfter: "1.10 0.60 0.30",
		Hosts: []HostIdle{
			{Host: "h1", Rate: Rate{CPUms: 10, Wakeups: 100, RSS: 20 << 20}, Paths: []PathRate{
				{Path: "eth0", SentBytes: 1000, RecvBytes: 2000, SentFrames: 10, RecvFrames: 20},
				{Path: "serial0", SentBytes: 300, RecvBytes: 300, SentFrames: 2, RecvFrames: 2},
			}},
			{Host: "h2", Rate: Rate{CPUms: 30, Wakeups: 300, RSS: 40 << 20}, Paths: []PathRate{
				{Path: "eth0", SentBytes: 3000, RecvBytes: 4000, SentFrames: 30, RecvFrames: 40},
				{Path: "serial0", SentBytes: 300, RecvBytes: 300, SentFrames: 2, RecvFrames: 2},
				{Path: "serial1", SentBytes: 300, RecvBytes: 300, SentFrames: 2, RecvFrames: 2},
			}},
		},
	}
	var row ScaleRow
	row.summarize(idle)
	want := ScaleRow{
		Window: "10s", LoadBefore: "1.00 0.50 0.25", LoadAfter: "1.10 0.60 0.30",
		CPUmsMean: 20, CPUmsMax: 30, CPUPctMean: 2, CPUPctMax: 3, WakeupsMean: 200,
		RSSMean: 30 << 20, RSSMax: 40 << 20,
		BytesOut: (1300 + 3600) / 2.0, BytesIn: (2300 + 4600) / 2.0, FramesOut: (12 + 34) / 2.0, FramesIn: (22 + 44) / 2.0,
		Paths: []ScalePath{
			{Path: "eth0", Nodes: 2, BytesOut: 2000, BytesIn: 3000, FramesOut: 20, FramesIn: 30, FrameBytes: 100},
			// h2's two cables are one node with serial: 3 cables' worth over 2 nodes
			{Path: "serial", Nodes: 2, BytesOut: 450, BytesIn: 450, FramesOut: 3, FramesIn: 3, FrameBytes: 150},
		},
		Hosts: []ScaleNode{
			{Host: "h1", CPUms: 10, CPUPct: 1, Wakeups: 100, RSS: 20 << 20, BytesOut: 1300, BytesIn: 2300, FramesOut: 12, FramesIn: 22},
			{Host: "h2", CPUms: 30, CPUPct: 3, Wakeups: 300, RSS: 40 << 20, BytesOut: 3600, BytesIn: 4600, FramesOut: 34, FramesIn: 44},
		},
	}
	if d := cmp.Diff(want, row); d != "" {
		t.Errorf("summarize (-want +got):\n%s", d)
	}
}

func TestOnlyBaud(t *testing.T) {
	baud := &config.Problem{File: "h2.toml", Key: "path[2].baud", What: "115200 baud cannot carry"}
	other := &config.Problem{File: "h2.toml", Key: "timers.interval", What: "too much CPU"}
	tests := []struct {
		err  error
		want bool
	}{
		{baud, true},
		{errors.Join(baud, baud), true},
		{errors.Join(baud, other), false},
		{other, false},
		{errors.New("no such file"), false},
		{fmt.Errorf("loading: %w", baud), true},
	}
	for _, tt := range tests {
		if got := onlyBaud(tt.err); got != tt.want {
			t.Errorf("onlyBaud(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
