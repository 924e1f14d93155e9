package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/transport"
)

// renderConfig writes p as failover.toml text.
func renderConfig(p *plan) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# failover.toml of node %s, written by \"failover setup\".\n", p.node)
	w("# Everything but node, the unicast addresses and the serial device must be\n")
	w("# the same on every node. Check it with: failover check-config FILE\n")
	w("# Every key and its default: failover.toml.example.\n\n")
	w("cluster = %s\n", tomlString(p.cluster))
	w("node = %s\n", tomlString(p.node))
	w("key_file = %s\n", tomlString(filepath.Join(p.out, "failover.key")))
	if p.preset != "" {
		w("\n[timers]\n# fast | lan | wan: every timer's value and reason are in failover.toml.example;\n")
		w("# a timer given here overrides the preset's.\npreset = %s\n", tomlString(p.preset))
	}
	for _, pp := range p.peers {
		w("\n[[peer]]\nname = %s\n", tomlString(pp.name))
	}
	for _, n := range p.nics {
		w("\n[[path]]\nname = %s\nkind = \"udp\"\ninterface = %s\n", tomlString(n.name), tomlString(n.name))
		if n.multicast {
			w("multicast = %s\n", tomlString(defaultGroup))
		}
		if len(n.unicast) > 0 {
			var us []string
			for _, u := range n.unicast {
				us = append(us, tomlString(u.String()))
			}
			w("unicast = [%s] # %s\n", strings.Join(us, ", "), peerNames(p))
		}
	}
	if s := p.serial; s != nil {
		w("\n[[path]]\nname = \"serial0\"\nkind = \"serial\"\ndevice = %s\nbaud = %d\n", tomlString(s.device), s.baud)
		if len(p.peers) > 1 {
			w("peers = [%s]\n", tomlString(s.peer))
		}
	}
	w("\n[[service]]\nname = %s\nvip = %s\ninterface = %s\n", tomlString(p.service), tomlString(p.vip.String()), tomlString(p.iface))
	if p.label != "" {
		w("label = %s\n", tomlString(p.label))
	}
	prios := []string{tomlKey(p.node) + " = " + strconv.Itoa(p.priority)}
	for _, pp := range p.peers {
		prios = append(prios, tomlKey(pp.name)+" = "+strconv.Itoa(pp.priority))
	}
	w("priority = {%s}\n", strings.Join(prios, ", "))
	return b.String()
}

