package hwtest

import (
	"math"
	"slices"
	"time"
)

// Summary is the outcome of a series of probes: how many went out, how many
// came back, and the round-trip times of those that did.
type Summary struct {
	Sent     int           `json:"sent"`
	Received int           `json:"received"`
	Lost     int           `json:"lost"`
	LossPct  float64       `json:"loss_pct"`
	Min      time.Duration `json:"rtt_min_ns"`
	P50      time.Duration `json:"rtt_p50_ns"`
	P99      time.Duration `json:"rtt_p99_ns"`
	Max      time.Duration `json:"rtt_max_ns"`
	// Jitter is the mean absolute difference between consecutive round
	// trips (the RFC 3550 idea without its smoothing).
	Jitter time.Duration `json:"jitter_ns"`
}

// summarize computes a Summary from sent probes and the RTTs of the answers,
// in the order they were sent.
func summarize(sent int, rtts []time.Duration) Summary {
	s := Summary{Sent: sent, Received: len(rtts)}
	s.Lost = max(sent-len(rtts), 0)
	if sent > 0 {
		s.LossPct = 100 * float64(s.Lost) / float64(sent)
	}
	if len(rtts) == 0 {
		return s
	}
	var dsum time.Duration
	for i := 1; i < len(rtts); i++ {
		d := rtts[i] - rtts[i-1]
		if d < 0 {
			d = -d
		}
		dsum += d
	}
	if len(rtts) > 1 {
		s.Jitter = dsum / time.Duration(len(rtts)-1)
	}
	sorted := slices.Clone(rtts)
	slices.Sort(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	s.P50 = percentile(sorted, 50)
	s.P99 = percentile(sorted, 99)
	return s
}

// percentile returns the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
