package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// term is the far side of a pty whose slave end is a terminal for setup:
// the test reads setup's prompts from the master and types the answers.
type term struct {
	t      *testing.T
	master *os.File
	slave  *os.File
	mu     sync.Mutex
	out    strings.Builder // everything setup printed (and the echo of what was typed)
	seen   int             // out[:seen] has been matched by expect
	more   chan struct{}
}

// openTerm opens /dev/ptmx and its slave in the terminal's default
// (canonical, echoing) mode, as a login shell would leave it.
func openTerm(t *testing.T) *term {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("name pty: %v", err)
	}
	master := os.NewFile(uintptr(fd), "ptmx")
	slave, err := os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open pty slave: %v", err)
	}
	tm := &term{t: t, master: master, slave: slave, more: make(chan struct{}, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.out.Write(buf[:n])
				tm.mu.Unlock()
				select {
				case tm.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		slave.Close()
		master.Close()
	})
	return tm
}

// expect waits until setup has printed want after what was matched before.
// The 20 s limit only keeps a broken setup from hanging the test.
func (tm *term) expect(want string) {
	tm.t.Helper()
	limit := time.After(20 * time.Second)
	for {
		tm.mu.Lock()
		s := strings.ReplaceAll(tm.out.String(), "\r\n", "\n")
		i := strings.Index(s[min(tm.seen, len(s)):], want)
		if i >= 0 {
			tm.seen += i + len(want)
		}
		tm.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-tm.more:
		case <-limit:
			tm.t.Fatalf("setup never printed %q; the terminal shows:\n%s", want, s[min(tm.seen, len(s)):])
		}
	}
}

// answer types line and Enter.
func (tm *term) answer(line string) {
	tm.t.Helper()
	if _, err := tm.master.Write([]byte(line + "\n")); err != nil {
		tm.t.Fatalf("type %q: %v", line, err)
	}
}

// TestSetupOnATerminal drives every question through a pty, answering some
// wrongly first: each refusal says why and the question comes again.
func TestSetupOnATerminal(t *testing.T) {
	tm := openTerm(t)
	cable := openTerm(t) // the serial port the machine has: a pty slave, a real character device
	port := cable.slave.Name()
	dir := t.TempDir()
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"setup", "--out", dir}, Env{
			Stdin: tm.slave, Stdout: tm.slave, Stderr: tm.slave, machine: fakeMachine("n1", 1, port)})
	}()
	steps := []struct{ prompt, answer string }{
		{"Cluster name (the same on every node) [failover]: ", ""},
		{`Service name (as in "failover fail NAME") [vip]: `, "web"},
		{"Address to fail over (the VIP): ", "198.18.1.1"},
		{"refused: 198.18.1.1 is this host's own address on eth0: the VIP must be an address of its own; try again\nAddress to fail over (the VIP): ", "the vip"},
		{`refused: "the vip" is not an IP address; try again` + "\nAddress to fail over (the VIP): ", "198.18.1.100"},
		{"Prefix length of 198.18.1.100 (32: a host route, independent of the NIC's subnet) [32]: ", "16"},
		{"refused: prefix: 198.18.1.100/16 covers the interface's address 198.18.1.1/24 on eth0; use /32 or the same prefix as that address; try again\n", "24"},
		{"Interface that carries the VIP [eth0]: ", "eth9"},
		{`refused: this host has no interface "eth9" (it has: eth0 eth1 eth2); try again` + "\nInterface that carries the VIP [eth0]: ", ""},
		{`Label of the VIP, like eth0:1 ("none" for none) [none]: `, "eth1:1"},
		{"refused: label: \"eth1:1\" must be the interface name, ':' and a suffix", "eth0:1"},
		{"This node's name [n1]: ", ""},
		{"This node's priority (0..255; the highest healthy node holds the VIP) [100]: ", "300"},
		{`refused: "300" is not a priority 0..255; try again`, ""},
		{"The other nodes' names (separated by spaces): ", ""},
		{"refused: missing: a cluster needs at least one other node; try again\n", "n1"},
		{`refused: "n1" is this node; list only the other nodes; try again` + "\n", "n2"},
		{"Priority of n2 [50]: ", ""},
		{"Heartbeat NICs (separated by spaces; each carries every heartbeat) [eth0 eth1]: ", "eth1"},
		{"refused: the VIP's interface eth0 must carry heartbeats too: add it; try again\n", ""},
		{"eth0: multicast, unicast or both [multicast]: ", "some"},
		{`refused: "some": answer multicast, unicast or both; try again` + "\n", ""},
		{"eth1: multicast, unicast or both [multicast]: ", "unicast"},
		{"n2's address on eth1: ", "198.18.1.100"},
		{"refused: 198.18.1.100 is the VIP: give n2's own address; try again\n", "198.18.2.1"},
		{"refused: 198.18.2.1 is this host's address (on eth1), not n2's; try again\n", "198.18.2.2"},
		{`Serial port of the null-modem cable ("none": no cable) [` + port + "]: ", "/dev/ttyNOPE9"},
		{"refused: /dev/ttyNOPE9 does not exist (serial ports here: " + port + "); try again\n", ""},
		{"Baud rate (the same on both ends) [115200]: ", "fast"},
		{`refused: "fast" is not a line speed like 115200; try again` + "\n", "57600"},
		{"  wan   routed or congested links, VMs that pause: dead after 1s of silence\nTimer preset (fast, lan, wan) [lan]: ", "slow"},
		{`refused: "slow" is not a preset: want fast, lan or wan; try again` + "\n", "wan"},
		{`Key file copied from the first node ("none": make a new key) [none]: `, ""},
		{`vip = "198.18.1.100/24"`, ""}, // the file is shown before the last question
		{"Write " + filepath.Join(dir, "failover.toml") + " and " + filepath.Join(dir, "failover.key") + " [yes]: ", ""},
	}
	for _, s := range steps {
		tm.expect(s.prompt)
		if !strings.HasPrefix(s.prompt, "vip =") {
			tm.answer(s.answer)
		}
	}
	tm.expect("wrote " + filepath.Join(dir, "failover.toml"))
	tm.expect("On n2:")
	tm.expect("failover setup --yes --cluster failover --service web --vip 198.18.1.100/24 --interface eth0 --label eth0:1 " +
		"--node n2 --priority 50 --peer n1=100 --path eth0 --path eth1=198.18.2.1 --path " + port + "=57600 --preset wan --key ")
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("setup exited %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("setup did not return after the last answer")
	}
	cfg := loadWritten(t, dir)
	s := cfg.Services[0]
	if s.Name != "web" || s.VIP.String() != "198.18.1.100/24" || s.Label != "eth0:1" || s.Priority["n1"] != 100 || s.Priority["n2"] != 50 {
		t.Errorf("service: %+v", s)
	}
	if cfg.Preset != "wan" {
		t.Errorf("preset %q, want wan", cfg.Preset)
	}
	if len(cfg.Paths) != 3 || cfg.Paths[1].Multicast != "" || strings.Join(cfg.Paths[1].Unicast, ",") != "198.18.2.2:7405" ||
		cfg.Paths[2].Device != port || cfg.Paths[2].Baud != 57600 {
		t.Errorf("paths: %+v", cfg.Paths)
	}
}

