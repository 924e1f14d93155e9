package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CheckConfig is one [[service.check]]: a health check of the service on
// this node.
type CheckConfig struct {
	Name      string        // unique in the service; default the kind ("http", then "http-2", ...)
	Kind      string        // exec | tcp | http | ping
	Command   []string      // exec: argv
	Target    string        // tcp "host:port"; http URL; ping IP address
	Method    string        // ping: icmp | arp
	Interface string        // ping arp: the NIC to ask on (default: the service's)
	Status    int           // http: expected status
	Body      string        // http: substring the body must contain
	Interval  time.Duration // between runs
	Timeout   time.Duration // a run that lasts longer fails (an exec check is killed)
	Rise      int           // passes in a row to turn healthy
	Fall      int           // failures in a row to turn failing
	Effect    string        // fail | weight
	Weight    int           // effect weight: the priority drop while failing
}

// Check kinds, ping methods and effects as written in the file.
var (
	CheckKinds   = []string{"exec", "tcp", "http", "ping"}
	PingMethods  = []string{"icmp", "arp"}
	CheckEffects = []string{"fail", "weight"}
)

// DefaultCheck returns the defaults of one [[service.check]].
func DefaultCheck() CheckConfig {
	return CheckConfig{
		// Every 2s: a dead service is noticed within fall x interval = 6s,
		// and even an exec check that forks a shell costs next to nothing.
		Interval: 2 * time.Second,
		// Half the interval: a slow answer is a failure long before the
		// next run is due.
		Timeout: time.Second,
		// Two passes: one good answer right after an outage is not proof
		// the service is back.
		Rise: 2,
		// Three failures: one slow answer does not hand the address over.
		Fall: 3,
		// fail: an unhealthy service is handed to the next node, what an
		// operator behind a VIP expects; weight is the opt-in.
		Effect: "fail",
		// ICMP echo: what "ping the gateway" means; arp for gateways that
		// drop ICMP.
		Method: "icmp",
		// 200: a health endpoint that is fine says so.
		Status: 200,
	}
}

type rawCheck struct {
	Name      string   `toml:"name"`
	Kind      string   `toml:"kind"`
	Command   []string `toml:"command"`
	Target    string   `toml:"target"`
	Method    *string  `toml:"method"`
	Interface string   `toml:"interface"`
	Status    *int     `toml:"status"`
	Body      string   `toml:"body"`
	Interval  *string  `toml:"interval"`
	Timeout   *string  `toml:"timeout"`
	Rise      *int     `toml:"rise"`
	Fall      *int     `toml:"fall"`
	Effect    *string  `toml:"effect"`
	Weight    *int     `toml:"weight"`
}

// checkKeys are the keys of the tables in this file, for suggestions.
var checkKeys = []string{
	"check", "command", "target", "method", "status", "body", "timeout", "rise", "fall", "effect", "weight",
	"notify", "notify_fifo", "notify_timeout", "metrics_listen",
}

// buildChecks converts the [[service.check]] tables of service k ("service.0").
func (p *parser) buildChecks(k string, sc *ServiceConfig, raw []rawCheck) {
	names := map[string]int{}
	for j, rc := range raw {
		ck := k + ".check." + strconv.Itoa(j)
		cc := DefaultCheck()
		cc.Name, cc.Kind, cc.Command, cc.Target, cc.Interface, cc.Body = rc.Name, rc.Kind, rc.Command, rc.Target, rc.Interface, rc.Body
		if rc.Method != nil {
			cc.Method = *rc.Method
		}
		if rc.Status != nil {
			cc.Status = *rc.Status
		}
		p.duration(ck+".interval", rc.Interval, &cc.Interval)
		p.duration(ck+".timeout", rc.Timeout, &cc.Timeout)
		if rc.Rise != nil {
			cc.Rise = *rc.Rise
		}
		if rc.Fall != nil {
			cc.Fall = *rc.Fall
		}
		if rc.Weight != nil {
			cc.Weight = *rc.Weight
			cc.Effect = "weight" // a weight says what the check does
		}
		if rc.Effect != nil {
			cc.Effect = *rc.Effect
		}
		if cc.Interface == "" && cc.Method == "arp" {
			cc.Interface = sc.Interface
		}
		if cc.Name == "" && cc.Kind != "" {
			names[cc.Kind]++
			cc.Name = cc.Kind
			if n := names[cc.Kind]; n > 1 {
				cc.Name += "-" + strconv.Itoa(n)
			}
		}
		// Which fields the kind does not use were given: validated below.
		p.checkUnused(ck, rc)
		sc.Checks = append(sc.Checks, cc)
	}
}

