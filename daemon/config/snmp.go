package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strings"
)

// SNMPConfig is the optional [snmp] table: where state-change traps go
// and how they are secured.
type SNMPConfig struct {
	TrapTargets []netip.AddrPort // receivers; none = traps off
	Version     string           // "2c" or "3"
	Community   string           // version 2c: the community
	// EnterpriseOID is where FAILOVER-MIB sits, dotted. The default is a
	// PLACEHOLDER (DefaultEnterprise), not an IANA assignment.
	EnterpriseOID string

	// Version 3 (USM) only.
	User           string
	SecurityLevel  SecurityLevel
	AuthProtocol   AuthProtocol
	AuthPassphrase Secret // auth_passphrase, or the content of auth_passphrase_file
	PrivProtocol   PrivProtocol
	PrivPassphrase Secret // priv_passphrase, or the content of priv_passphrase_file
	EngineID       []byte // this node's snmpEngineID
}

// DefaultSNMP returns the defaults of the [snmp] table. EngineID has none
// here: it is derived from the node name (see the parser).
func DefaultSNMP() SNMPConfig {
	return SNMPConfig{
		// Off: traps go nowhere until a receiver is named.
		TrapTargets: nil,
		// v2c: every receiver takes it with one community line; v3 needs the
		// user created on the receiver with each node's engine ID.
		Version: "2c",
		// The community every trap receiver accepts out of the box; traps
		// carry only state names, which the heartbeats show anyway.
		Community: "public",
		// PLACEHOLDER, not assigned by IANA: it matches the shipped MIB, so
		// traps decode out of the box; a site sets its own PEN arc.
		EnterpriseOID: DefaultEnterprise,
		// v3 is chosen for authentication and privacy; less is a choice the
		// config should show.
		SecurityLevel: AuthPriv,
		// HMAC-SHA-256 (RFC 7860): Net-SNMP 5.8+ and current NMSs take it;
		// "SHA" remains for older receivers.
		AuthProtocol: SHA256,
		// AES-128 (RFC 3826) is the one AES all USM implementations share;
		// the 192/256-bit key extensions differ between vendors.
		PrivProtocol: AES128,
	}
}

// Secret is a passphrase. It prints and logs as "[redacted]" so that a
// Config written out by mistake does not show it; Reveal returns it.
type Secret string

// Reveal returns the passphrase.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the passphrase.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue keeps slog from printing the passphrase.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders from writing the passphrase.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

type rawSNMP struct {
	TrapTargets        []string `toml:"trap_targets"`
	Version            *string  `toml:"version"`
	Community          *string  `toml:"community"`
	EnterpriseOID      *string  `toml:"enterprise_oid"`
	User               *string  `toml:"user"`
	SecurityLevel      *string  `toml:"security_level"`
	AuthProtocol       *string  `toml:"auth_protocol"`
	AuthPassphrase     *string  `toml:"auth_passphrase"`
	AuthPassphraseFile *string  `toml:"auth_passphrase_file"`
	PrivProtocol       *string  `toml:"priv_protocol"`
	PrivPassphrase     *string  `toml:"priv_passphrase"`
	PrivPassphraseFile *string  `toml:"priv_passphrase_file"`
	EngineID           *string  `toml:"engine_id"`
}

// snmpMsg is an error of package snmp as a config problem's text.
func snmpMsg(err error) string { return strings.TrimPrefix(err.Error(), "snmp: ") }