// TestSetupPeerLine runs the line setup prints for the peer, on a machine
// that is the peer: both configs must describe the same cluster (equal
// fingerprints, each other as peers, each other's addresses as unicast,
// the same preset).
func TestSetupPeerLine(t *testing.T) {
	cable := openTerm(t)
	port := cable.slave.Name()
	d1, d2 := t.TempDir(), t.TempDir()
	code, out, errs := runSetupFlags(t, fakeMachine("n1", 1, port), "--yes", "--out", d1, "--json",
		"--vip", "198.18.1.100", "--peer", "n2", "--path", "eth0=multicast,198.18.1.2", "--path", "eth1=198.18.2.2", "--path", port, "--preset", "wan")
	if code != 0 {
		t.Fatalf("n1: exit %d\n%s%s", code, out, errs)
	}
	i := strings.Index(out, "failover setup --yes")
	if i < 0 {
		t.Fatalf("no setup line for n2 in:\n%s", out)
	}
	line := out[i:]
	line = line[:strings.IndexByte(line, '"')]
	args := strings.Fields(line)[2:]
	for j := range args {
		if args[j] == "--out" {
			args[j+1] = d2 // n2's own /etc/failover
		}
	}
	code, out2, errs := runSetupFlags(t, fakeMachine("n2", 2, port), args...)
	if code != 0 {
		t.Fatalf("n2 ran %q: exit %d\n%s%s", args, code, out2, errs)
	}
	c1, c2 := loadWritten(t, d1), loadWritten(t, d2)
	if c1.Fingerprint() != c2.Fingerprint() {
		t.Errorf("fingerprints differ: the nodes would report MISMATCHES\nn1:\n%s\nn2:\n%s", readFile(t, d1), readFile(t, d2))
	}
	if c1.Preset != "wan" || c2.Preset != "wan" {
		t.Errorf("presets: n1 %q, n2 %q; want wan on both", c1.Preset, c2.Preset)
	}
	if c2.Node != "n2" || c2.Peers[0].Name != "n1" || strings.Join(c2.Paths[0].Unicast, ",") != "198.18.1.1:7405" ||
		strings.Join(c2.Paths[1].Unicast, ",") != "198.18.2.1:7405" || c2.Paths[2].Device != port {
		t.Errorf("n2's config:\n%s", readFile(t, d2))
	}
	k1, _ := os.ReadFile(filepath.Join(d1, "failover.key"))
	k2, _ := os.ReadFile(filepath.Join(d2, "failover.key"))
	if string(k1) != string(k2) {
		t.Error("n2 did not install n1's key")
	}
}

func readFile(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "failover.toml"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
