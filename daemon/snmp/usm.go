package snmp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

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

func (a AuthProtocol) gosnmp() gosnmp.SnmpV3AuthProtocol {
	switch a {
	case SHA:
		return gosnmp.SHA
	case SHA224:
		return gosnmp.SHA224
	case SHA384:
		return gosnmp.SHA384
	case SHA512:
		return gosnmp.SHA512
	}
	return gosnmp.SHA256
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

func (p PrivProtocol) gosnmp() gosnmp.SnmpV3PrivProtocol {
	switch p {
	case AES192:
		return gosnmp.AES192
	case AES256:
		return gosnmp.AES256
	case AES192C:
		return gosnmp.AES192C
	case AES256C:
		return gosnmp.AES256C
	}
	return gosnmp.AES
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

// USM is the SNMPv3 user the notifications are sent as.
type USM struct {
	User           string
	Level          SecurityLevel
	Auth           AuthProtocol
	AuthPassphrase string // used when Level.Auth()
	Priv           PrivProtocol
	PrivPassphrase string // used when Level.Priv()
	// EngineID is this sender's snmpEngineID (5..32 octets), the
	// authoritative engine of its notifications: receivers localize the
	// user's keys with it (Net-SNMP: createUser -e 0x<hex>).
	EngineID []byte
}

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

// bootsEpoch is where snmpEngineBoots counts from (see engineBoots):
// 2020-01-01 00:00:00 UTC in Unix seconds.
const bootsEpoch = 1577836800

// engineBoots is the snmpEngineBoots of an engine started at start: the
// seconds from 2020-01-01 to start. It grows from one start to the next
// without a state file, which is what RFC 3414 asks of it (a receiver
// drops a notification whose boots went back); it stays within the
// counter's 2^31-1 until 2088.
func engineBoots(start time.Time) uint32 {
	s := start.Unix() - bootsEpoch
	return uint32(min(max(s, 1), 2147483646))
}

// engineTime is the snmpEngineTime at now: seconds since start.
func engineTime(start, now time.Time) uint32 {
	return uint32(min(max(now.Sub(start)/time.Second, 0), 2147483647))
}
