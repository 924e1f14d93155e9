package config

import (
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// Preset is the [timers] preset the timers start from (DefaultPreset
	// when the file names none).
	Preset string
	// From says where each value a preset governs came from when it is not
	// the preset's, by key as problems show it ("timers.deadtime",
	// "service[0].probe_window"): "file", or the rule that derived it
	// ("3 x deadtime"). TimerSettings lists them all.
	From          map[string]string
	Peers         []PeerConfig
	Paths         []PathConfig
	Services      []ServiceConfig
	SNMP          SNMPConfig
	Notify        []string      // argv run on every service state change ("" = none)
	NotifyFIFO    string        // a FIFO to write one line per change to ("" = none)
	NotifyTimeout time.Duration // a hook still running after this is killed
	MetricsListen string        // TCP "addr:port" of /metrics, / and /status.json ("" = off)
	// RealtimePriority is the SCHED_RR priority (1..99) failoverd runs its
	// threads at; 0 keeps the normal scheduler. This host's own: not in the
	// Fingerprint.
	RealtimePriority int
}

// Timers are the failure detector and state machine timings.
type Timers struct {
	Interval      time.Duration // heartbeat send interval
	Deadtime      time.Duration // silence after which a path is down
	AdaptiveFloor time.Duration // adaptive detector floor; 0 = fixed deadtime
	Startup       time.Duration // listen this long before claiming an unannounced service
	IndoubtHold   time.Duration // wait in indoubt before claiming
	// Damping: a path (or the service NIC) that went down FlapLimit times
	// within Damping is held down until it has been stable for Damping;
	// 0 = off.
	Damping   time.Duration
	FlapLimit int
	// CarrierSettle: a service NIC whose carrier came back must keep it
	// this long before the service may return to it.
	CarrierSettle time.Duration
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
	Checks           []CheckConfig // [[service.check]]
	Notify           []string      // argv run on every change of this service
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
		// 10s: a hook that reloads a proxy may take seconds; one that hangs
		// is killed before the changes behind it pile up.
		NotifyTimeout: 10 * time.Second,
		// Off: nothing listens unless asked (the example binds loopback).
		MetricsListen: "",
		// SCHED_RR 10, as corosync and Heartbeat run: on a host whose CPUs
		// are saturated a normal task may wait 100ms-1s for a CPU, longer
		// than deadtime, and the peer declares it dead. 10 is above every
		// normal task and below the kernel's own realtime threads
		// (migration, watchdog: 99) and the usual threaded IRQs (50), so
		// failoverd never starves the kernel or the NICs it needs.
		RealtimePriority: 10,
		// The lan preset's timers, each with its reason in presets.go.
		Timers: presetOrDefault(DefaultPreset).Timers,
		Preset: DefaultPreset,
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
		// The lan preset's (presets.go).
		ProbeWindow: presetOrDefault(DefaultPreset).ProbeWindow,
	}
}

// Fingerprint summarises what must be equal on every node: the cluster,
// every timer, and the services with their failback and priorities. Peers
// compare it with ours; while it differs they send their timers
// (CoreTimers) too, so that each difference is named.
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
	t := c.CoreTimers()
	fmt.Fprintf(h, "%d %d %d %d %d|", t.Startup, t.IndoubtHold, t.Damping, t.FlapLimit, t.CarrierSettle)
	return h.Sum32()
}

// rest is the part of the fingerprint that CoreTimers does not carry: the
// cluster and the services' names, addresses and priorities.
func (c *Config) rest() uint32 {
	h := crc32.NewIEEE()
	fmt.Fprintf(h, "%s|", c.Cluster)
	for _, s := range c.Services {
		nodes := make([]string, 0, len(s.Priority))
		for n := range s.Priority {
			nodes = append(nodes, n)
		}
		sort.Strings(nodes)
		fmt.Fprintf(h, "%s %s", s.Name, s.VIP)
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
