package rig

import (
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Dist summarises one measured quantity over several runs: the count, the
// extremes and nearest-rank percentiles. In JSON the durations are
// milliseconds ("p50_ms": 109.8).
type Dist struct {
	N                       int
	Min, P50, P90, P99, Max time.Duration
}

// Summarize returns the distribution of v (which it does not modify). The
// percentiles are nearest-rank: the p-th is the smallest value with at
// least p % of the values at or below it, always one of the values. With
// fewer than 100 values the p99 is therefore the max (and with fewer than
// 10, the p90 too). An empty v gives the zero Dist (N 0).
func Summarize(v []time.Duration) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return Dist{N: len(s), Min: s[0], P50: rank(s, 50), P90: rank(s, 90), P99: rank(s, 99), Max: s[len(s)-1]}
}

// rank is the nearest-rank p-th percentile of the sorted s.
func rank(s []time.Duration, p int) time.Duration {
	i := int(math.Ceil(float64(p)*float64(len(s))/100)) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// distJSON is Dist on the wire.
type distJSON struct {
	N   int     `json:"n"`
	Min float64 `json:"min_ms"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// MarshalJSON writes the durations in milliseconds.
func (d Dist) MarshalJSON() ([]byte, error) {
	return json.Marshal(distJSON{N: d.N, Min: Ms(d.Min), P50: Ms(d.P50), P90: Ms(d.P90), P99: Ms(d.P99), Max: Ms(d.Max)})
}

// UnmarshalJSON reads what MarshalJSON wrote (to the microsecond).
func (d *Dist) UnmarshalJSON(b []byte) error {
	var j distJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Dist{N: j.N, Min: fromMs(j.Min), P50: fromMs(j.P50), P90: fromMs(j.P90), P99: fromMs(j.P99), Max: fromMs(j.Max)}
	return nil
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fromMs(ms float64) time.Duration { return time.Duration(math.Round(ms*1000)) * time.Microsecond }
