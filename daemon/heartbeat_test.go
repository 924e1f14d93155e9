package daemon

import (
	"testing"
	"time"

	"github.com/failover-ha/failover/transport"
)

// traffic: no rate before a second of samples; then bytes per second over
// the samples it holds (at most trafficSpan seconds), one sample a second
// however often it is asked.
func TestTrafficRates(t *testing.T) {
	var tr traffic
	var c transport.Counters
	t0 := time.Unix(1000, 0)
	if s, r := tr.rates(t0, &c); s != 0 || r != 0 {
		t.Errorf("rates with no sample = %v, %v", s, r)
	}
	tr.sample(t0, &c)
	c.Sent(500)
	if s, _ := tr.rates(t0.Add(500*time.Millisecond), &c); s != 0 {
		t.Errorf("rate after 0.5s = %v, want 0 (under a second)", s)
	}
	for i := 1; i <= 30; i++ { // 1000 bytes out, 200 in every second
		now := t0.Add(time.Duration(i) * time.Second)
		c.Sent(500)
		c.Received(200)
		tr.sample(now, &c)
		tr.sample(now.Add(time.Millisecond), &c) // too soon: ignored
		c.Sent(500)
	}
	s, r := tr.rates(t0.Add(30*time.Second), &c)
	// The oldest sample held is from t=20s; since then 10 s of 1000 B/s
	// out and 200 B/s in, plus the 500 sent after the last sample.
	if s != 1050 || r != 200 {
		t.Errorf("rates = %v out, %v in; want 1050, 200", s, r)
	}
}
