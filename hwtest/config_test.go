package hwtest

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const goodConfig = `
cluster = "lab"
node = "h1"
insecure_no_auth = true
[timers]
interval = "200ms"
deadtime = "1s"
[[peer]]
name = "h2"
[[path]]
name = "eth0"
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"
unicast = ["198.18.1.2:7405"]
[[path]]
name = "serial0"
kind = "serial"
device = "/dev/ttyS0"
[[service]]
name = "www"
vip = "198.18.1.100/24"
interface = "eth0"
priority = {h1 = 100, h2 = 50}
`

func TestParseNICConfig(t *testing.T) {
	c, err := ParseNICConfig("f.toml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := &NICConfig{File: "f.toml", Node: "h1", Interval: 200 * time.Millisecond, Deadtime: time.Second,
		Paths: []NICPath{{Name: "eth0", Interface: "eth0", Group: netip.MustParseAddr("239.192.0.1"), Peers: []netip.Addr{netip.MustParseAddr("198.18.1.2")}}},
		VIPs:  []VIPTarget{{Service: "www", VIP: netip.MustParsePrefix("198.18.1.100/24"), Interface: "eth0"}}}
	if diff := cmp.Diff(want, c, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ name, in, want string }{
		{"syntax", "node = \n", "f.toml:1"},
		{"group", strings.Replace(goodConfig, "239.192.0.1:7405", "10.0.0.1:7405", 1), "multicast: 10.0.0.1 is not a multicast group"},
		{"serial only", strings.Replace(goodConfig, `kind = "udp"`, `kind = "serial"`+"\ndevice = \"/dev/ttyS1\"", 1), ""},
	} {
		_, err := ParseNICConfig("f.toml", []byte(tt.in))
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want ErrConfig containing %q", tt.name, err, tt.want)
		}
	}
}
