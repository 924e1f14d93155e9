package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/transport"
	"github.com/failover-ha/failover/vip"
)

// DefaultSetupDir is where "failover setup" writes failover.toml and
// failover.key unless --out says otherwise.
const DefaultSetupDir = "/etc/failover"

// defaultGroup is the multicast group:port setup writes for a multicast path.
const defaultGroup = "239.192.0.1:7405"

func setupCmd() *command {
	return &command{
		name:  "setup",
		short: "write this host's config and key file: asks the original's questions",
		long: `Asks the questions of the original's setup, one at a time, with the answer
detected on this machine in [brackets] (Enter takes it): the cluster and
service names, the address to fail over (the VIP), its prefix, the interface
that carries it and its label, this node's name and priority, the other
nodes and their priorities, the heartbeat paths (which NICs, multicast or
unicast and the peers' addresses there, which serial port and baud), the
timer preset (fast, lan or wan; see failover.toml.example), and a key file
copied from the first node or a new key. A wrong answer is
explained and asked again: a VIP that is this host's or a peer's address, a
prefix that swallows an address of this host, a serial port that does not
exist, an interface this host does not have, a preset whose heartbeats would cost
more CPU than the budget for these nodes and paths.

It then writes --out/failover.toml, checked by the same code as "failover
check-config", and --out/failover.key (mode 0600, a new 256-bit key unless
--key names one), and prints the lines to run on each peer: copy the key,
then the same setup with --yes from the peer's side.

Every question has a flag; with --yes nothing is asked and the flags (or the
detected defaults) are the answers, so a script or the peer's line runs it
unattended. An answer a flag gives that would be refused interactively
exits 2. --path takes:

  NIC                        multicast heartbeats on NIC (group 239.192.0.1:7405)
  NIC=ADDR[,ADDR...]         unicast to each peer's address on NIC, in --peer order
  NIC=multicast,ADDR...      both
  DEV[=BAUD][@PEER]          the serial cable on DEV (a path starting with /);
                             @PEER when more than one peer

Existing files in --out are not replaced without --force (or a yes to the
question).`,
		examples: []string{
			"sudo failover setup",
			"sudo failover setup --yes --vip 198.18.1.100 --node n1 --priority 100 --peer n2=50 \\\n" +
				"      --path eth0=multicast,198.18.1.2 --path eth1=198.18.2.2 --path /dev/ttyS0",
			"failover setup --out /tmp/fo --yes --vip 198.18.1.100/24 --peer n2 --json",
		},
		run: runSetup,
	}
}

// setupFlags are setup's flags: the answers given in advance.
type setupFlags struct {
	cluster, service, vip, prefix, iface, label, node, key, out string
	preset                                                      string
	priority                                                    int
	peers, paths                                                multiFlag
	yes, force, json                                            bool
}

// multiFlag is a flag that may be repeated.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, " ") }

func (m *multiFlag) Set(s string) error {
	*m = append(*m, s)
	return nil
}

// plan is one host's answers: what setup writes.
type plan struct {
	cluster, service string
	vip              netip.Prefix
	iface, label     string
	node             string
	priority         int
	peers            []peerPlan
	nics             []nicPlan
	serial           *serialPlan
	preset           string // [timers] preset
	key              string // existing key file to install; "" = a new key
	out              string
}

type peerPlan struct {
	name     string
	priority int
}

type nicPlan struct {
	name      string
	multicast bool
	unicast   []netip.AddrPort // one per peer, in peer order; nil = multicast only
}

type serialPlan struct {
	device string
	baud   int
	peer   string // the node at the far end
}

// pathSpec is one --path value.
type pathSpec struct {
	nic       string
	multicast bool
	unicast   []netip.AddrPort
	device    string // serial
	baud      int
	peer      string
}

