package config

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is one host's configuration, as loaded from its TOML file.
type Config struct {
	File           string // where it was loaded from ("" if built in code)
	Cluster        string // cluster name
	ClusterID      uint32 // wire cluster id, crc32 (IEEE) of Cluster
	Node           string // this host's node name
	KeyFile        string // shared key file (transport.LoadKeyFile format)
	InsecureNoAuth bool   // send and accept unauthenticated frames
	ControlSocket  string // unix socket of the control API
	StatusListen   string // optional TCP "addr:port" for remote status
	LogFormat      string // text | json
	LogLevel       string // debug | info | warn | error
	Timers         Timers
	Peers          []PeerConfig
	Paths          []PathConfig
	Services       []ServiceConfig
	SNMP           SNMPConfig
}

// SNMPConfig is the optional [snmp] table: where state-change traps go.
type SNMPConfig struct {
	TrapTargets []netip.AddrPort // receivers; none = traps off
	Community   string           // v2c community
	Version     string           // "2c", the only one supported
}

// Timers are the failure detector and state machine timings.
type Timers struct {
	Interval      time.Duration // heartbeat send interval
	Deadtime      time.Duration // silence after which a path is down
	AdaptiveFloor time.Duration // adaptive detector floor; 0 = fixed deadtime
	Startup       time.Duration // listen this long before claiming an unannounced service
	IndoubtHold   time.Duration // wait in indoubt before claiming
}

// PeerConfig is another node of the cluster.
type PeerConfig struct {
	Name string
}

// PathConfig is one heartbeat path.
type PathConfig struct {
	Name      string
	Kind      string   // "udp" | "serial"
	Interface string   // udp: the NIC the path is pinned to
	Port      int      // udp: port we listen on and send to
	Multicast string   // udp: "239.192.0.1:7405" or ""
	Unicast   []string // udp: peer "addr:port" list
	Peers     []string // peers expected on this path (default: every peer)
	Device    string   // serial: "/dev/ttyS0"
	Baud      int      // serial: line speed
}

// ServiceConfig is one floating address.
type ServiceConfig struct {
	Name             string
	VIP              netip.Prefix
	Interface        string
	Label            string
	Priority         map[string]int
	Failback         bool
	FailbackDelay    time.Duration
	Lifetime         time.Duration
	AnnounceCount    int
	AnnounceInterval time.Duration
	AnnounceRefresh  time.Duration
	ProbeWindow      time.Duration
}

// DefaultPort is the UDP heartbeat port unless a path says otherwise.
const DefaultPort = 7405

// Default returns the global defaults. Peers, paths and services have
// none; their per-entry defaults are in DefaultPath and DefaultService.
func Default() Config {
	return Config{
		// The CLI looks here first; /run is tmpfs, so a reboot clears a stale socket.
		ControlSocket: "/run/failover.sock",
		// Humans read the log of a two-node cluster; json is one key away.
		LogFormat: "text",
		// State changes are info; per-heartbeat detail is debug.
		LogLevel: "info",
		Timers: Timers{
			// 50 heartbeats a second per path cost ~5 kB/s and let deadtime be 100ms.
			Interval: 20 * time.Millisecond,
			// Five missed heartbeats: survives a GC pause or a busy switch, fails
			// over well under the original's seconds.
			Deadtime: 100 * time.Millisecond,
			// Fixed deadtime unless asked: predictable, and the lab measures it.
			AdaptiveFloor: 0,
			// Set from Deadtime (3 x) when not given: a booting node must hear a
			// live holder before it claims anything.
			Startup: 0,
			// Claim as soon as the owner is dead on every path; the all-paths
			// rule already guards against a single cut.
			IndoubtHold: 0,
		},
	}
}

// DefaultSNMP returns the defaults of the [snmp] table.
func DefaultSNMP() SNMPConfig {
	return SNMPConfig{
		// Off: traps go nowhere until a receiver is named.
		TrapTargets: nil,
		// The community every trap receiver accepts out of the box; traps
		// carry only state names, which the heartbeats show anyway.
		Community: "public",
		// v2c: one notification PDU, no engine IDs; what receivers expect.
		Version: "2c",
	}
}

