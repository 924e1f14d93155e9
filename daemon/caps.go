package daemon

import (
	"errors"
	"fmt"
	"strings"

	"github.com/failover-ha/failover/daemon/config"
)

// ErrMissingCapability is returned (wrapped) by Run when the process lacks a
// capability its configuration needs: CAP_NET_ADMIN to add and remove VIPs,
// CAP_NET_RAW for gratuitous ARP, the address probes and pinning a UDP path
// to its NIC. The message names each missing one. failoverd exits with
// status 3 on it; systemd does not restart it (the unit's
// RestartPreventExitStatus), since a restart would not bring the capability.
var ErrMissingCapability = errors.New("missing capability")

// Capability numbers (linux/capability.h).
const (
	capNetAdmin = 12
	capNetRaw   = 13
)

// capNeed is one capability a configuration needs, and what for.
type capNeed struct {
	bit  int
	name string
	why  string
}

// neededCaps lists what cfg needs: CAP_NET_ADMIN with any service,
// CAP_NET_RAW with any service or UDP path.
func neededCaps(cfg *config.Config) []capNeed {
	udp := false
	for _, p := range cfg.Paths {
		udp = udp || p.Kind == "udp"
	}
	var out []capNeed
	if len(cfg.Services) > 0 {
		out = append(out, capNeed{capNetAdmin, "CAP_NET_ADMIN", "adding and removing the VIP"})
	}
	if len(cfg.Services) > 0 || udp {
		out = append(out, capNeed{capNetRaw, "CAP_NET_RAW", "gratuitous ARP, address probes and pinning UDP paths to their NIC"})
	}
	return out
}

// checkCaps returns an error wrapping ErrMissingCapability that names every
// capability cfg needs and have says the process lacks.
func checkCaps(cfg *config.Config, have func(bit int) bool) error {
	var miss []string
	for _, n := range neededCaps(cfg) {
		if !have(n.bit) {
			miss = append(miss, n.name+" ("+n.why+")")
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("daemon: %w %s: run failoverd as root, or with AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW (the packaged failoverd.service has them; a drop-in may have removed them)",
		ErrMissingCapability, strings.Join(miss, " and "))
}
