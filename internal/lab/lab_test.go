package lab_test

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/failover-ha/failover/internal/lab"
)

func TestMain(m *testing.M) { lab.Main(m) }

// listen opens a UDP socket on h's nic address, port.
func listen(t *testing.T, h *lab.Host, nic string, port int) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := h.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(h.Addr(nic), uint16(port))))
		return err
	})
	if err != nil {
		t.Fatalf("%s: listen on %s: %v", h.Name(), nic, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// reaches reports whether a datagram from a's nic arrives at b's nic within d.
func reaches(t *testing.T, a, b *lab.Host, nic string, d time.Duration) bool {
	t.Helper()
	src := listen(t, a, nic, 0)
	dst := listen(t, b, nic, 0)
	msg := fmt.Sprintf("%s->%s %s %d", a.Name(), b.Name(), nic, time.Now().UnixNano())
	if _, err := src.WriteToUDPAddrPort([]byte(msg), netip.MustParseAddrPort(dst.LocalAddr().String())); err != nil {
		t.Logf("send %s: %v", msg, err)
		return false
	}
	buf := make([]byte, 1500)
	dst.SetReadDeadline(time.Now().Add(d))
	for {
		n, err := dst.Read(buf)
		if err != nil {
			return false
		}
		if string(buf[:n]) == msg {
			return true
		}
	}
}

func TestPrivilegedUDPBetweenHosts(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2})
	h1, h2 := l.Host("h1"), l.Host("h2")
	for _, nic := range []string{"eth0", "eth1"} {
		if !reaches(t, h1, h2, nic, 2*time.Second) {
			t.Errorf("h1 -> h2 on %s: datagram lost", nic)
		}
		if !reaches(t, h2, h1, nic, 2*time.Second) {
			t.Errorf("h2 -> h1 on %s: datagram lost", nic)
		}
	}
	if !reaches(t, l.Client(), h1, "eth0", 2*time.Second) {
		t.Errorf("client -> h1 on eth0: datagram lost")
	}
	if got, want := h2.Addr("eth1"), netip.MustParseAddr("198.18.2.2"); got != want {
		t.Errorf("h2 eth1 address = %v, want %v", got, want)
	}
	if got, want := l.Client().Addr("eth0"), netip.MustParseAddr("198.18.1.250"); got != want {
		t.Errorf("client eth0 address = %v, want %v", got, want)
	}
	link, err := h1.Netlink().LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := link.Attrs().HardwareAddr.String(), h1.MAC("eth1").String(); got != want {
		t.Errorf("h1 eth1 MAC = %s, MAC() = %s", got, want)
	}
}

func TestPrivilegedPullPlug(t *testing.T) {
	lab.Require(t)
	l := lab.NewT(t, lab.Options{Hosts: 2, NoClient: true})
	h1, h2 := l.Host("h1"), l.Host("h2")
	if err := l.Pull("h2", "eth1"); err != nil {
		t.Fatal(err)
	}
	if reaches(t, h1, h2, "eth1", 200*time.Millisecond) {
		t.Errorf("h1 -> h2 on eth1 arrived with h2 eth1 pulled")
	}
	if !reaches(t, h1, h2, "eth0", 2*time.Second) {
		t.Errorf("h1 -> h2 on eth0 lost with only eth1 pulled")
	}
	link, err := h2.Netlink().LinkByName("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if link.Attrs().RawFlags&0x10000 != 0 { // IFF_LOWER_UP
		t.Errorf("h2 eth1 still has carrier after Pull")
	}
	if err := l.Plug("h2", "eth1"); err != nil {
		t.Fatal(err)
	}
	if !reaches(t, h1, h2, "eth1", 2*time.Second) {
		t.Errorf("h1 -> h2 on eth1 lost after Plug")
	}
}

func TestImpossibleTopology(t *testing.T) {
	for _, o := range []lab.Options{
		{Hosts: 0},
		{Hosts: 17},
		{Hosts: 2, Serial: [][2]int{{1, 3}}},
		{Hosts: 2, Serial: [][2]int{{2, 2}}},
	} {
		l, err := lab.New(o)
		if err == nil {
			l.Close()
			t.Errorf("New(%+v) = nil error, want one", o)
			continue
		}
		t.Logf("New(%+v): %v", o, err)
	}
}

func TestPrivilegedBuildTime(t *testing.T) {
	lab.Require(t)
	for _, n := range []int{2, 16} {
		start := time.Now()
		l, err := lab.New(lab.Options{Hosts: n, Serial: [][2]int{{1, 2}}})
		built := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%2d hosts + client + 1 cable: New %v, Close %v", n, built.Round(time.Microsecond), time.Since(start).Round(time.Microsecond))
	}
}

func BenchmarkPrivilegedNew(b *testing.B) {
	lab.Require(b)
	for _, n := range []int{2, 16} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			for b.Loop() {
				l, err := lab.New(lab.Options{Hosts: n, Serial: [][2]int{{1, 2}}})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				l.Close()
				b.StartTimer()
			}
		})
	}
}