// DefaultPath returns the defaults of one [[path]].
func DefaultPath() PathConfig {
	return PathConfig{
		// Unassigned by IANA and easy to firewall as one rule.
		Port: DefaultPort,
		// The common null-modem speed; a 150-byte frame takes ~13ms.
		Baud: 115200,
	}
}

// DefaultService returns the defaults of one [[service]].
func DefaultService() ServiceConfig {
	return ServiceConfig{
		// The primary master should carry its address when it is healthy.
		Failback: true,
		// Reclaim at once; set a delay if the master's service needs warm-up.
		FailbackDelay: 0,
		// A killed daemon's VIP expires by itself 2s later; refreshed every 500ms.
		Lifetime: 2 * time.Second,
		// Three GARP pairs: switches that miss one still learn the move.
		AnnounceCount: 3,
		// Spread them over ~40ms, inside a client's first retry.
		AnnounceInterval: 20 * time.Millisecond,
		// Re-announce while owning, for caches that expired in the meantime.
		AnnounceRefresh: 10 * time.Second,
		// One ARP round trip on a LAN is well under a millisecond.
		ProbeWindow: 20 * time.Millisecond,
	}
}

// Fingerprint summarises what must be equal on every node: timing and
// the services with their priorities. Peers compare it with ours.
func (c *Config) Fingerprint() uint32 {
	h := crc32.NewIEEE()
	fmt.Fprintf(h, "%s|%d|%d|%d|", c.Cluster, c.Timers.Interval, c.Timers.Deadtime, c.Timers.AdaptiveFloor)
	for _, s := range c.Services {
		nodes := make([]string, 0, len(s.Priority))
		for n := range s.Priority {
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		fmt.Fprintf(h, "%s %s %t %d", s.Name, s.VIP, s.Failback, s.FailbackDelay)
		for _, n := range nodes {
			fmt.Fprintf(h, " %s=%d", n, s.Priority[n])
		}
		h.Write([]byte{'|'})
	}
	return h.Sum32()
}

// Level parses LogLevel.
func (c *Config) Level() slog.Level {
	l, _ := ParseLevel(c.LogLevel)
	return l
}

// Problem is one thing wrong with a config file.
type Problem struct {
	File string
	Line int    // 0 if unknown
	Key  string // "path[1].port"
	What string
}

func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Key == "" {
		return loc + ": " + p.What
	}
	return loc + ": " + p.Key + ": " + p.What
}

// Load reads, decodes and validates the file at path. The error joins
// every problem found (errors.Join of *Problem), each formatted
// "file:line: key: what is wrong".
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		what := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			what = pe.Err.Error()
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			what = "no such file: give the path of this host's failover.toml (--config FILE)"
		case errors.Is(err, fs.ErrPermission):
			what = "permission denied: run as root"
		}
		return nil, &Problem{File: path, What: what}
	}
	return Parse(path, b)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	p := &parser{file: name, idx: indexKeys(data)}
	var raw rawConfig
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, p.decodeError(err)
	}
	p.unknownKeys(md)
	cfg := p.build(&raw)
	p.validate(cfg)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return cfg, nil
}

type rawConfig struct {
	Cluster        string       `toml:"cluster"`
	Node           string       `toml:"node"`
	KeyFile        string       `toml:"key_file"`
	InsecureNoAuth bool         `toml:"insecure_no_auth"`
	ControlSocket  *string      `toml:"control_socket"`
	StatusListen   string       `toml:"status_listen"`
	LogFormat      *string      `toml:"log_format"`
	LogLevel       *string      `toml:"log_level"`
	Timers         rawTimers    `toml:"timers"`
	Peer           []rawPeer    `toml:"peer"`
	Path           []rawPath    `toml:"path"`
	Service        []rawService `toml:"service"`
	SNMP           rawSNMP      `toml:"snmp"`
}

