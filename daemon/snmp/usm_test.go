package snmp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/failover-ha/failover/daemon/snmp"
)

func TestParseProtocols(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want snmp.AuthProtocol
		err  string
	}{
		{"SHA-256", snmp.SHA256, ""}, {"sha256", snmp.SHA256, ""}, {"SHA", snmp.SHA, ""}, {"SHA-1", snmp.SHA, ""},
		{"SHA-224", snmp.SHA224, ""}, {"SHA-384", snmp.SHA384, ""}, {" SHA-512 ", snmp.SHA512, ""},
		{"MD5", 0, "too weak"}, {"SHA-3", 0, "not an auth protocol"}, {"", 0, "not an auth protocol"},
	} {
		got, err := snmp.ParseAuthProtocol(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAuthProtocol(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAuthProtocol(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := snmp.ParseAuthProtocol(got.String()); err != nil || back != got {
			t.Errorf("ParseAuthProtocol(%q.String()) = %v, %v", got, back, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want snmp.PrivProtocol
		err  string
	}{
		{"AES", snmp.AES128, ""}, {"aes-128", snmp.AES128, ""}, {"AES-192", snmp.AES192, ""}, {"AES256", snmp.AES256, ""},
		{"AES-192-C", snmp.AES192C, ""}, {"aes256c", snmp.AES256C, ""},
		{"DES", 0, "broken"}, {"AES-512", 0, "not a privacy protocol"},
	} {
		got, err := snmp.ParsePrivProtocol(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePrivProtocol(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePrivProtocol(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := snmp.ParsePrivProtocol(got.String()); err != nil || back != got {
			t.Errorf("ParsePrivProtocol(%q.String()) = %v, %v", got, back, err)
		}
	}
	for in, want := range map[string]snmp.SecurityLevel{"authPriv": snmp.AuthPriv, "AUTHNOPRIV": snmp.AuthNoPriv, "noAuthNoPriv": snmp.NoAuthNoPriv} {
		if got, err := snmp.ParseSecurityLevel(in); err != nil || got != want {
			t.Errorf("ParseSecurityLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := snmp.ParseSecurityLevel("priv"); err == nil {
		t.Error(`ParseSecurityLevel("priv") accepted`)
	}
}

func TestEngineID(t *testing.T) {
	for _, tc := range []struct {
		enterprise, node, want string
	}{
		// 0x80000000 | 99999, format 4 (text), "n1".
		{snmp.DefaultEnterprise, "n1", "0x8001869f046e31"},
		{"1.3.6.1.4.1.12345.7", "node-a", "0x80003039046e6f64652d61"},
		// Not under enterprises: the placeholder PEN.
		{"1.3.6.1.2.1.99", "n1", "0x8001869f046e31"},
		// 28 bytes: format 5, 27 octets of SHA-256.
		{snmp.DefaultEnterprise, strings.Repeat("n", 28), "0x8001869f05"},
	} {
		id := snmp.DefaultEngineID(tc.enterprise, tc.node)
		got := snmp.FormatEngineID(id)
		if !strings.HasPrefix(got, tc.want) || len(id) > 32 || len(id) < 5 {
			t.Errorf("DefaultEngineID(%s, %s) = %s (%d octets), want %s...", tc.enterprise, tc.node, got, len(id), tc.want)
		}
		if back, err := snmp.ParseEngineID(got); err != nil || !cmp.Equal(back, id) {
			t.Errorf("ParseEngineID(%s) = %x, %v", got, back, err)
		}
	}
	if a, b := snmp.DefaultEngineID(snmp.DefaultEnterprise, strings.Repeat("n", 27)+"a"), snmp.DefaultEngineID(snmp.DefaultEnterprise, strings.Repeat("n", 27)+"b"); cmp.Equal(a, b) {
		t.Error("two long node names share an engine ID")
	}
	for in, want := range map[string]string{
		"80001f8880":                    "",
		"0X80001F8880":                  "",
		"0x8000":                        "2 octets",
		"0x" + strings.Repeat("ab", 33): "33 octets",
		"0x80001f888":                   "not hex",
		"0xzz001f8880":                  "not hex",
		"0x0000000000":                  "all zeros",
		"0xffffffffff":                  "all ones",
	} {
		_, err := snmp.ParseEngineID(in)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseEngineID(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestCheckOID(t *testing.T) {
	for in, want := range map[string]string{
		"1.3.6.1.4.1.99999":      "1.3.6.1.4.1.99999",
		".1.3.6.1.4.1.12345.7":   "1.3.6.1.4.1.12345.7",
		"2.999.1":                "2.999.1",
		"1.3.6.1.4.1.4294967295": "1.3.6.1.4.1.4294967295",
	} {
		if got, err := snmp.CheckOID(in); err != nil || got != want {
			t.Errorf("CheckOID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                              "at least two arcs",
		"1":                             "at least two arcs",
		"1.3.6.1.4.1.":                  "arc 7",
		"1.3.6.x":                       "arc 4",
		"1.3.06":                        "arc 3",
		"3.1":                           "first arc",
		"1.40":                          "second arc",
		"1.3.6.1.4.1.4294967296":        "over 4294967295",
		"1.3.-6":                        "arc 3",
		strings.Repeat("1.", 125) + "1": "more than 125 arcs",
	} {
		_, err := snmp.CheckOID(in)
		if err == nil || !errors.Is(err, snmp.ErrBadOID) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckOID(%q) = %v, want ErrBadOID with %q", in, err, want)
		}
	}
}