func peerNames(p *plan) string {
	var s []string
	for _, pp := range p.peers {
		s = append(s, pp.name)
	}
	return strings.Join(s, ", ")
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlKey writes a node name as a key: bare unless it holds a dot (which
// would make it a dotted key).
func tomlKey(s string) string {
	if strings.Contains(s, ".") {
		return tomlString(s)
	}
	return s
}

// writeSetup writes the config text and the key file (a copy of p.key, or a
// new key) into p.out, each atomically and mode 0600, and checks the key
// file as failoverd will. It reports whether the key is new.
func writeSetup(p *plan, text, cfgPath, keyPath string) (newKey bool, err error) {
	if err := os.MkdirAll(p.out, 0o700); err != nil {
		return false, err
	}
	var key []byte
	switch {
	case p.key == "":
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return false, fmt.Errorf("make a key: %w", err)
		}
		key = []byte("# failover cluster key: the same file on every node, mode 0600.\n" +
			"# <id> <hex secret> [send]; see docs/design.md for rotating it.\n" +
			"1 " + hex.EncodeToString(secret) + "\n")
		newKey = true
	case sameFile(p.key, keyPath):
	default:
		if key, err = os.ReadFile(p.key); err != nil {
			return false, err
		}
	}
	if key != nil {
		if err := writeFileAtomic(keyPath, key); err != nil {
			return false, err
		}
	}
	if _, err := transport.LoadKeyFile(keyPath); err != nil {
		return false, err
	}
	if err := writeFileAtomic(cfgPath, []byte(text)); err != nil {
		return false, err
	}
	cfg, err := config.Load(cfgPath)
	if err == nil {
		err = config.CheckKeyFile(cfgPath, cfg)
	}
	if err != nil {
		return newKey, fmt.Errorf("what it wrote does not pass check-config: %w", err)
	}
	return newKey, nil
}

// writeFileAtomic writes data to a temporary file beside path, mode 0600,
// syncs it and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// peerLines are the lines to run on each peer: copy the key there, then run
// setup with --yes from the peer's side (the same cluster, service and
// priorities; this host and the other peers as its peers; this host's
// addresses as unicast targets).
func peerLines(p *plan, m *machine, keyPath string) map[string][]string {
	out := map[string][]string{}
	nodes := append([]peerPlan{{name: p.node, priority: p.priority}}, p.peers...)
	for pi, peer := range p.peers {
		target := peer.name
		for _, n := range p.nics {
			if len(n.unicast) > pi {
				target = n.unicast[pi].Addr().String()
				break
			}
		}
		if strings.Contains(target, ":") {
			target = "[" + target + "]"
		}
		args := []string{"failover", "setup", "--yes",
			"--cluster", p.cluster, "--service", p.service, "--vip", p.vip.String(), "--interface", p.iface}
		if p.label != "" {
			args = append(args, "--label", p.label)
		}
		args = append(args, "--node", peer.name, "--priority", strconv.Itoa(peer.priority))
		for _, n := range nodes {
			if n.name != peer.name {
				args = append(args, "--peer", n.name+"="+strconv.Itoa(n.priority))
			}
		}
		var notes []string
		for _, n := range p.nics {
			spec := n.name
			if len(n.unicast) > 0 {
				var items []string
				if n.multicast {
					items = append(items, "multicast")
				}
				own, ok := ownAddrFor(m, n.name, n.unicast[pi].Addr())
				if !ok {
					notes = append(notes, fmt.Sprintf("# this host has no address on %s: put it in place of ADDR", n.name))
				}
				if ok {
					items = append(items, own.String())
				} else {
					items = append(items, "ADDR")
				}
				for qi, q := range n.unicast {
					if qi != pi {
						items = append(items, unicastItem(q))
					}
				}
				spec += "=" + strings.Join(items, ",")
			}
			args = append(args, "--path", spec)
		}
		if s := p.serial; s != nil && s.peer == peer.name {
			spec := s.device + "=" + strconv.Itoa(s.baud)
			if len(p.peers) > 1 {
				spec += "@" + p.node
			}
			args = append(args, "--path", spec)
		}
		if p.preset != "" {
			args = append(args, "--preset", p.preset)
		}
		args = append(args, "--key", keyPath, "--out", p.out)
		lines := []string{
			"# 1. the key, over a trusted channel; from this host, for example:",
			"scp -p " + shellQuote(keyPath) + " root@" + target + ":" + shellQuote(keyPath),
			"# 2. the same cluster from " + peer.name + "'s side (change NIC and device names if they differ there):",
		}
		lines = append(lines, notes...)
		var q []string
		for _, a := range args {
			q = append(q, shellQuote(a))
		}
		lines = append(lines, strings.Join(q, " "))
		out[peer.name] = lines
	}
	return out
}

// ownAddrFor is this host's address on nic of the family of peer.
func ownAddrFor(m *machine, nic string, peer netip.Addr) (netip.Addr, bool) {
	n, ok := m.nic(nic)
	if !ok {
		return netip.Addr{}, false
	}
	for _, a := range n.addrs {
		if a.Addr().Is4() == peer.Is4() && !a.Addr().IsLinkLocalUnicast() {
			return a.Addr(), true
		}
	}
	return netip.Addr{}, false
}

func unicastItem(ap netip.AddrPort) string {
	if ap.Port() == config.DefaultPort {
		return ap.Addr().String()
	}
	return ap.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
