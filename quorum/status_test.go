package quorum

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAdvertAndStatusJSON(t *testing.T) {
	c := mustNew(t, twoNodeConfig("n1"))
	mustStep(t, c, heard(0, "eth0", 1, StateUp))
	want := Advert{
		Services: []ServiceState{{Name: "vip1", State: StateRecover, Priority: 100}},
		Views:    []View{{Peer: "n2", Path: "eth0", Up: true}, {Peer: "n2", Path: "eth1"}, {Peer: "n2", Path: "serial0"}},
	}
	if diff := cmp.Diff(want, c.Advert()); diff != "" {
		t.Errorf("Advert (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(c.Status())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"state":"degraded"`, `"owner":"n2"`, `"state":"recover"`, `"isolated":false`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("status JSON lacks %s:\n%s", s, b)
		}
	}
}
