package daemon

import (
	"errors"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRTThreads: each pass sets only the threads not set yet, forgets the
// ones that are gone (so a reused id is set again), skips a thread that
// exited before it was set, and tries a failed thread again.
func TestRTThreads(t *testing.T) {
	var calls []int
	fail := map[int]error{}
	r := newRTThreads(func(tid int) error {
		calls = append(calls, tid)
		return fail[tid]
	})
	for _, step := range []struct {
		name    string
		tids    []int
		fail    map[int]error
		calls   []int
		n       int
		wantErr string
	}{
		{"first pass sets all", []int{3, 1, 2}, nil, []int{1, 2, 3}, 3, ""},
		{"nothing new", []int{1, 2, 3}, nil, nil, 0, ""},
		{"a new thread only", []int{1, 2, 3, 7}, nil, []int{7}, 1, ""},
		{"exited before set", []int{1, 2, 3, 7, 8}, map[int]error{8: syscall.ESRCH}, []int{8}, 0, ""},
		{"refused", []int{1, 2, 3, 7, 9}, map[int]error{9: syscall.EPERM}, []int{9}, 0, "thread 9: operation not permitted"},
		{"refused is tried again", []int{1, 2, 3, 7, 9}, nil, []int{9}, 1, ""},
		{"gone and reused", []int{1, 3}, nil, nil, 0, ""},
		{"reused id is set again", []int{1, 2, 3}, nil, []int{2}, 1, ""},
	} {
		calls, fail = nil, step.fail
		n, err := r.pass(step.tids)
		if diff := cmp.Diff(step.calls, calls); diff != "" {
			t.Errorf("%s: set calls (-want +got):\n%s", step.name, diff)
		}
		if n != step.n {
			t.Errorf("%s: set %d, want %d", step.name, n, step.n)
		}
		switch {
		case step.wantErr == "" && err != nil:
			t.Errorf("%s: %v", step.name, err)
		case step.wantErr != "" && (err == nil || err.Error() != step.wantErr):
			t.Errorf("%s: err %v, want %q", step.name, err, step.wantErr)
		case step.wantErr != "" && !errors.Is(err, syscall.EPERM):
			t.Errorf("%s: %v does not wrap EPERM", step.name, err)
		}
	}
}
