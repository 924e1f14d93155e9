package rig

import "testing"

func TestCPUStat(t *testing.T) {
	a, err := parseCPUStat("cpu  100 0 50 800 50 0 10 0 0 0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseCPUStat("cpu  200 0 100 1500 100 0 50 0 7 0")
	if err != nil {
		t.Fatal(err)
	}
	if want := (CPUStat{Total: 1010, Idle: 850, Softirq: 10}); a != want {
		t.Errorf("parse = %+v, want %+v", a, want)
	}
	busy, soft := a.Busy(b)
	// 940 ticks passed (guest time not counted twice), 750 idle.
	if busy < 20.2 || busy > 20.3 || soft < 4.2 || soft > 4.3 {
		t.Errorf("Busy = %.2f%%, softirq %.2f%%; want 20.21%% and 4.26%%", busy, soft)
	}
	if busy, soft := b.Busy(a); busy != 0 || soft != 0 {
		t.Errorf("Busy backwards = %v, %v; want 0, 0", busy, soft)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu  1 2 3 x 5 6 7 8"} {
		if _, err := parseCPUStat(bad); err == nil {
			t.Errorf("parseCPUStat(%q) succeeded", bad)
		}
	}
	if c, err := ReadCPUStat(); err != nil || c.Total == 0 {
		t.Errorf("ReadCPUStat = %+v, %v", c, err)
	}
}