// checkUnused reports keys that the check's kind does not read.
func (p *parser) checkUnused(ck string, rc rawCheck) {
	only := func(key string, set bool, kinds ...string) {
		if !set || !slices.Contains(CheckKinds, rc.Kind) {
			return // a missing or unknown kind is reported by itself
		}
		for _, k := range kinds {
			if rc.Kind == k {
				return
			}
		}
		p.problem(ck+"."+key, "only for kind = %s, not %q", quoteJoin(kinds, " or "), rc.Kind)
	}
	only("command", rc.Command != nil, "exec")
	only("target", rc.Target != "", "tcp", "http", "ping")
	only("method", rc.Method != nil, "ping")
	only("interface", rc.Interface != "", "ping")
	only("status", rc.Status != nil, "http")
	only("body", rc.Body != "", "http")
}

func quoteJoin(ss []string, sep string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, sep)
}

// validateChecks checks the [[service.check]] tables and notify of service
// k, including that the weights cannot make this node's priority negative.
func (p *parser) validateChecks(c *Config, k string, s ServiceConfig) {
	p.validateCommand(k+".notify", s.Notify)
	seen := map[string]bool{}
	self := s.Priority[c.Node]
	weights := 0
	for j, cc := range s.Checks {
		ck := k + ".check." + strconv.Itoa(j)
		if cc.Name != "" {
			if seen[cc.Name] {
				p.problem(ck+".name", "check %q defined twice in service %q: give each check its own name", cc.Name, s.Name)
			}
			seen[cc.Name] = true
			if len(cc.Name) > 64 || strings.ContainsAny(cc.Name, " \t\n\"\\") {
				p.problem(ck+".name", "%q: at most 64 bytes, no blanks, quotes or backslashes", cc.Name)
			}
		}
		switch cc.Kind {
		case "":
			p.problem(ck+".kind", "missing: %s", quoteJoin(CheckKinds, ", "))
		case "exec":
			p.validateCommand(ck+".command", cc.Command)
			if len(cc.Command) == 0 {
				p.problem(ck+".command", "missing: the command to run, like [\"/usr/local/bin/check-web\"]")
			}
		case "tcp":
			if cc.Target == "" {
				p.problem(ck+".target", "missing: the \"host:port\" to connect to, like \"127.0.0.1:5432\"")
			} else if _, port, err := splitHostPort(cc.Target); err != nil {
				p.problem(ck+".target", "%q is not host:port like \"127.0.0.1:5432\"", cc.Target)
			} else if port == 0 {
				p.problem(ck+".target", "%q: port 0", cc.Target)
			}
		case "http":
			if cc.Target == "" {
				p.problem(ck+".target", "missing: the URL to GET, like \"http://127.0.0.1/health\"")
			} else if u, err := url.Parse(cc.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.problem(ck+".target", "%q is not an http:// or https:// URL", cc.Target)
			}
			if cc.Status < 100 || cc.Status > 599 {
				p.problem(ck+".status", "%d is not an HTTP status (100..599)", cc.Status)
			}
		case "ping":
			a, err := netip.ParseAddr(cc.Target)
			switch {
			case cc.Target == "":
				p.problem(ck+".target", "missing: the address to ping, like the gateway's \"198.18.1.254\"")
			case err != nil:
				p.problem(ck+".target", "%q is not an IP address (ping takes an address, not a name)", cc.Target)
			case a.IsUnspecified() || a.IsMulticast():
				p.problem(ck+".target", "%s is not a host address", a)
			case cc.Method == "arp" && !a.Is4():
				p.problem(ck+".target", "%s: method \"arp\" needs an IPv4 address", a)
			}
			switch cc.Method {
			case "icmp", "arp":
			default:
				p.problem(ck+".method", "%q: want %s", cc.Method, quoteJoin(PingMethods, " or "))
			}
		default:
			p.problem(ck+".kind", "%q is not a check kind: want %s", cc.Kind, quoteJoin(CheckKinds, ", "))
		}
		if cc.Interval <= 0 {
			p.problem(ck+".interval", "must be more than 0")
		}
		if cc.Timeout <= 0 {
			p.problem(ck+".timeout", "must be more than 0")
		} else if cc.Timeout > cc.Interval && cc.Interval > 0 {
			p.problem(ck+".timeout", "%s is longer than the interval %s: a run would still be going when the next is due", cc.Timeout, cc.Interval)
		}
		if cc.Rise < 1 || cc.Rise > 100 {
			p.problem(ck+".rise", "%d is out of range 1..100", cc.Rise)
		}
		if cc.Fall < 1 || cc.Fall > 100 {
			p.problem(ck+".fall", "%d is out of range 1..100", cc.Fall)
		}
		switch cc.Effect {
		case "fail":
			if cc.Weight != 0 {
				p.problem(ck+".weight", "only with effect = \"weight\"")
			}
		case "weight":
			if cc.Weight < 1 || cc.Weight > 255 {
				p.problem(ck+".weight", "%d is out of range 1..255 (effect = \"weight\" lowers the priority by it)", cc.Weight)
				continue
			}
			weights += cc.Weight
			if weights > self {
				p.problem(ck+".weight", "the weights of service %q's checks add up to %d, more than this node's priority %d: the priority would go negative",
					s.Name, weights, self)
			}
		default:
			p.problem(ck+".effect", "%q: want %s", cc.Effect, quoteJoin(CheckEffects, " or "))
		}
	}
}