// snmp reads and checks the [snmp] table of this node; the engine ID
// defaults from node. Every problem is recorded; the result is usable
// only when there are none.
func (p *parser) snmp(r *rawSNMP, node string) SNMPConfig {
	s := DefaultSNMP()
	seen := map[netip.AddrPort]bool{}
	for i, t := range r.TrapTargets {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(t))
		switch {
		case err != nil || ap.Port() == 0:
			p.problem("snmp.trap_targets", "%q (entry %d) is not addr:port like \"198.18.1.250:162\"", t, i+1)
			continue
		case ap.Addr().IsUnspecified() || ap.Addr().IsMulticast():
			p.problem("snmp.trap_targets", "%s is not a host address", ap)
		case seen[ap]:
			p.problem("snmp.trap_targets", "%s listed twice", ap)
		}
		seen[ap] = true
		s.TrapTargets = append(s.TrapTargets, ap)
	}
	if r.EnterpriseOID != nil {
		if oid, err := CheckOID(*r.EnterpriseOID); err != nil {
			p.problem("snmp.enterprise_oid", "%s", snmpMsg(err))
		} else {
			s.EnterpriseOID = oid
		}
	}
	if r.Version != nil {
		s.Version = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(*r.Version)), "v")
	}
	// Keys of the other version are refused: they would be silently unused.
	v3Keys := []struct {
		key string
		set bool
	}{
		{"user", r.User != nil}, {"security_level", r.SecurityLevel != nil},
		{"auth_protocol", r.AuthProtocol != nil}, {"auth_passphrase", r.AuthPassphrase != nil},
		{"auth_passphrase_file", r.AuthPassphraseFile != nil}, {"priv_protocol", r.PrivProtocol != nil},
		{"priv_passphrase", r.PrivPassphrase != nil}, {"priv_passphrase_file", r.PrivPassphraseFile != nil},
		{"engine_id", r.EngineID != nil},
	}
	switch s.Version {
	case "2c":
		if r.Community != nil {
			s.Community = *r.Community
		}
		if s.Community == "" {
			p.problem("snmp.community", "empty: give the receivers' community, like \"public\"")
		} else if len(s.Community) > 255 || strings.ContainsFunc(s.Community, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			p.problem("snmp.community", "must be 1..255 printable bytes")
		}
		for _, k := range v3Keys {
			if k.set {
				p.problem("snmp."+k.key, "only for version = \"3\" (this table has version = \"2c\")")
			}
		}
		return s
	case "3":
	default:
		p.problem("snmp.version", "%q is not supported: \"2c\" or \"3\"", *r.Version)
		return s
	}

	// Version 3.
	s.Community = ""
	if r.Community != nil {
		p.problem("snmp.community", "only for version = \"2c\": version 3 authenticates with user and passphrases")
	}
	if r.User == nil || *r.User == "" {
		p.problem("snmp.user", "missing: the USM user name the receivers know, like \"failover\"")
	} else if s.User = *r.User; len(s.User) > 32 || strings.ContainsFunc(s.User, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		p.problem("snmp.user", "%q: want 1..32 printable bytes", s.User)
	}
	if r.SecurityLevel != nil {
		if l, err := ParseSecurityLevel(*r.SecurityLevel); err != nil {
			p.problem("snmp.security_level", "%s", snmpMsg(err))
		} else {
			s.SecurityLevel = l
		}
	}
	if r.AuthProtocol != nil {
		if a, err := ParseAuthProtocol(*r.AuthProtocol); err != nil {
			p.problem("snmp.auth_protocol", "%s", snmpMsg(err))
		} else {
			s.AuthProtocol = a
		}
	}
	if r.PrivProtocol != nil {
		if pp, err := ParsePrivProtocol(*r.PrivProtocol); err != nil {
			p.problem("snmp.priv_protocol", "%s", snmpMsg(err))
		} else {
			s.PrivProtocol = pp
		}
	}
	lvl := s.SecurityLevel
	s.AuthPassphrase = p.passphrase("auth", lvl.Auth(), r.AuthPassphrase, r.AuthPassphraseFile, r.AuthProtocol != nil, lvl)
	s.PrivPassphrase = p.passphrase("priv", lvl.Priv(), r.PrivPassphrase, r.PrivPassphraseFile, r.PrivProtocol != nil, lvl)
	if r.EngineID != nil {
		if id, err := ParseEngineID(*r.EngineID); err != nil {
			p.problem("snmp.engine_id", "%s", snmpMsg(err))
		} else {
			s.EngineID = id
		}
	} else {
		// Unique per node without configuration; failoverd logs it for the
		// receivers' createUser -e.
		s.EngineID = DefaultEngineID(s.EnterpriseOID, node)
	}
	return s
}

// passphrase reads the auth or priv passphrase (what) of a v3 table, from
// <what>_passphrase or from the file <what>_passphrase_file, when the
// security level uses it (need), and refuses it when the level does not.
// protoSet says <what>_protocol was given.
func (p *parser) passphrase(what string, need bool, val, file *string, protoSet bool, lvl SecurityLevel) Secret {
	key, fileKey := "snmp."+what+"_passphrase", "snmp."+what+"_passphrase_file"
	if !need {
		for _, k := range []struct {
			key string
			set bool
		}{{key, val != nil}, {fileKey, file != nil}, {"snmp." + what + "_protocol", protoSet}} {
			if k.set {
				p.problem(k.key, "has no effect with security_level = %q", lvl)
			}
		}
		return ""
	}
	var pass string
	switch {
	case val != nil && file != nil:
		p.problem(fileKey, "give %s_passphrase or %s_passphrase_file, not both", what, what)
		return ""
	case val != nil:
		pass = *val
	case file != nil:
		var ok bool
		if pass, ok = p.secretFile(fileKey, *file); !ok {
			return ""
		}
		key = fileKey
	default:
		p.problem(key, "missing: security_level = %q needs %s_passphrase (or %s_passphrase_file naming a file that holds it)", lvl, what, what)
		return ""
	}
	if len(pass) < MinPassphrase {
		p.problem(key, "too short: %d characters; SNMPv3 needs at least %d (RFC 3414)", len(pass), MinPassphrase)
		return ""
	}
	return Secret(pass)
}

// secretFile reads a passphrase file: one line, readable by its owner only.
func (p *parser) secretFile(key, path string) (string, bool) {
	if path == "" {
		p.problem(key, "empty: give the path of a file (mode 0600) that holds the passphrase")
		return "", false
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.problem(key, "%s does not exist", path)
		return "", false
	case errors.Is(err, fs.ErrPermission):
		p.problem(key, "%s: permission denied: run as root or as the file's owner", path)
		return "", false
	case err != nil:
		p.problem(key, "%s: %v", path, err)
		return "", false
	case !st.Mode().IsRegular():
		p.problem(key, "%s is not a regular file", path)
		return "", false
	case st.Mode().Perm()&0o077 != 0:
		p.problem(key, "%s is readable or writable by others (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path)
		return "", false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			p.problem(key, "%s: permission denied: run as root or as the file's owner", path)
		} else {
			p.problem(key, "%s: %v", path, err)
		}
		return "", false
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.ContainsAny(pass, "\r\n") {
		p.problem(key, "%s holds more than one line; put the passphrase alone on the first", path)
		return "", false
	}
	return pass, true
}