func parsePathSpec(s string) (pathSpec, error) {
	if strings.HasPrefix(s, "/") {
		ps := pathSpec{device: s}
		if dev, peer, ok := strings.Cut(ps.device, "@"); ok {
			ps.device, ps.peer = dev, peer
		}
		if dev, baud, ok := strings.Cut(ps.device, "="); ok {
			b, err := strconv.Atoi(baud)
			if err != nil || b <= 0 {
				return ps, fmt.Errorf("%q: baud %q is not a line speed", s, baud)
			}
			ps.device, ps.baud = dev, b
		}
		return ps, nil
	}
	nic, items, ok := strings.Cut(s, "=")
	ps := pathSpec{nic: nic, multicast: !ok}
	if nic == "" {
		return ps, fmt.Errorf("%q: want NIC, NIC=ADDR,... or a serial device /dev/...", s)
	}
	if ok {
		for _, it := range strings.Split(items, ",") {
			if it == "multicast" {
				ps.multicast = true
				continue
			}
			ap, err := parseHostPort(it)
			if err != nil {
				return ps, fmt.Errorf("%q: %v", s, err)
			}
			ps.unicast = append(ps.unicast, ap)
		}
	}
	return ps, nil
}

// parseHostPort parses "198.18.1.2" or "198.18.1.2:7405" (IPv6 in brackets
// with a port).
func parseHostPort(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, config.DefaultPort), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("%q is not an IP address (or address:port)", s)
	}
	return ap, nil
}

func runSetup(ctx context.Context, r *runner, args []string) error {
	c := r.find("setup")
	fs := r.flags(c)
	f := &setupFlags{priority: 100}
	fs.StringVar(&f.out, "out", DefaultSetupDir, "write failover.toml and failover.key into `dir`")
	fs.BoolVar(&f.yes, "yes", false, "ask nothing: take the flags and the detected defaults")
	fs.BoolVar(&f.force, "force", false, "replace failover.toml and failover.key if they exist")
	fs.BoolVar(&f.json, "json", false, "print what was written and the peers' lines as JSON (with --yes)")
	fs.StringVar(&f.cluster, "cluster", "failover", "cluster `name` (the same on every node)")
	fs.StringVar(&f.service, "service", "vip", "service `name`, as in \"failover fail NAME\"")
	fs.StringVar(&f.vip, "vip", "", "the address to fail over, `addr[/prefix]`")
	fs.StringVar(&f.prefix, "prefix", "", "prefix `length` of the VIP (default: from --vip, else a host route: 32)")
	fs.StringVar(&f.iface, "interface", "", "`NIC` that carries the VIP (default: the one whose subnet holds it)")
	fs.StringVar(&f.label, "label", "", "address `label` of the VIP, like eth0:1 (default none)")
	fs.StringVar(&f.node, "node", "", "this node's `name` (default: the host name)")
	fs.IntVar(&f.priority, "priority", 100, "this node's `priority`, 0..255: the highest healthy node holds the VIP")
	fs.Var(&f.peers, "peer", "another node, `name[=priority]` (repeat for each; default priority 50, or 100 if ours is 50 or less)")
	fs.Var(&f.paths, "path", "a heartbeat path, `spec`: NIC, NIC=ADDR,..., NIC=multicast,ADDR,... or DEV[=BAUD][@PEER] (repeat)")
	fs.StringVar(&f.preset, "preset", config.DefaultPreset, "timer `preset`: "+strings.Join(config.PresetNames(), ", ")+" (failover.toml.example lists their values)")
	fs.StringVar(&f.key, "key", "", "use this key `file` copied from the first node instead of making a new key")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if abs, err := filepath.Abs(f.out); err == nil {
		f.out = abs // key_file must not depend on failoverd's working directory
	}
	if f.json && !f.yes {
		return usageErrorf("failover setup: --json needs --yes (the questions are for people)")
	}
	detect := r.env.machine
	if detect == nil {
		detect = detectMachine
	}
	m, err := detect()
	if err != nil {
		return fmt.Errorf("failover setup: %w", err)
	}
	a := &asker{ctx: ctx, out: r.env.Stdout, yes: f.yes}
	if !f.yes {
		in := r.env.Stdin
		if in == nil {
			in = os.Stdin
		}
		stop := a.start(in)
		defer stop()
		fmt.Fprintf(a.out, "failover setup: Enter takes the [default]; a refused answer is asked again; Ctrl-C stops (nothing is written).\n\n")
	}
	p, err := askPlan(a, f, &m)
	if err != nil {
		return err
	}
	text := renderConfig(p)
	cfgPath := filepath.Join(p.out, "failover.toml")
	keyPath := filepath.Join(p.out, "failover.key")
	if _, err := config.Parse(cfgPath, []byte(text)); err != nil {
		// Every answer was checked; a problem here is a bug in setup.
		fmt.Fprintf(r.env.Stderr, "failover setup: the config it made does not pass check-config (a bug; nothing written):\n%v\n", err)
		return silentExit(ExitFailure)
	}
	if !f.yes {
		fmt.Fprintf(a.out, "\n%s\n", text)
	}
	if err := confirmWrite(a, f, cfgPath, keyPath, p.key); err != nil {
		return err
	}
	newKey, err := writeSetup(p, text, cfgPath, keyPath)
	if err != nil {
		return fmt.Errorf("failover setup: %w", err)
	}
	lines := peerLines(p, &m, keyPath)
	if f.json {
		return r.printJSON(SetupResult{Config: cfgPath, KeyFile: keyPath, NewKey: newKey, Peers: lines})
	}
	w := r.env.Stdout
	fmt.Fprintf(w, "wrote %s and %s (mode 0600)", cfgPath, keyPath)
	if newKey {
		fmt.Fprintf(w, ", a new key")
	}
	fmt.Fprintln(w)
	for _, pp := range p.peers {
		fmt.Fprintf(w, "\nOn %s:\n", pp.name)
		for _, l := range lines[pp.name] {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "\nThen on every node: failover check-config %s && systemctl enable --now failoverd\n", cfgPath)
	return nil
}

// SetupResult is setup's JSON answer.
type SetupResult struct {
	Config  string              `json:"config"`
	KeyFile string              `json:"key_file"`
	NewKey  bool                `json:"new_key"`
	Peers   map[string][]string `json:"peers"` // the lines to run, per peer
}

// confirmWrite asks before replacing files (or refuses without --force).
func confirmWrite(a *asker, f *setupFlags, cfgPath, keyPath, keySrc string) error {
	var exist []string
	for _, p := range []string{cfgPath, keyPath} {
		if p == keyPath && keySrc != "" && sameFile(keySrc, keyPath) {
			continue // installing the key that is already there
		}
		if _, err := os.Lstat(p); err == nil {
			exist = append(exist, p)
		}
	}
	if len(exist) > 0 && !f.force {
		if f.yes {
			return usageErrorf("failover setup: %s exist(s); give --force to replace (a new key locks out the peers until they get it)", strings.Join(exist, " and "))
		}
		ans, err := a.ask(strings.Join(exist, " and ")+" exist(s). Replace", "no", "", yesNo)
		if err != nil {
			return err
		}
		if !isYes(ans) {
			return usageErrorf("failover setup: nothing written")
		}
		return nil
	}
	if f.yes {
		return nil
	}
	ans, err := a.ask("Write "+cfgPath+" and "+keyPath, "yes", "", yesNo)
	if err != nil {
		return err
	}
	if !isYes(ans) {
		return usageErrorf("failover setup: nothing written")
	}
	return nil
}

func yesNo(s string) error {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no":
		return nil
	}
	return fmt.Errorf("answer yes or no")
}

