package check

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Kind is what a check probes.
type Kind string

// Check kinds, as written in the config.
const (
	KindExec Kind = "exec" // run a command; exit 0 passes
	KindTCP  Kind = "tcp"  // connect to host:port
	KindHTTP Kind = "http" // GET a URL; status (and body) must match
	KindPing Kind = "ping" // ICMP echo or ARP who-has
)

// Kinds lists every kind, for messages.
var Kinds = []Kind{KindExec, KindTCP, KindHTTP, KindPing}

// Ping methods.
const (
	MethodICMP = "icmp" // echo request; unprivileged socket, else raw
	MethodARP  = "arp"  // who-has on Spec.Interface; IPv4 only
)

// Effect is what a failing check does to its service.
type Effect uint8

// Effects.
const (
	// EffectFail puts the service in fail on this node: it is handed to
	// the next node, and is eligible again once the check rises.
	EffectFail Effect = 1
	// EffectWeight lowers this node's priority for the service by Weight
	// while the check fails, so a better-ranked healthy node wins.
	EffectWeight Effect = 2
)

func (e Effect) String() string {
	switch e {
	case EffectFail:
		return "fail"
	case EffectWeight:
		return "weight"
	}
	return fmt.Sprintf("Effect(%d)", uint8(e))
}

// Spec is one check of one service.
type Spec struct {
	Service string // the service it guards
	Name    string // unique within the service; shown in status and metrics
	Kind    Kind

	Command []string // exec: argv; Command[0] is a path or looked up in PATH
	// Target is what is probed: tcp "host:port", http a URL, ping an
	// IP address.
	Target    string
	Method    string // ping: MethodICMP (default) or MethodARP
	Interface string // ping arp: the NIC to ask on
	Status    int    // http: the expected status (0 = 200)
	Body      string // http: a substring the body must contain ("" = any)

	Interval time.Duration // between the starts of two runs
	Timeout  time.Duration // a run that lasts longer fails
	Rise     int           // passes in a row to turn healthy
	Fall     int           // failures in a row to turn failing
	Effect   Effect
	Weight   int // EffectWeight: how much the priority drops
}

// Validate reports every problem of s at once (errors.Join), each naming
// the field. Config files are validated with file:line by package config;
// this is the scheduler's own guard.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("check %s/%s: "+format, append([]any{s.Service, s.Name}, args...)...))
	}
	if s.Name == "" {
		bad("name: empty")
	}
	switch s.Kind {
	case KindExec:
		if len(s.Command) == 0 || s.Command[0] == "" {
			bad("command: missing")
		}
	case KindTCP:
		if err := TCPTarget(s.Target); err != nil {
			bad("target: %v", err)
		}
	case KindHTTP:
		if err := HTTPTarget(s.Target); err != nil {
			bad("target: %v", err)
		}
		if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
			bad("status: %d is not an HTTP status", s.Status)
		}
	case KindPing:
		if err := PingTarget(s.Target, s.Method); err != nil {
			bad("target: %v", err)
		}
		switch s.Method {
		case "", MethodICMP:
		case MethodARP:
			if s.Interface == "" {
				bad("interface: missing for method arp")
			}
		default:
			bad("method: %q, want %q or %q", s.Method, MethodICMP, MethodARP)
		}
	default:
		bad("kind: %q, want one of %v", s.Kind, Kinds)
	}
	if s.Interval <= 0 {
		bad("interval: %v, want > 0", s.Interval)
	}
	if s.Timeout <= 0 {
		bad("timeout: %v, want > 0", s.Timeout)
	}
	if s.Rise < 1 {
		bad("rise: %d, want >= 1", s.Rise)
	}
	if s.Fall < 1 {
		bad("fall: %d, want >= 1", s.Fall)
	}
	switch s.Effect {
	case EffectFail:
	case EffectWeight:
		if s.Weight < 1 {
			bad("weight: %d, want >= 1", s.Weight)
		}
	default:
		bad("effect: %v, want fail or weight", s.Effect)
	}
	return errors.Join(errs...)
}

// TCPTarget checks a tcp target: "host:port" with a port.
func TCPTarget(t string) error {
	if t == "" {
		return errors.New("missing: \"host:port\"")
	}
	i := strings.LastIndex(t, ":")
	if i <= 0 || i == len(t)-1 {
		return fmt.Errorf("%q is not host:port", t)
	}
	return nil
}

// HTTPTarget checks an http target: an http:// or https:// URL with a host.
func HTTPTarget(t string) error {
	if t == "" {
		return errors.New("missing: a URL like \"http://127.0.0.1/health\"")
	}
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", t)
	}
	return nil
}

// PingTarget checks a ping target: an IP address (IPv4 for arp).
func PingTarget(t, method string) error {
	if t == "" {
		return errors.New("missing: the address to ping, like the gateway's")
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return fmt.Errorf("%q is not an IP address", t)
	}
	if method == MethodARP && !a.Is4() {
		return fmt.Errorf("%s: arp needs an IPv4 address", a)
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return fmt.Errorf("%s is not a host address", a)
	}
	return nil
}
