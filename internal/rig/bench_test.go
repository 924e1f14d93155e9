package rig

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseScenarios(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: BenchScenarios()},
		{in: "all", want: BenchScenarios()},
		{in: "reclaim,power-pull", want: []string{"power-pull", "reclaim"}},
		{in: " handover-fail , handover-fail", want: []string{"handover-fail"}},
		{in: "power-pull,foo", wantErr: `unknown scenario "foo": want one or more of power-pull, cable-pull, handover-term, handover-fail, reclaim`},
		{in: "power-pull,", wantErr: `unknown scenario ""`},
	} {
		got, err := ParseScenarios(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrBenchOptions) {
				t.Errorf("ParseScenarios(%q) = %v, %v; want an ErrBenchOptions error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseScenarios(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseScenarios(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