func isYes(s string) bool { s = strings.ToLower(s); return s == "y" || s == "yes" }

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// asker asks questions on a terminal (or reads answers from a pipe) or, with
// yes, takes every default without asking.
type asker struct {
	ctx   context.Context
	out   io.Writer
	yes   bool
	lines chan lineRead
	done  chan struct{}
}

type lineRead struct {
	s   string
	err error
}

// start reads lines from in on a goroutine, so that a question can be
// abandoned on Ctrl-C; stop ends it (a read in progress finishes first).
func (a *asker) start(in io.Reader) (stop func()) {
	a.lines, a.done = make(chan lineRead), make(chan struct{})
	go func() {
		br := bufio.NewReader(in)
		for {
			s, err := br.ReadString('\n')
			select {
			case a.lines <- lineRead{s, err}:
			case <-a.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return func() { close(a.done) }
}

// ask asks q until check accepts the answer; an empty answer is def. With
// yes, def is the answer and a refusal is a usage error naming flag.
func (a *asker) ask(q, def, flag string, check func(string) error) (string, error) {
	if a.yes {
		if err := check(def); err != nil {
			if flag == "" {
				return "", usageErrorf("failover setup: %v", err)
			}
			return "", usageErrorf("failover setup: %s: %v", flag, err)
		}
		return def, nil
	}
	for {
		if def != "" {
			fmt.Fprintf(a.out, "%s [%s]: ", q, def)
		} else {
			fmt.Fprintf(a.out, "%s: ", q)
		}
		var l lineRead
		select {
		case l = <-a.lines:
		case <-a.ctx.Done():
			fmt.Fprintln(a.out)
			return "", &exitError{code: ExitFailure, msg: "failover setup: interrupted; nothing written"}
		}
		if l.err != nil && l.s == "" {
			if errors.Is(l.err, io.EOF) {
				fmt.Fprintln(a.out)
				return "", usageErrorf("failover setup: input ended before the questions did; nothing written")
			}
			return "", fmt.Errorf("failover setup: read answer: %w", l.err)
		}
		ans := strings.TrimSpace(l.s)
		if ans == "" {
			ans = def
		}
		if err := check(ans); err != nil {
			fmt.Fprintf(a.out, "  refused: %v; try again\n", err)
			continue
		}
		return ans, nil
	}
}

// askPlan asks every question in the original's order.
func askPlan(a *asker, f *setupFlags, m *machine) (*plan, error) {
	p := &plan{out: f.out}
	specs := make([]pathSpec, 0, len(f.paths))
	var serialSpec *pathSpec
	for _, s := range f.paths {
		ps, err := parsePathSpec(s)
		if err != nil {
			return nil, usageErrorf("failover setup: --path %v", err)
		}
		if ps.device != "" {
			if serialSpec != nil {
				return nil, usageErrorf("failover setup: --path %s: setup writes one serial cable; add more to the file afterwards", s)
			}
			serialSpec = &ps
			continue
		}
		specs = append(specs, ps)
	}
	var err error
	if p.cluster, err = a.ask("Cluster name (the same on every node)", f.cluster, "--cluster", config.CheckName); err != nil {
		return nil, err
	}
	if p.service, err = a.ask(`Service name (as in "failover fail NAME")`, f.service, "--service", config.CheckName); err != nil {
		return nil, err
	}

	// The address, its prefix, the interface and the label.
	vipDef, prefixDef := f.vip, ""
	if addr, bits, ok := strings.Cut(f.vip, "/"); ok {
		vipDef, prefixDef = addr, bits
	}
	if f.prefix != "" {
		prefixDef = f.prefix
	}
	var addr netip.Addr
	if _, err = a.ask("Address to fail over (the VIP)", vipDef, "--vip", func(s string) error {
		var err error
		addr, err = checkVIPAddr(s, m)
		return err
	}); err != nil {
		return nil, err
	}
	if prefixDef == "" {
		prefixDef = strconv.Itoa(addr.BitLen())
	}
	if _, err = a.ask(fmt.Sprintf("Prefix length of %s (%d: a host route, independent of the NIC's subnet)", addr, addr.BitLen()), prefixDef, "--prefix", func(s string) error {
		var err error
		p.vip, err = checkPrefix(addr, s, m)
		return err
	}); err != nil {
		return nil, err
	}
	ifDef := f.iface
	if ifDef == "" {
		ifDef = vipNIC(p.vip, m)
	}
	if p.iface, err = a.ask("Interface that carries the VIP", ifDef, "--interface", func(s string) error {
		n, ok := m.nic(s)
		if !ok {
			return fmt.Errorf("this host has no interface %q (it has: %s)", s, m.nicNames())
		}
		return vipErr(vip.Config{Addr: p.vip, Interface: s}.CheckHostAddrs(n.addrs))
	}); err != nil {
		return nil, err
	}
	label, err := a.ask(fmt.Sprintf(`Label of the VIP, like %s:1 ("none" for none)`, p.iface), orNone(f.label), "--label", func(s string) error {
		if s == "none" {
			return nil
		}
		c := vip.DefaultConfig(p.vip, p.iface)
		c.Label = s
		return vipErr(c.Validate())
	})
	if err != nil {
		return nil, err
	}
	if label != "none" {
		p.label = label
	}

	// This node and its peers.
	nodeDef := f.node
	if short, _, _ := strings.Cut(m.hostname, "."); nodeDef == "" && config.CheckName(short) == nil {
		nodeDef = short
	}
	if p.node, err = a.ask("This node's name", nodeDef, "--node", config.CheckName); err != nil {
		return nil, err
	}
	if p.priority, err = askPriority(a, "This node's priority (0..255; the highest healthy node holds the VIP)", strconv.Itoa(f.priority), "--priority"); err != nil {
		return nil, err
	}
	peerPrio := map[string]string{}
	var peerDef []string
	for _, s := range f.peers {
		name, prio, _ := strings.Cut(s, "=")
		peerDef = append(peerDef, name)
		peerPrio[name] = prio
	}
	names, err := a.ask("The other nodes' names (separated by spaces)", strings.Join(peerDef, " "), "--peer", func(s string) error {
		return checkPeers(strings.Fields(s), p.node)
	})
	if err != nil {
		return nil, err
	}
	for _, n := range strings.Fields(names) {
		def := peerPrio[n]
		if def == "" {
			def = "50"
			if p.priority <= 50 {
				def = "100"
			}
		}
		prio, err := askPriority(a, fmt.Sprintf("Priority of %s", n), def, "--peer "+n+"=PRIORITY")
		if err != nil {
			return nil, err
		}
		p.peers = append(p.peers, peerPlan{name: n, priority: prio})
	}

	// The paths: NICs, multicast or unicast, the serial cable.
	var nicDef []string
	for _, s := range specs {
		nicDef = append(nicDef, s.nic)
	}
	if len(specs) == 0 {
		for _, n := range m.nics {
			if _, ok := n.first4(); ok && n.carrier {
				nicDef = append(nicDef, n.name)
			}
		}
		if !slices.Contains(nicDef, p.iface) {
			nicDef = append([]string{p.iface}, nicDef...)
		}
	}
	nics, err := a.ask("Heartbeat NICs (separated by spaces; each carries every heartbeat)", strings.Join(nicDef, " "), "--path", func(s string) error {
		return checkNICs(strings.Fields(s), p.iface, m)
	})
	if err != nil {
		return nil, err
	}
	for _, nic := range strings.Fields(nics) {
		np, err := askNIC(a, p, nic, specs, m)
		if err != nil {
			return nil, err
		}
		p.nics = append(p.nics, np)
	}
	if p.serial, err = askSerial(a, p, f, serialSpec, m); err != nil {
		return nil, err
	}
	if p.preset, err = askPreset(a, p, f.preset); err != nil {
		return nil, err
	}

	// The key.
	if p.key, err = a.ask(`Key file copied from the first node ("none": make a new key)`, orNone(f.key), "--key", func(s string) error {
		if s == "none" {
			return nil
		}
		if _, err := transport.LoadKeyFile(s); err != nil {
			return errors.New(strings.ReplaceAll(strings.ReplaceAll(err.Error(), "transport: ", ""), "\n", "; "))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if p.key == "none" {
		p.key = ""
	}
	return p, nil
}

// askPreset asks for the timer preset, after the paths: a preset is refused
// when its heartbeats on these paths to these nodes would not pass
// check-config (the CPU budget).
func askPreset(a *asker, p *plan, def string) (string, error) {
	if !a.yes {
		fmt.Fprintf(a.out, "Timer presets (the same on every node):\n")
		for _, pr := range config.Presets() {
			fmt.Fprintf(a.out, "  %-4s  %s\n", pr.Name, pr.Use)
		}
	}
	return a.ask("Timer preset ("+strings.Join(config.PresetNames(), ", ")+")", def, "--preset", func(s string) error {
		if err := config.CheckPreset(s); err != nil {
			return err
		}
		trial := *p
		trial.preset = s
		return timerProblems(renderConfig(&trial))
	})
}

// timerProblems is the problems of the [timers] of config text, in one line;
// nil if there are none (the rest is checked when the file is complete).
func timerProblems(text string) error {
	_, err := config.Parse("failover.toml", []byte(text))
	if err == nil {
		return nil
	}
	var out []string
	for _, cp := range configProblems(err) {
		if strings.HasPrefix(cp.Key, "timers.") {
			out = append(out, cp.Key+": "+cp.What)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return errors.New(strings.Join(out, "; "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func askPriority(a *asker, q, def, flag string) (int, error) {
	s, err := a.ask(q, def, flag, func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("%q is not a priority 0..255", s)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}

// checkVIPAddr checks the address alone: a unicast address that is none of
// this host's.
func checkVIPAddr(s string, m *machine) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, errors.New("missing: the address clients use, like 198.18.1.100")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("%q is not an IP address", s)
	}
	if err := vipErr(vip.DefaultConfig(netip.PrefixFrom(a, a.BitLen()), "eth0").Validate()); err != nil {
		return a, err
	}
	if nic, ok := m.ownAddr(a); ok {
		return a, fmt.Errorf("%s is this host's own address on %s: the VIP must be an address of its own", a, nic)
	}
	return a, nil
}

// checkPrefix checks the VIP's prefix: valid for the address, and not
// covering any address of this host (vip's own check, per interface).
func checkPrefix(a netip.Addr, s string, m *machine) (netip.Prefix, error) {
	bits, err := strconv.Atoi(s)
	if err != nil || bits < 0 || bits > a.BitLen() {
		return netip.Prefix{}, fmt.Errorf("%q is not a prefix length 0..%d", s, a.BitLen())
	}
	pf := netip.PrefixFrom(a, bits)
	if err := vipErr(vip.DefaultConfig(pf, "eth0").Validate()); err != nil {
		return pf, err
	}
	for _, n := range m.nics {
		if _, ok := n.first4(); !ok && a.Is4() {
			continue // CheckHostAddrs would only say it has no IPv4 address
		}
		if err := vipErr(vip.Config{Addr: pf, Interface: n.name}.CheckHostAddrs(n.addrs)); err != nil {
			return pf, err
		}
	}
	return pf, nil
}

// vipNIC is the default VIP interface: the one whose subnet holds the VIP,
// else the first with carrier and an IPv4 address, else the first.
func vipNIC(pf netip.Prefix, m *machine) string {
	for _, n := range m.nics {
		for _, a := range n.addrs {
			if a.Masked().Contains(pf.Addr()) && a.Bits() < a.Addr().BitLen() {
				return n.name
			}
		}
	}
	for _, n := range m.nics {
		if _, ok := n.first4(); ok && n.carrier {
			return n.name
		}
	}
	if len(m.nics) > 0 {
		return m.nics[0].name
	}
	return ""
}

// vipErr turns the vip package's joined problems into one line without its
// "vip: " prefixes.
func vipErr(err error) error {
	if err == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		for strings.HasPrefix(l, "vip: ") {
			l = strings.TrimPrefix(l, "vip: ")
		}
		out = append(out, l)
	}
	return errors.New(strings.Join(out, "; "))
}

func checkPeers(names []string, node string) error {
	if len(names) == 0 {
		return errors.New("missing: a cluster needs at least one other node")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if err := config.CheckName(n); err != nil {
			return err
		}
		if n == node {
			return fmt.Errorf("%q is this node; list only the other nodes", n)
		}
		if seen[n] {
			return fmt.Errorf("%q listed twice", n)
		}
		seen[n] = true
	}
	return nil
}

func checkNICs(names []string, vipIf string, m *machine) error {
	if len(names) == 0 {
		return errors.New("missing: at least one NIC (the VIP's) carries heartbeats")
	}
	seen := map[string]bool{}
	for _, n := range names {
		if _, ok := m.nic(n); !ok {
			return fmt.Errorf("this host has no interface %q (it has: %s)", n, m.nicNames())
		}
		if seen[n] {
			return fmt.Errorf("%q listed twice", n)
		}
		seen[n] = true
	}
	if !seen[vipIf] {
		return fmt.Errorf("the VIP's interface %s must carry heartbeats too: add it", vipIf)
	}
	return nil
}

// askNIC asks how heartbeats go on one NIC and, for unicast, each peer's
// address there.
func askNIC(a *asker, p *plan, nic string, specs []pathSpec, m *machine) (nicPlan, error) {
	np := nicPlan{name: nic}
	var spec *pathSpec
	for i := range specs {
		if specs[i].nic == nic {
			spec = &specs[i]
		}
	}
	modeDef := "multicast"
	if spec != nil {
		switch {
		case spec.multicast && len(spec.unicast) > 0:
			modeDef = "both"
		case len(spec.unicast) > 0:
			modeDef = "unicast"
		}
		if len(spec.unicast) > 0 && len(spec.unicast) != len(p.peers) {
			return np, usageErrorf("failover setup: --path %s: %d unicast address(es) for %d peer(s); give one per --peer, in that order", nic, len(spec.unicast), len(p.peers))
		}
	}
	mode, err := a.ask(nic+": multicast, unicast or both", modeDef, "--path "+nic, func(s string) error {
		if s != "multicast" && s != "unicast" && s != "both" {
			return fmt.Errorf("%q: answer multicast, unicast or both", s)
		}
		return nil
	})
	if err != nil {
		return np, err
	}
	np.multicast = mode != "unicast"
	if mode == "multicast" {
		return np, nil
	}
	for i, pp := range p.peers {
		def := ""
		if spec != nil && i < len(spec.unicast) {
			def = spec.unicast[i].String()
			if spec.unicast[i].Port() == config.DefaultPort {
				def = spec.unicast[i].Addr().String()
			}
		}
		var ap netip.AddrPort
		if _, err := a.ask(fmt.Sprintf("%s's address on %s", pp.name, nic), def, "--path "+nic+"=ADDR,...", func(s string) error {
			var err error
			ap, err = checkPeerAddr(s, pp.name, nic, p, np.unicast, m)
			return err
		}); err != nil {
			return np, err
		}
		np.unicast = append(np.unicast, ap)
	}
	return np, nil
}

func checkPeerAddr(s, peer, nic string, p *plan, others []netip.AddrPort, m *machine) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, fmt.Errorf("missing: %s's own address on %s's LAN (unicast heartbeats go there)", peer, nic)
	}
	ap, err := parseHostPort(s)
	if err != nil {
		return ap, err
	}
	a := ap.Addr()
	switch {
	case a == p.vip.Addr():
		return ap, fmt.Errorf("%s is the VIP: give %s's own address", a, peer)
	case a.IsMulticast() || a.IsUnspecified() || a.IsLoopback():
		return ap, fmt.Errorf("%s is not a host address", a)
	}
	if on, ok := m.ownAddr(a); ok {
		return ap, fmt.Errorf("%s is this host's address (on %s), not %s's", a, on, peer)
	}
	for _, o := range others {
		if o.Addr() == a {
			return ap, fmt.Errorf("%s is another peer's address on %s", a, nic)
		}
	}
	return ap, nil
}

// askSerial asks for the null-modem cable: port, baud and, with several
// peers, who is at the other end.
func askSerial(a *asker, p *plan, f *setupFlags, spec *pathSpec, m *machine) (*serialPlan, error) {
	def := "none"
	switch {
	case spec != nil:
		def = spec.device
	case !f.yes && len(m.serial) > 0:
		def = m.serial[0]
	}
	dev, err := a.ask(`Serial port of the null-modem cable ("none": no cable)`, def, "--path DEV", func(s string) error {
		return checkSerialPort(s, m)
	})
	if err != nil || dev == "none" {
		return nil, err
	}
	sp := &serialPlan{device: dev, baud: config.DefaultPath().Baud, peer: p.peers[0].name}
	baudDef := strconv.Itoa(sp.baud)
	if spec != nil && spec.baud > 0 {
		baudDef = strconv.Itoa(spec.baud)
	}
	baud, err := a.ask("Baud rate (the same on both ends)", baudDef, "--path DEV=BAUD", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 4_000_000 {
			return fmt.Errorf("%q is not a line speed like 115200", s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sp.baud, _ = strconv.Atoi(baud)
	if len(p.peers) > 1 {
		peerDef := sp.peer
		if spec != nil && spec.peer != "" {
			peerDef = spec.peer
		}
		if sp.peer, err = a.ask("Node at the other end of the cable", peerDef, "--path DEV@PEER", func(s string) error {
			if !slices.ContainsFunc(p.peers, func(pp peerPlan) bool { return pp.name == s }) {
				return fmt.Errorf("%q is not one of the peers", s)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// checkSerialPort accepts "none" or a character device that exists.
func checkSerialPort(s string, m *machine) error {
	if s == "none" {
		return nil
	}
	st, err := os.Stat(s)
	here := strings.Join(m.serial, " ")
	if here == "" {
		here = "none"
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist (serial ports here: %s)", s, here)
	case err != nil:
		return fmt.Errorf("%s: %v", s, err)
	case st.Mode()&fs.ModeCharDevice == 0:
		return fmt.Errorf("%s is not a serial device (not a character device)", s)
	}
	return nil
}
