package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultEnterprise is the OID FAILOVER-MIB sits at unless the config
// names another. 99999 is a PLACEHOLDER, not a Private Enterprise Number
// assigned to this project: a site sets its own arc (and edits the MIB's
// MODULE-IDENTITY to match).
const DefaultEnterprise = "1.3.6.1.4.1.99999"

// Version is the SNMP version of the notifications.
type Version int

const (
	V2c Version = iota // community-based SNMPv2c
	V3                 // SNMPv3 with the User-based Security Model
)

func (v Version) String() string {
	switch v {
	case V2c:
		return "2c"
	case V3:
		return "3"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// SecurityLevel is the USM security level of SNMPv3 notifications. The
// zero value is AuthPriv.
type SecurityLevel int

const (
	AuthPriv     SecurityLevel = iota // authenticated and encrypted
	AuthNoPriv                        // authenticated, in clear text
	NoAuthNoPriv                      // neither: a user name only
)

func (l SecurityLevel) String() string {
	switch l {
	case AuthPriv:
		return "authPriv"
	case AuthNoPriv:
		return "authNoPriv"
	case NoAuthNoPriv:
		return "noAuthNoPriv"
	}
	return fmt.Sprintf("SecurityLevel(%d)", int(l))
}

// Auth reports whether l authenticates; Priv whether it encrypts.
func (l SecurityLevel) Auth() bool { return l == AuthPriv || l == AuthNoPriv }
func (l SecurityLevel) Priv() bool { return l == AuthPriv }

// ParseSecurityLevel parses "authPriv", "authNoPriv" or "noAuthNoPriv"
// (any case).
func ParseSecurityLevel(s string) (SecurityLevel, error) {
	for _, l := range []SecurityLevel{AuthPriv, AuthNoPriv, NoAuthNoPriv} {
		if strings.EqualFold(strings.TrimSpace(s), l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("snmp: %q is not a security level (want \"authPriv\", \"authNoPriv\" or \"noAuthNoPriv\")", s)
}

// AuthProtocol is the USM authentication protocol (HMAC, RFC 3414 and
// RFC 7860). The zero value is SHA256.
type AuthProtocol int

const (
	SHA256 AuthProtocol = iota // HMAC-SHA-256-192 (RFC 7860)
	SHA                        // HMAC-SHA-96 (RFC 3414), for receivers without SHA-2
	SHA224                     // HMAC-SHA-224-128
	SHA384                     // HMAC-SHA-384-256
	SHA512                     // HMAC-SHA-512-384
)

func (a AuthProtocol) String() string {
	switch a {
	case SHA256:
		return "SHA-256"
	case SHA:
		return "SHA"
	case SHA224:
		return "SHA-224"
	case SHA384:
		return "SHA-384"
	case SHA512:
		return "SHA-512"
	}
	return fmt.Sprintf("AuthProtocol(%d)", int(a))
}

// ParseAuthProtocol parses the Net-SNMP names SHA (also SHA-1), SHA-224,
// SHA-256, SHA-384 and SHA-512, in any case and with or without the dash.
// MD5 is refused.
func ParseAuthProtocol(s string) (AuthProtocol, error) {
	n := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	switch n {
	case "SHA", "SHA1":
		return SHA, nil
	case "SHA224":
		return SHA224, nil
	case "SHA256":
		return SHA256, nil
	case "SHA384":
		return SHA384, nil
	case "SHA512":
		return SHA512, nil
	case "MD5":
		return 0, fmt.Errorf("snmp: %q is not accepted: HMAC-MD5 is too weak; use \"SHA-256\" (or \"SHA\" for receivers without SHA-2)", s)
	}
	return 0, fmt.Errorf("snmp: %q is not an auth protocol (want \"SHA-256\", \"SHA\", \"SHA-224\", \"SHA-384\" or \"SHA-512\")", s)
}

// PrivProtocol is the USM privacy protocol. The zero value is AES128.
type PrivProtocol int

const (
	AES128  PrivProtocol = iota // CFB128-AES-128 (RFC 3826), "AES" to Net-SNMP
	AES192                      // AES-192, key extension of draft-blumenthal-aes-usm (Net-SNMP's)
	AES256                      // AES-256, as AES192
	AES192C                     // AES-192, key extension of draft-reeder-snmpv3-usm-3desede (Cisco's)
	AES256C                     // AES-256, as AES192C
)

func (p PrivProtocol) String() string {
	switch p {
	case AES128:
		return "AES"
	case AES192:
		return "AES-192"
	case AES256:
		return "AES-256"
	case AES192C:
		return "AES-192-C"
	case AES256C:
		return "AES-256-C"
	}
	return fmt.Sprintf("PrivProtocol(%d)", int(p))
}

// ParsePrivProtocol parses AES (also AES-128), AES-192, AES-256,
// AES-192-C and AES-256-C, in any case and with or without dashes. DES is
// refused.
func ParsePrivProtocol(s string) (PrivProtocol, error) {
	n := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	switch n {
	case "AES", "AES128":
		return AES128, nil
	case "AES192":
		return AES192, nil
	case "AES256":
		return AES256, nil
	case "AES192C":
		return AES192C, nil
	case "AES256C":
		return AES256C, nil
	case "DES", "3DES":
		return 0, fmt.Errorf("snmp: %q is not accepted: DES is broken; use \"AES\"", s)
	}
	return 0, fmt.Errorf("snmp: %q is not a privacy protocol (want \"AES\", \"AES-192\", \"AES-256\", \"AES-192-C\" or \"AES-256-C\")", s)
}

// MinPassphrase is the shortest USM passphrase, in bytes (RFC 3414,
// section 11.2; Net-SNMP refuses shorter ones too).
const MinPassphrase = 8

// ParseEngineID parses an snmpEngineID written in hex, with or without a
// leading 0x ("0x80001f88046e6f646531"). It must be 5..32 octets and not
// all zeros or all ones (RFC 3411).
func ParseEngineID(s string) ([]byte, error) {
	h := strings.TrimSpace(s)
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("snmp: engine ID %q is not hex, like \"0x80001f88046e6f646531\"", s)
	}
	if len(b) < 5 || len(b) > 32 {
		return nil, fmt.Errorf("snmp: engine ID %q is %d octets; want 5 to 32", s, len(b))
	}
	if strings.Trim(h, "0") == "" || strings.Trim(strings.ToLower(h), "f") == "" {
		return nil, fmt.Errorf("snmp: engine ID %q is all zeros or all ones, which RFC 3411 forbids", s)
	}
	return b, nil
}

// FormatEngineID writes id as Net-SNMP takes it: "0x" and lowercase hex.
func FormatEngineID(id []byte) string { return "0x" + hex.EncodeToString(id) }

// DefaultEngineID derives a sender's engine ID from the enterprise arc
// and the node name, in the RFC 3411 layout: the Private Enterprise Number
// with its top bit set, then format 4 and the node name as text (format 5
// and 27 octets of the name's SHA-256 for a name over 27 bytes). The PEN
// is the arc after 1.3.6.1.4.1 in enterprise, or the placeholder 99999
// when enterprise is not under it. Distinct node names give distinct IDs.
func DefaultEngineID(enterprise, node string) []byte {
	pen := uint32(99999)
	if rest, ok := strings.CutPrefix(enterprise, "1.3.6.1.4.1."); ok {
		first, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.ParseUint(first, 10, 31); err == nil {
			pen = uint32(n)
		}
	}
	id := binary.BigEndian.AppendUint32(nil, pen|0x80000000)
	if len(node) <= 27 {
		return append(append(id, 4), node...)
	}
	sum := sha256.Sum256([]byte(node))
	return append(append(id, 5), sum[:27]...)
}

// maxArcs bounds an enterprise OID so that its longest varbind name
// (enterprise.1.N.0) stays within the 128 sub-identifiers SNMP allows.
const maxArcs = 128 - 3

// ErrBadOID is returned by CheckOID for a value that is not a dotted
// object identifier.
var ErrBadOID = errors.New("not a dotted object identifier")

// CheckOID checks that s is a dotted numeric OID usable as the enterprise
// arc ("1.3.6.1.4.1.99999"; a leading dot is allowed) and returns it
// without the leading dot. Errors wrap ErrBadOID.
func CheckOID(s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), ".")
	arcs := strings.Split(t, ".")
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("snmp: %q is %w: %s", s, ErrBadOID, why)
	}
	if t == "" || len(arcs) < 2 {
		return bad("give at least two arcs, like \"1.3.6.1.4.1.99999\"")
	}
	if len(arcs) > maxArcs {
		return bad(fmt.Sprintf("more than %d arcs", maxArcs))
	}
	var first uint64
	for i, a := range arcs {
		if a == "" || strings.TrimLeft(a, "0123456789") != "" || (len(a) > 1 && a[0] == '0') {
			return bad(fmt.Sprintf("arc %d (%q) is not a number", i+1, a))
		}
		n, err := strconv.ParseUint(a, 10, 32)
		if err != nil {
			return bad(fmt.Sprintf("arc %d (%s) is over 4294967295", i+1, a))
		}
		switch {
		case i == 0 && n > 2:
			return bad("the first arc is 0, 1 or 2")
		case i == 0:
			first = n
		case i == 1 && first < 2 && n > 39:
			return bad("under 0 and 1 the second arc is at most 39")
		}
	}
	return t, nil
}
