package hwtest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		sent int
		rtts []time.Duration
		want Summary
	}{
		{"none", 10, nil, Summary{Sent: 10, Lost: 10, LossPct: 100}},
		{"one", 1, []time.Duration{ms}, Summary{Sent: 1, Received: 1, Min: ms, P50: ms, P99: ms, Max: ms}},
		{"jitter", 4, []time.Duration{1 * ms, 3 * ms, 1 * ms, 3 * ms}, Summary{Sent: 4, Received: 4, Min: ms, P50: ms, P99: 3 * ms, Max: 3 * ms, Jitter: 2 * ms}},
		{"loss", 4, []time.Duration{2 * ms, 4 * ms}, Summary{Sent: 4, Received: 2, Lost: 2, LossPct: 50, Min: 2 * ms, P50: 2 * ms, P99: 4 * ms, Max: 4 * ms, Jitter: 2 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarize(tt.sent, tt.rtts)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