type rawSNMP struct {
	TrapTargets []string `toml:"trap_targets"`
	Community   *string  `toml:"community"`
	Version     *string  `toml:"version"`
}

type rawTimers struct {
	Interval      *string `toml:"interval"`
	Deadtime      *string `toml:"deadtime"`
	AdaptiveFloor *string `toml:"adaptive_floor"`
	Startup       *string `toml:"startup"`
	IndoubtHold   *string `toml:"indoubt_hold"`
}

type rawPeer struct {
	Name string `toml:"name"`
}

type rawPath struct {
	Name      string   `toml:"name"`
	Kind      string   `toml:"kind"`
	Interface string   `toml:"interface"`
	Port      *int     `toml:"port"`
	Multicast string   `toml:"multicast"`
	Unicast   []string `toml:"unicast"`
	Peers     []string `toml:"peers"`
	Device    string   `toml:"device"`
	Baud      *int     `toml:"baud"`
}

type rawService struct {
	Name             string         `toml:"name"`
	VIP              string         `toml:"vip"`
	Interface        string         `toml:"interface"`
	Label            string         `toml:"label"`
	Priority         map[string]int `toml:"priority"`
	Failback         *bool          `toml:"failback"`
	FailbackDelay    *string        `toml:"failback_delay"`
	Lifetime         *string        `toml:"lifetime"`
	AnnounceCount    *int           `toml:"announce_count"`
	AnnounceInterval *string        `toml:"announce_interval"`
	AnnounceRefresh  *string        `toml:"announce_refresh"`
	ProbeWindow      *string        `toml:"probe_window"`
}

// keyIndex maps keys to the line they are defined on. Keys of arrays of
// tables carry the element index: "path.1.port". occ lists every key without
// indexes in file order, to place the keys MetaData.Undecoded returns.
type keyIndex struct {
	line map[string]int
	occ  []keyLine
}

type keyLine struct {
	key  string // without indexes: "path.port"
	line int
}

