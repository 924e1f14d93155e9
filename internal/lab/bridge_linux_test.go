package lab

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// TestPrivilegedBridgeSettings checks brA/brB with iproute2 when present.
func TestPrivilegedBridgeSettings(t *testing.T) {
	Require(t)
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("no ip binary to cross-check with")
	}
	l, err := New(Options{Hosts: 1, NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, br := range []string{"brA", "brB"} {
		var out []byte
		err := doIn(l.sw.ns, func() error {
			var err error
			out, err = exec.Command(ip, "-d", "-j", "link", "show", br).Output()
			return err
		})
		if err != nil {
			t.Fatalf("ip link show %s: %v", br, err)
		}
		var links []struct {
			Linkinfo struct {
				InfoData map[string]any `json:"info_data"`
			} `json:"linkinfo"`
		}
		if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
			t.Fatalf("parsing %s: %v", out, err)
		}
		d := links[0].Linkinfo.InfoData
		for _, k := range []string{"forward_delay", "stp_state", "mcast_snooping"} {
			if v, ok := d[k].(float64); !ok || v != 0 {
				t.Errorf("%s %s = %v, want 0", br, k, d[k])
			}
		}
	}
}
