package rig

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	const m = time.Millisecond
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want Dist
	}{
		{"empty", nil, Dist{}},
		{"one", ms(7), Dist{N: 1, Min: 7 * m, P50: 7 * m, P90: 7 * m, P99: 7 * m, Max: 7 * m}},
		{"two: p50 is the lower one", ms(20, 10), Dist{N: 2, Min: 10 * m, P50: 10 * m, P90: 20 * m, P99: 20 * m, Max: 20 * m}},
		{"ten: p90 is the 9th, p99 the max", ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5),
			Dist{N: 10, Min: 1 * m, P50: 5 * m, P90: 9 * m, P99: 10 * m, Max: 10 * m}},
		{"eleven: p90 rounds up to the 10th", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 110),
			Dist{N: 11, Min: 1 * m, P50: 6 * m, P90: 10 * m, P99: 110 * m, Max: 110 * m}},
		{"99 values: p99 is the max", ms(hundred[1:]...),
			Dist{N: 99, Min: 1 * m, P50: 50 * m, P90: 90 * m, P99: 99 * m, Max: 99 * m}},
		{"100 values: p99 is the 99th", ms(hundred...),
			Dist{N: 100, Min: 1 * m, P50: 50 * m, P90: 90 * m, P99: 99 * m, Max: 100 * m}},
		{"ties", ms(0, 0, 0, 110), Dist{N: 4, P90: 110 * m, P99: 110 * m, Max: 110 * m}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.in...)
			if diff := cmp.Diff(tc.want, Summarize(in)); diff != "" {
				t.Errorf("Summarize(%v) (-want +got):\n%s", tc.in, diff)
			}
			if diff := cmp.Diff(tc.in, in); diff != "" {
				t.Errorf("Summarize changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestDistJSON(t *testing.T) {
	d := Dist{N: 3, Min: 99500 * time.Microsecond, P50: 110 * time.Millisecond, P90: 120 * time.Millisecond,
		P99: 120 * time.Millisecond, Max: 120*time.Millisecond + 1234*time.Nanosecond}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"n":3,"min_ms":99.5,"p50_ms":110,"p90_ms":120,"p99_ms":120,"max_ms":120.001}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back Dist
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	d.Max = d.Max.Truncate(time.Microsecond)
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