var (
	reArrayTable = regexp.MustCompile(`^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]`)
	reTable      = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]`)
	reKey        = regexp.MustCompile(`^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=\s*(.*)$`)
	reInlineKey  = regexp.MustCompile(`([A-Za-z0-9_\-]+)\s*=`)
)

// indexKeys builds the key -> line index from the file text. It understands
// the subset of TOML a config uses (tables, arrays of tables, dotted keys,
// one-line inline tables); anything else only loses line numbers.
func indexKeys(data []byte) *keyIndex {
	ix := &keyIndex{line: map[string]int{}}
	count := map[string]int{}
	prefix, plain := "", ""
	for i, ln := range strings.Split(string(data), "\n") {
		n := i + 1
		if m := reArrayTable.FindStringSubmatch(ln); m != nil {
			name := m[1]
			prefix = name + "." + strconv.Itoa(count[name])
			plain = name
			count[name]++
			ix.line[prefix] = n
			continue
		}
		if m := reTable.FindStringSubmatch(ln); m != nil {
			prefix, plain = m[1], m[1]
			ix.line[prefix] = n
			continue
		}
		m := reKey.FindStringSubmatch(ln)
		if m == nil {
			continue
		}
		k := strings.Join(strings.Fields(strings.ReplaceAll(m[1], ".", " ")), ".")
		full, pl := join(prefix, k), join(plain, k)
		ix.line[full] = n
		ix.occ = append(ix.occ, keyLine{pl, n})
		if v := strings.TrimSpace(m[2]); strings.HasPrefix(v, "{") {
			for _, im := range reInlineKey.FindAllStringSubmatch(v, -1) {
				ix.line[full+"."+im[1]] = n
				ix.occ = append(ix.occ, keyLine{pl + "." + im[1], n})
			}
		}
	}
	return ix
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// lookup returns the line of key (indexed form), falling back to its parents.
func (ix *keyIndex) lookup(key string) int {
	for key != "" {
		if n, ok := ix.line[key]; ok {
			return n
		}
		i := strings.LastIndex(key, ".")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

type parser struct {
	file string
	idx  *keyIndex
	errs []error
}

// problem records a problem at key, given in indexed form ("path.1.port");
// it is shown as "path[1].port".
func (p *parser) problem(key, format string, args ...any) {
	p.errs = append(p.errs, &Problem{File: p.file, Line: p.idx.lookup(key), Key: showKey(key), What: fmt.Sprintf(format, args...)})
}

var reIndex = regexp.MustCompile(`\.(\d+)(\.|$)`)

func showKey(key string) string {
	return reIndex.ReplaceAllString(key, "[$1]$2")
}

var reLine = regexp.MustCompile(`line (\d+)`)

// decodeError turns a toml decode error into a Problem.
func (p *parser) decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Problem{File: p.file, Line: pe.Position.Line, Key: pe.LastKey, What: pe.Message}
	}
	msg := err.Error()
	pr := &Problem{File: p.file}
	if m := reLine.FindStringSubmatch(msg); m != nil {
		pr.Line, _ = strconv.Atoi(m[1])
	}
	if i := strings.Index(msg, "(last key \""); i >= 0 {
		rest := msg[i+len("(last key \""):]
		if j := strings.Index(rest, "\")"); j >= 0 {
			pr.Key = rest[:j]
			msg = strings.TrimSpace(rest[j+2:])
			msg = strings.TrimPrefix(msg, ": ")
		}
	}
	msg = strings.TrimPrefix(msg, "toml: ")
	if m := reMismatch.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("want %s, got %s", tomlKind(m[1]), tomlKind(m[2]))
	} else if m := reTypes.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("want %s, got %s", tomlKind(m[2]), tomlKind(m[1]))
		if m[2] == "string" && (strings.HasPrefix(m[1], "int") || strings.HasPrefix(m[1], "float")) {
			msg += ` (durations and addresses are quoted: "20ms", "198.18.1.100")`
		}
	}
	pr.What = msg
	return pr
}

// reTypes matches the decoder's type mismatch ("incompatible types: TOML
// value has type int64; destination has type string").
var reTypes = regexp.MustCompile(`incompatible types: TOML value has type (.+); destination has type (.+)$`)

// reMismatch matches its other form ("type mismatch for daemon.rawTimers:
// expected table but found int64").
var reMismatch = regexp.MustCompile(`type mismatch for \S+: expected (\S+) but found (\S+)$`)

// tomlKind names a Go type of the decoder's message the way a config
// author thinks of it.
func tomlKind(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "bool", t == "boolean":
		return "true or false"
	case t == "table":
		return "a table"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "struct"), strings.Contains(t, "."):
		return "a table"
	case strings.HasPrefix(t, "[]"), t == "slice", t == "array":
		return "an array"
	}
	return t
}

// unknownKeys reports every key the file has that Config does not.
func (p *parser) unknownKeys(md toml.MetaData) {
	used := map[string]int{}
	for _, k := range md.Undecoded() {
		ks := k.String()
		line, seen := 0, 0
		for _, o := range p.idx.occ {
			if o.key == ks {
				if seen == used[ks] {
					line = o.line
					break
				}
				seen++
			}
		}
		used[ks]++
		// A table of unknown keys is reported once, by its keys.
		if md.Type(k...) == "Hash" || md.Type(k...) == "ArrayHash" {
			if line == 0 {
				p.errs = append(p.errs, &Problem{File: p.file, Line: p.idx.lookup(ks), Key: ks, What: "unknown table"})
			}
			continue
		}
		p.errs = append(p.errs, &Problem{File: p.file, Line: line, Key: ks, What: "unknown key" + suggest(k[len(k)-1])})
	}
}

var knownKeys = []string{
	"cluster", "node", "key_file", "insecure_no_auth", "control_socket", "status_listen", "log_format", "log_level",
	"timers", "interval", "deadtime", "adaptive_floor", "startup", "indoubt_hold",
	"peer", "path", "service", "name", "kind", "interface", "port", "multicast", "unicast", "peers", "device", "baud",
	"vip", "label", "priority", "failback", "failback_delay", "lifetime", "announce_count", "announce_interval",
	"announce_refresh", "probe_window",
	"snmp", "trap_targets", "community", "version",
}

// suggest names a known key one edit or transposition away, for typos.
func suggest(k string) string {
	best, bestD := "", 3
	for _, c := range knownKeys {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) duration(key string, s *string, dst *time.Duration) {
	if s == nil {
		return
	}
	d, err := time.ParseDuration(strings.TrimSpace(*s))
	if err != nil {
		p.problem(key, "%q is not a duration (write it like \"200ms\" or \"2s\")", *s)
		return
	}
	if d < 0 {
		p.problem(key, "%s is negative", d)
		return
	}
	*dst = d
}

// build applies defaults and converts the raw values, recording problems of
// single values.
func (p *parser) build(r *rawConfig) *Config {
	c := Default()
	c.File = p.file
	c.Cluster, c.Node, c.KeyFile, c.InsecureNoAuth = r.Cluster, r.Node, r.KeyFile, r.InsecureNoAuth
	c.ClusterID = crc32.ChecksumIEEE([]byte(r.Cluster))
	if r.ControlSocket != nil {
		c.ControlSocket = *r.ControlSocket
	}
	c.StatusListen = r.StatusListen
	if r.LogFormat != nil {
		c.LogFormat = *r.LogFormat
	}
	if r.LogLevel != nil {
		c.LogLevel = *r.LogLevel
	}
	t := r.Timers
	p.duration("timers.interval", t.Interval, &c.Timers.Interval)
	p.duration("timers.deadtime", t.Deadtime, &c.Timers.Deadtime)
	p.duration("timers.adaptive_floor", t.AdaptiveFloor, &c.Timers.AdaptiveFloor)
	p.duration("timers.indoubt_hold", t.IndoubtHold, &c.Timers.IndoubtHold)
	c.Timers.Startup = 3 * c.Timers.Deadtime
	p.duration("timers.startup", t.Startup, &c.Timers.Startup)

	for _, rp := range r.Peer {
		c.Peers = append(c.Peers, PeerConfig{Name: rp.Name})
	}
	for _, rp := range r.Path {
		pc := DefaultPath()
		pc.Name, pc.Kind, pc.Interface, pc.Multicast = rp.Name, rp.Kind, rp.Interface, rp.Multicast
		pc.Unicast, pc.Peers, pc.Device = rp.Unicast, rp.Peers, rp.Device
		if pc.Name == "" {
			pc.Name = pc.Interface
		}
		if rp.Port != nil {
			pc.Port = *rp.Port
		}
		if rp.Baud != nil {
			pc.Baud = *rp.Baud
		}
		c.Paths = append(c.Paths, pc)
	}
	for i, rs := range r.Service {
		k := "service." + strconv.Itoa(i)
		sc := DefaultService()
		sc.Name, sc.Interface, sc.Label, sc.Priority = rs.Name, rs.Interface, rs.Label, rs.Priority
		switch v := strings.TrimSpace(rs.VIP); {
		case v == "":
			p.problem(k+".vip", "missing: the floating address, like \"198.18.1.100\" or \"198.18.1.100/24\"")
		case strings.Contains(v, "/"):
			pf, err := netip.ParsePrefix(v)
			if err != nil {
				p.problem(k+".vip", "%q is not an address/prefix", v)
			} else {
				sc.VIP = pf
			}
		default:
			a, err := netip.ParseAddr(v)
			if err != nil {
				p.problem(k+".vip", "%q is not an IP address", v)
			} else {
				sc.VIP = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if rs.Failback != nil {
			sc.Failback = *rs.Failback
		}
		p.duration(k+".failback_delay", rs.FailbackDelay, &sc.FailbackDelay)
		p.duration(k+".lifetime", rs.Lifetime, &sc.Lifetime)
		p.duration(k+".announce_interval", rs.AnnounceInterval, &sc.AnnounceInterval)
		p.duration(k+".announce_refresh", rs.AnnounceRefresh, &sc.AnnounceRefresh)
		p.duration(k+".probe_window", rs.ProbeWindow, &sc.ProbeWindow)
		if rs.AnnounceCount != nil {
			sc.AnnounceCount = *rs.AnnounceCount
		}
		c.Services = append(c.Services, sc)
	}
	c.SNMP = DefaultSNMP()
	for i, t := range r.SNMP.TrapTargets {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(t))
		if err != nil || ap.Port() == 0 {
			p.problem("snmp.trap_targets", "%q (entry %d) is not addr:port like \"198.18.1.250:162\"", t, i+1)
			continue
		}
		c.SNMP.TrapTargets = append(c.SNMP.TrapTargets, ap)
	}
	if r.SNMP.Community != nil {
		c.SNMP.Community = *r.SNMP.Community
	}
	if r.SNMP.Version != nil {
		c.SNMP.Version = *r.SNMP.Version
	}
	return &c
}

var reName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]*$`)

