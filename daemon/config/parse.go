package config

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

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
	Notify         []string     `toml:"notify"`
	NotifyFIFO     string       `toml:"notify_fifo"`
	NotifyTimeout  *string      `toml:"notify_timeout"`
	MetricsListen  string       `toml:"metrics_listen"`
	// RealtimePriority is a pointer: 0 (off) differs from not given.
	RealtimePriority *int `toml:"realtime_priority"`
}

type rawTimers struct {
	Preset        *string `toml:"preset"`
	Interval      *string `toml:"interval"`
	Deadtime      *string `toml:"deadtime"`
	AdaptiveFloor *string `toml:"adaptive_floor"`
	Startup       *string `toml:"startup"`
	IndoubtHold   *string `toml:"indoubt_hold"`
	Damping       *string `toml:"damping"`
	FlapLimit     *int    `toml:"flap_limit"`
	CarrierSettle *string `toml:"carrier_settle"`
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
	Check            []rawCheck     `toml:"check"`
	Notify           []string       `toml:"notify"`
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
	cur := map[string]string{} // array of tables -> its current element ("service" -> "service.1")
	prefix, plain := "", ""
	for i, ln := range strings.Split(string(data), "\n") {
		n := i + 1
		if m := reArrayTable.FindStringSubmatch(ln); m != nil {
			name := m[1]
			// A nested array ([[service.check]]) counts per element of
			// its parent: "service.1.check.0".
			base := name
			if j := strings.LastIndex(name, "."); j > 0 {
				if parent, ok := cur[name[:j]]; ok {
					base = parent + "." + name[j+1:]
				}
			}
			prefix = base + "." + strconv.Itoa(count[base])
			plain = name
			count[base]++
			cur[name] = prefix
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
	// preset is the [timers] preset; cfg.From says which of the values it
	// governs the file gives (nil until build has made cfg).
	preset      Preset
	presetGiven bool
	presetBad   bool // the file names no known preset: lan's values stand in
	cfg         *Config
}

// problem records a problem at key, given in indexed form ("path.1.port");
// it is shown as "path[1].port". A value that is the preset's says so, at
// the line of timers.preset when the file names one.
func (p *parser) problem(key, format string, args ...any) {
	what, line := fmt.Sprintf(format, args...), p.idx.lookup(key)
	if p.fromPreset(showKey(key)) {
		what += fmt.Sprintf(" (the value of preset %q; set %s to override it)", p.preset.Name, lastKey(key))
		if n := p.idx.lookup("timers.preset"); p.presetGiven && n > 0 {
			line = n
		}
	}
	p.errs = append(p.errs, &Problem{File: p.file, Line: line, Key: showKey(key), What: what})
}

// fromPreset reports whether the value at key (shown form) is the preset's.
func (p *parser) fromPreset(key string) bool {
	if p.cfg == nil || p.presetBad {
		return false
	}
	if _, set := p.cfg.From[key]; set {
		return false
	}
	return strings.HasPrefix(key, "timers.") && key != "timers.preset" ||
		strings.HasPrefix(key, "service[") && strings.HasSuffix(key, "].probe_window")
}

func lastKey(key string) string {
	return key[strings.LastIndex(key, ".")+1:]
}

// timers sets c's timers: the preset's values, then each one the file
// gives; startup and damping follow a deadtime the file gives unless the
// file gives them too (3 x deadtime; at least 2 x deadtime).
func (p *parser) timers(c *Config, t *rawTimers) {
	p.preset = presetOrDefault(DefaultPreset)
	if t.Preset != nil {
		p.presetGiven = true
		if err := CheckPreset(*t.Preset); err != nil {
			p.problem("timers.preset", "%v", err)
			p.presetBad = true
		} else {
			p.preset, _ = LookupPreset(*t.Preset)
		}
	}
	c.Preset, c.Timers, c.From = p.preset.Name, p.preset.Timers, map[string]string{}
	p.cfg = c
	dur := func(key string, s *string, dst *time.Duration) {
		if s != nil {
			c.From[key] = "file"
		}
		p.duration(key, s, dst)
	}
	dur("timers.interval", t.Interval, &c.Timers.Interval)
	dur("timers.deadtime", t.Deadtime, &c.Timers.Deadtime)
	dur("timers.adaptive_floor", t.AdaptiveFloor, &c.Timers.AdaptiveFloor)
	dur("timers.indoubt_hold", t.IndoubtHold, &c.Timers.IndoubtHold)
	dt := c.Timers.Deadtime
	if t.Deadtime != nil && t.Startup == nil {
		c.Timers.Startup, c.From["timers.startup"] = 3*dt, "3 x deadtime"
	}
	dur("timers.startup", t.Startup, &c.Timers.Startup)
	if d := c.Timers.Damping; t.Damping == nil && d != 0 && d < 2*dt {
		// A shorter hold ends before a flap can be seen.
		c.Timers.Damping, c.From["timers.damping"] = 2*dt, "2 x deadtime"
	}
	dur("timers.damping", t.Damping, &c.Timers.Damping)
	if t.FlapLimit != nil {
		c.Timers.FlapLimit, c.From["timers.flap_limit"] = *t.FlapLimit, "file"
	}
	dur("timers.carrier_settle", t.CarrierSettle, &c.Timers.CarrierSettle)
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
		hint := suggest(k[len(k)-1])
		if last := k[len(k)-1]; slices.Contains(timerKeys, last) {
			hint = " (" + last + " belongs in [timers])" // a timer key out of its table
		}
		p.errs = append(p.errs, &Problem{File: p.file, Line: line, Key: ks, What: "unknown key" + hint})
	}
}

// timerKeys are the keys of [timers].
var timerKeys = []string{"preset", "interval", "deadtime", "adaptive_floor", "startup", "indoubt_hold", "damping", "flap_limit", "carrier_settle"}

var knownKeys = []string{
	"cluster", "node", "key_file", "insecure_no_auth", "control_socket", "status_listen", "log_format", "log_level",
	"realtime_priority", "timers", "preset", "interval", "deadtime", "adaptive_floor", "startup", "indoubt_hold", "damping", "flap_limit", "carrier_settle",
	"peer", "path", "service", "name", "kind", "interface", "port", "multicast", "unicast", "peers", "device", "baud",
	"vip", "label", "priority", "failback", "failback_delay", "lifetime", "announce_count", "announce_interval",
	"announce_refresh", "probe_window",
	"snmp", "trap_targets", "community", "version", "enterprise_oid", "user", "security_level", "auth_protocol",
	"auth_passphrase", "auth_passphrase_file", "priv_protocol", "priv_passphrase", "priv_passphrase_file", "engine_id",
}

// suggest names a known key one edit or transposition away, for typos.
func suggest(k string) string {
	best, bestD := "", 3
	for _, c := range slices.Concat(knownKeys, checkKeys) {
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
	p.timers(&c, &r.Timers)

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
		sc.ProbeWindow = p.preset.ProbeWindow
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
		if rs.ProbeWindow != nil {
			c.From[showKey(k+".probe_window")] = "file"
		}
		if rs.AnnounceCount != nil {
			sc.AnnounceCount = *rs.AnnounceCount
		}
		sc.Notify = rs.Notify
		p.buildChecks(k, &sc, rs.Check)
		c.Services = append(c.Services, sc)
	}
	c.Notify, c.NotifyFIFO, c.MetricsListen = r.Notify, r.NotifyFIFO, r.MetricsListen
	p.duration("notify_timeout", r.NotifyTimeout, &c.NotifyTimeout)
	if r.RealtimePriority != nil {
		c.RealtimePriority = *r.RealtimePriority
	}
	c.SNMP = p.snmp(&r.SNMP, c.Node)
	return &c
}
