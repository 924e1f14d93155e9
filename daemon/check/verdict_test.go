package check

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVerdict feeds result strings ("+" pass, "-" fail) and expects the
// verdict after each one ("o" healthy, "x" failing; upper case where it
// changed).
func TestVerdict(t *testing.T) {
	tests := []struct {
		name       string
		rise, fall int
		in, want   string
	}{
		{"first pass keeps healthy", 2, 3, "+", "o"},
		{"first failure decides at once", 2, 3, "-", "X"},
		{"fall needs failures in a row", 2, 3, "+--+---", "ooooooX"},
		{"rise needs passes in a row", 2, 3, "-+-++", "XxxxO"},
		{"one flap does not move it", 3, 3, "+-+-+-", "oooooo"},
		{"rise 1 fall 1 follows each result", 1, 1, "+-+-", "oXOX"},
		{"streak resets on agreement", 2, 2, "+-+-+--", "ooooooX"},
		{"zero rise and fall count as one", 0, 0, "+-+", "oXO"},
		{"a long failure turns once", 1, 2, "+-----", "ooXxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerdict(tc.rise, tc.fall)
			var got strings.Builder
			for _, r := range tc.in {
				changed := v.Observe(r == '+')
				c := "x"
				if v.OK() {
					c = "o"
				}
				if changed {
					c = strings.ToUpper(c)
				}
				got.WriteString(c)
			}
			if diff := cmp.Diff(tc.want, got.String()); diff != "" {
				t.Errorf("results %s, rise %d fall %d (-want +got):\n%s", tc.in, tc.rise, tc.fall, diff)
			}
		})
	}
}

func TestVerdictStreak(t *testing.T) {
	v := NewVerdict(3, 3)
	if v.Seen() || !v.OK() {
		t.Fatalf("new verdict: seen %v ok %v, want unseen and healthy", v.Seen(), v.OK())
	}
	v.Observe(true)
	v.Observe(false)
	v.Observe(false)
	if got := v.Streak(); got != 2 {
		t.Errorf("streak after two failures = %d, want 2", got)
	}
	v.Observe(true)
	if got := v.Streak(); got != 0 {
		t.Errorf("streak after a pass = %d, want 0", got)
	}
}
