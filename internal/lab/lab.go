package lab

import "fmt"

// MaxHosts is the largest rack New builds.
const MaxHosts = 16

// Options describe the rack to build.
type Options struct {
	Hosts    int      // 1..16, hosts named "h1".."hN"
	Serial   [][2]int // pairs of host numbers (1-based) joined by a null-modem cable
	NoClient bool     // a client host "client" on bridge A is built unless set
}

// Direction selects which packets a Drop applies to, seen from the host.
type Direction int

const (
	DirBoth     Direction = iota // both directions
	DirToHost                    // frames the switch would deliver to the host
	DirFromHost                  // frames the host sends into the switch
)

func (d Direction) String() string {
	switch d {
	case DirBoth:
		return "both"
	case DirToHost:
		return "to-host"
	case DirFromHost:
		return "from-host"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// validate reports every problem with o at once.
func (o Options) validate() error {
	var errs []error
	if o.Hosts < 1 || o.Hosts > MaxHosts {
		errs = append(errs, fmt.Errorf("hosts = %d: a rack has 1..%d hosts", o.Hosts, MaxHosts))
	}
	seen := map[[2]int]bool{}
	for _, p := range o.Serial {
		a, b := p[0], p[1]
		switch {
		case a < 1 || a > o.Hosts || b < 1 || b > o.Hosts:
			errs = append(errs, fmt.Errorf("serial %d-%d: names a host that does not exist (hosts are 1..%d)", a, b, o.Hosts))
			continue
		case a == b:
			errs = append(errs, fmt.Errorf("serial %d-%d: a cable joins two different hosts", a, b))
			continue
		}
		k := [2]int{min(a, b), max(a, b)}
		if seen[k] {
			errs = append(errs, fmt.Errorf("serial %d-%d: hosts already joined by a cable", a, b))
		}
		seen[k] = true
	}
	if len(errs) == 0 {
		return nil
	}
	return joinErrs("lab: impossible topology", errs)
}

func joinErrs(prefix string, errs []error) error {
	msg := prefix + ": "
	for i, e := range errs {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return &topologyError{msg: msg, errs: errs}
}

type topologyError struct {
	msg  string
	errs []error
}

func (e *topologyError) Error() string   { return e.msg }
func (e *topologyError) Unwrap() []error { return e.errs }