// maxNameLen mirrors transport.MaxNameLen (node and path names on the wire).
const maxNameLen = 32

func (p *parser) name(key, what, v string) {
	if v == "" {
		p.problem(key, "missing: the %s's name", what)
	} else if err := CheckName(v); err != nil {
		p.problem(key, "%v", err)
	}
}

// CheckName reports why v cannot be a cluster, node, peer or path name
// (empty, longer than 32 bytes, or not letters, digits, '.', '_' and '-'),
// in the words a config problem uses; nil if it can.
func CheckName(v string) error {
	switch {
	case v == "":
		return errors.New("empty")
	case len(v) > maxNameLen:
		return fmt.Errorf("%q is longer than %d bytes", v, maxNameLen)
	case !reName.MatchString(v):
		return fmt.Errorf("%q: use letters, digits, '.', '_' and '-'", v)
	}
	return nil
}

// validate checks single values and cross-field sense.
func (p *parser) validate(c *Config) {
	p.name("cluster", "cluster", c.Cluster)
	p.name("node", "node", c.Node)
	if c.KeyFile == "" && !c.InsecureNoAuth {
		p.problem("key_file", "missing: heartbeats must be authenticated (or set insecure_no_auth = true, for labs only)")
	}
	if c.ControlSocket == "" {
		p.problem("control_socket", "empty: give a socket path like \"/run/failover.sock\"")
	}
	if c.StatusListen != "" {
		if _, err := netip.ParseAddrPort(c.StatusListen); err != nil {
			p.problem("status_listen", "%q is not addr:port like \"198.18.1.1:7406\"", c.StatusListen)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p.problem("log_format", "%q: want \"text\" or \"json\"", c.LogFormat)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		p.problem("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}

	t := c.Timers
	if t.Interval <= 0 {
		p.problem("timers.interval", "must be more than 0")
	}
	if t.Deadtime <= 2*t.Interval {
		p.problem("timers.deadtime", "%s must be more than 2 x interval (%s): one lost heartbeat would declare a path dead", t.Deadtime, 2*t.Interval)
	}
	if t.AdaptiveFloor != 0 && (t.AdaptiveFloor < 2*t.Interval || t.AdaptiveFloor > t.Deadtime) {
		p.problem("timers.adaptive_floor", "%s must be 0 (fixed deadtime) or between 2 x interval (%s) and deadtime (%s)", t.AdaptiveFloor, 2*t.Interval, t.Deadtime)
	}

	nodes := map[string]bool{c.Node: true}
	if len(c.Peers) == 0 {
		p.problem("peer", "no [[peer]]: a cluster needs at least one other node")
	}
	for i, pc := range c.Peers {
		k := "peer." + strconv.Itoa(i) + ".name"
		p.name(k, "peer", pc.Name)
		switch {
		case pc.Name == "":
		case pc.Name == c.Node:
			p.problem(k, "%q is this node (node = %q); list only the other nodes", pc.Name, c.Node)
		case nodes[pc.Name]:
			p.problem(k, "peer %q listed twice", pc.Name)
		}
		nodes[pc.Name] = true
	}

	if len(c.Paths) == 0 {
		p.problem("path", "no [[path]]: heartbeats need at least one path (two or more for safety)")
	}
	pathNames := map[string]bool{}
	udpIfaces := map[string]bool{}
	onPath := map[string]bool{}
	hostAddrs := map[netip.Addr]string{}
	for i, pc := range c.Paths {
		k := "path." + strconv.Itoa(i)
		if pc.Name == "" && pc.Kind == "serial" {
			p.problem(k+".name", "missing: a serial path needs a name, like \"serial0\"")
		} else if pc.Name != "" {
			p.name(k+".name", "path", pc.Name)
			if pathNames[pc.Name] {
				p.problem(k+".name", "path %q defined twice", pc.Name)
			}
			pathNames[pc.Name] = true
		}
		switch pc.Kind {
		case "udp":
			if pc.Interface == "" {
				p.problem(k+".interface", "missing: the NIC this path is pinned to, like \"eth0\"")
			} else if udpIfaces[pc.Interface] {
				p.problem(k+".interface", "%q carries two UDP paths; one path per NIC", pc.Interface)
			}
			udpIfaces[pc.Interface] = true
			if pc.Port < 1 || pc.Port > 65535 {
				p.problem(k+".port", "%d is not a port (1..65535)", pc.Port)
			}
			if pc.Multicast == "" && len(pc.Unicast) == 0 {
				p.problem(k, "a UDP path needs multicast or unicast (or both): nobody would hear it")
			}
			if pc.Multicast != "" {
				ap, err := netip.ParseAddrPort(pc.Multicast)
				if err != nil {
					p.problem(k+".multicast", "%q is not group:port like \"239.192.0.1:7405\"", pc.Multicast)
				} else if !ap.Addr().IsMulticast() {
					p.problem(k+".multicast", "%s is not a multicast group", ap.Addr())
				}
			}
			for _, u := range pc.Unicast {
				ap, err := netip.ParseAddrPort(u)
				if err != nil {
					p.problem(k+".unicast", "%q is not addr:port like \"198.18.1.2:7405\"", u)
					continue
				}
				if ap.Addr().IsMulticast() || ap.Addr().IsUnspecified() {
					p.problem(k+".unicast", "%s is not a host address", ap.Addr())
				}
				hostAddrs[ap.Addr()] = k + ".unicast"
			}
			if pc.Device != "" {
				p.problem(k+".device", "only for kind = \"serial\"")
			}
		case "serial":
			if pc.Device == "" {
				p.problem(k+".device", "missing: the serial device, like \"/dev/ttyS0\"")
			}
			if pc.Baud <= 0 {
				p.problem(k+".baud", "%d is not a line speed", pc.Baud)
			}
			if pc.Multicast != "" || len(pc.Unicast) > 0 {
				p.problem(k, "multicast and unicast are only for kind = \"udp\"")
			}
		case "":
			p.problem(k+".kind", "missing: \"udp\" or \"serial\"")
		default:
			p.problem(k+".kind", "%q: want \"udp\" or \"serial\"", pc.Kind)
		}
		for _, n := range c.PathPeers(pc) {
			if n == c.Node || !nodes[n] {
				p.problem(k+".peers", "%q is not a configured [[peer]]", n)
			}
			onPath[n] = true
		}
	}
	for i, pe := range c.Peers {
		if pe.Name != "" && pe.Name != c.Node && !onPath[pe.Name] {
			p.problem("peer."+strconv.Itoa(i)+".name", "peer %q is on no path: it could never be heard", pe.Name)
		}
	}

	svcNames := map[string]bool{}
	vips := map[netip.Addr]bool{}
	for i, s := range c.Services {
		k := "service." + strconv.Itoa(i)
		if s.Name == "" {
			p.problem(k+".name", "missing: the service's name")
		} else if len(s.Name) > 64 {
			p.problem(k+".name", "%q is longer than 64 bytes", s.Name)
		} else if svcNames[s.Name] {
			p.problem(k+".name", "service %q defined twice", s.Name)
		}
		svcNames[s.Name] = true
		if s.VIP.IsValid() {
			a := s.VIP.Addr()
			switch {
			case a.IsMulticast() || a.IsUnspecified() || a.IsLoopback():
				p.problem(k+".vip", "%s cannot be a floating address", a)
			case hostAddrs[a] != "":
				p.problem(k+".vip", "%s is a peer's host address (in %s); the VIP must be an address of its own", a, showKey(hostAddrs[a]))
			case vips[a]:
				p.problem(k+".vip", "%s is the VIP of another service", a)
			}
			vips[a] = true
		}
		if s.Interface == "" {
			p.problem(k+".interface", "missing: the NIC that carries the VIP")
		} else if !udpIfaces[s.Interface] {
			p.problem(k+".interface", "%q is not the interface of any UDP [[path]]: the service NIC must carry heartbeats", s.Interface)
		}
		if s.Label != "" {
			if !strings.HasPrefix(s.Label, s.Interface+":") || len(s.Label) == len(s.Interface)+1 {
				p.problem(k+".label", "%q must be the interface, a colon and a suffix, like %q", s.Label, s.Interface+":1")
			} else if len(s.Label) > 15 {
				p.problem(k+".label", "%q is longer than 15 bytes (IFNAMSIZ)", s.Label)
			}
		}
		if len(s.Priority) == 0 {
			p.problem(k+".priority", "missing: a priority per node, like {%s = 100}", c.Node)
		}
		ns := make([]string, 0, len(s.Priority))
		for n := range s.Priority {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		for _, n := range ns {
			v := s.Priority[n]
			if !nodes[n] {
				p.problem(k+".priority."+n, "%q is neither this node nor a [[peer]]", n)
			}
			if v < 0 || v > 255 {
				p.problem(k+".priority."+n, "%d is out of range 0..255", v)
			}
		}
		if s.Lifetime != 0 && s.Lifetime < 4*c.Timers.Interval {
			p.problem(k+".lifetime", "%s is too short (0 = forever, else at least 4 x interval)", s.Lifetime)
		}
		if s.AnnounceCount < 0 || s.AnnounceCount > 100 {
			p.problem(k+".announce_count", "%d is out of range 0..100", s.AnnounceCount)
		}
		if s.AnnounceCount > 1 && s.AnnounceInterval <= 0 {
			p.problem(k+".announce_interval", "must be more than 0")
		}
		if s.AnnounceRefresh != 0 && s.AnnounceRefresh < time.Second {
			p.problem(k+".announce_refresh", "%s is under 1s (\"0s\" turns refresh off)", s.AnnounceRefresh)
		}
	}
	seen := map[netip.AddrPort]bool{}
	for _, ap := range c.SNMP.TrapTargets {
		switch a := ap.Addr(); {
		case a.IsUnspecified() || a.IsMulticast():
			p.problem("snmp.trap_targets", "%s is not a host address", ap)
		case seen[ap]:
			p.problem("snmp.trap_targets", "%s listed twice", ap)
		}
		seen[ap] = true
	}
	if c.SNMP.Version != "2c" {
		p.problem("snmp.version", "%q is not supported: only \"2c\"", c.SNMP.Version)
	}
	if c.SNMP.Community == "" {
		p.problem("snmp.community", "empty: give the receivers' community, like \"public\"")
	} else if len(c.SNMP.Community) > 255 || strings.ContainsFunc(c.SNMP.Community, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		p.problem("snmp.community", "must be 1..255 printable bytes")
	}
	if len(c.Services) > 32 {
		p.problem("service", "%d services; a heartbeat carries at most 32", len(c.Services))
	}
}

// ParseLevel parses a log level: it accepts debug, info, warn (warning) and error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}
