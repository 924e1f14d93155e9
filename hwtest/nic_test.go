package hwtest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiagnoseNIC(t *testing.T) {
	link := LinkInfo{Exists: true, Up: true, Carrier: true, OperState: "up", MTU: 1500, Addrs: []string{"198.18.1.1/24"}}
	good := &Summary{Sent: 50, Received: 50}
	dead := &Summary{Sent: 50, Lost: 50, LossPct: 100}
	lossy := &Summary{Sent: 50, Received: 25, Lost: 25, LossPct: 50}
	path := func(l LinkInfo, mc, uc *Summary) PathResult {
		return PathResult{Name: "eth0", Interface: "eth0", Link: l, Group: "239.192.0.1",
			Peers: []PeerResult{{Addr: "198.18.1.2", Listed: true, Multicast: mc, Unicast: uc}}}
	}
	nocarrier := link
	nocarrier.Carrier, nocarrier.OperState = false, "lowerlayerdown"
	tests := []struct {
		name   string
		res    NICResult
		failed []string
		hint   string
	}{
		{"healthy", NICResult{Paths: []PathResult{path(link, good, good)}}, nil, ""},
		{"pulled", NICResult{Paths: []PathResult{path(nocarrier, dead, dead)}}, []string{"link eth0", "path eth0 → 198.18.1.2"}, "cable"},
		{"silent peer", NICResult{Paths: []PathResult{path(link, dead, dead)}}, []string{"path eth0 → 198.18.1.2"}, "firewall"},
		{"multicast only lost", NICResult{Paths: []PathResult{path(link, dead, good)}}, []string{"path eth0 → 198.18.1.2"}, "switch multicast"},
		{"unicast only lost", NICResult{Paths: []PathResult{path(link, good, dead)}}, []string{"path eth0 → 198.18.1.2"}, "firewall"},
		{"lossy", NICResult{Paths: []PathResult{path(link, lossy, good)}}, []string{"path eth0 → 198.18.1.2"}, "cable / NIC / switch"},
		{"no address", NICResult{Paths: []PathResult{path(LinkInfo{Exists: true, Up: true, Carrier: true}, good, good)}}, []string{"link eth0"}, "NIC"},
		{"vip taken", NICResult{VIPs: []VIPResult{{Service: "www", VIP: "198.18.1.100", Interface: "eth0", InUse: true, MAC: "02:00:00:00:00:02"}}}, []string{"vip 198.18.1.100"}, "another host"},
		{"vip free", NICResult{VIPs: []VIPResult{{Service: "www", VIP: "198.18.1.100", Interface: "eth0"}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NICOptions{}
			o.defaults()
			var failed []string
			hints := ""
			for _, c := range diagnoseNIC(tt.res, o) {
				if !c.OK {
					failed = append(failed, c.Name)
					hints += c.Hint + "\n"
				}
			}
			if diff := cmp.Diff(tt.failed, failed); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s", diff)
			}
			if !strings.Contains(hints, tt.hint) {
				t.Errorf("hints %q lack %q", hints, tt.hint)
			}
		})
	}
}