// validateCommand checks an argv (notify, command): the program first.
func (p *parser) validateCommand(key string, argv []string) {
	if argv == nil {
		return
	}
	switch {
	case len(argv) == 0:
		p.problem(key, "empty: give the program and its arguments, like [\"/usr/local/bin/failover-hook\", \"web\"]")
	case strings.TrimSpace(argv[0]) == "":
		p.problem(key, "the program (the first element) is empty")
	}
}

// validateNotify checks the global notify, notify_fifo, notify_timeout and
// metrics_listen.
func (p *parser) validateNotify(c *Config) {
	p.validateCommand("notify", c.Notify)
	if c.NotifyFIFO != "" && !filepath.IsAbs(c.NotifyFIFO) {
		p.problem("notify_fifo", "%q is not an absolute path", c.NotifyFIFO)
	}
	if c.NotifyTimeout <= 0 {
		p.problem("notify_timeout", "must be more than 0: a hook that hangs is killed at it")
	}
	if c.MetricsListen != "" {
		if _, port, err := splitHostPort(c.MetricsListen); err != nil {
			p.problem("metrics_listen", "%q is not addr:port like \"127.0.0.1:9406\"", c.MetricsListen)
		} else if port == 0 {
			p.problem("metrics_listen", "%q: give a port, like \"127.0.0.1:9406\"", c.MetricsListen)
		}
	}
}

// splitHostPort splits "host:port" with a numeric port.
func splitHostPort(s string) (string, uint16, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("no port")
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]")
	n, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		return "", 0, err
	}
	return host, uint16(n), nil
}
