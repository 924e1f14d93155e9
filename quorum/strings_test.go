package quorum

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnumText(t *testing.T) {
	type all struct {
		S []State     `json:"s"`
		P []PathState `json:"p"`
		V []PeerState `json:"v"`
	}
	in := all{
		S: []State{StateUp, StateRecover, StateFail, StateIndoubt, StateReclaim},
		P: []PathState{PathUp, PathSuspect, PathDown},
		V: []PeerState{PeerUnknown, PeerAlive, PeerDegraded, PeerDead},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"s":["up","recover","fail","indoubt","reclaim"],"p":["up","suspect","down"],"v":["unknown","alive","degraded","dead"]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	var out all
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := State(9).String(); got != "state(9)" {
		t.Errorf("State(9) = %q", got)
	}
}
