package snmp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/google/go-cmp/cmp"
)

func TestParseProtocols(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want config.AuthProtocol
		err  string
	}{
		{"SHA-256", config.SHA256, ""}, {"sha256", config.SHA256, ""}, {"SHA", config.SHA, ""}, {"SHA-1", config.SHA, ""},
		{"SHA-224", config.SHA224, ""}, {"SHA-384", config.SHA384, ""}, {" SHA-512 ", config.SHA512, ""},
		{"MD5", 0, "too weak"}, {"SHA-3", 0, "not an auth protocol"}, {"", 0, "not an auth protocol"},
	} {
		got, err := config.ParseAuthProtocol(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAuthProtocol(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAuthProtocol(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := config.ParseAuthProtocol(got.String()); err != nil || back != got {
			t.Errorf("ParseAuthProtocol(%q.String()) = %v, %v", got, back, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want config.PrivProtocol
		err  string
	}{
		{"AES", config.AES128, ""}, {"aes-128", config.AES128, ""}, {"AES-192", config.AES192, ""}, {"AES256", config.AES256, ""},
		{"AES-192-C", config.AES192C, ""}, {"aes256c", config.AES256C, ""},
		{"DES", 0, "broken"}, {"AES-512", 0, "not a privacy protocol"},
	} {
		got, err := config.ParsePrivProtocol(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePrivProtocol(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePrivProtocol(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := config.ParsePrivProtocol(got.String()); err != nil || back != got {
			t.Errorf("ParsePrivProtocol(%q.String()) = %v, %v", got, back, err)
		}
	}
	for in, want := range map[string]config.SecurityLevel{"authPriv": config.AuthPriv, "AUTHNOPRIV": config.AuthNoPriv, "noAuthNoPriv": config.NoAuthNoPriv} {
		if got, err := config.ParseSecurityLevel(in); err != nil || got != want {
			t.Errorf("ParseSecurityLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := config.ParseSecurityLevel("priv"); err == nil {
		t.Error(`ParseSecurityLevel("priv") accepted`)
	}
}

func TestEngineID(t *testing.T) {
	for _, tc := range []struct {
		enterprise, node, want string
	}{
		// 0x80000000 | 99999, format 4 (text), "n1".
		{config.DefaultEnterprise, "n1", "0x8001869f046e31"},
		{"1.3.6.1.4.1.12345.7", "node-a", "0x80003039046e6f64652d61"},
		// Not under enterprises: the placeholder PEN.
		{"1.3.6.1.2.1.99", "n1", "0x8001869f046e31"},
		// 28 bytes: format 5, 27 octets of SHA-256.
		{config.DefaultEnterprise, strings.Repeat("n", 28), "0x8001869f05"},
	} {
		id := config.DefaultEngineID(tc.enterprise, tc.node)
		got := config.FormatEngineID(id)
		if !strings.HasPrefix(got, tc.want) || len(id) > 32 || len(id) < 5 {
			t.Errorf("DefaultEngineID(%s, %s) = %s (%d octets), want %s...", tc.enterprise, tc.node, got, len(id), tc.want)
		}
		if back, err := config.ParseEngineID(got); err != nil || !cmp.Equal(back, id) {
			t.Errorf("ParseEngineID(%s) = %x, %v", got, back, err)
		}
	}
	if a, b := config.DefaultEngineID(config.DefaultEnterprise, strings.Repeat("n", 27)+"a"), config.DefaultEngineID(config.DefaultEnterprise, strings.Repeat("n", 27)+"b"); cmp.Equal(a, b) {
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
		_, err := config.ParseEngineID(in)
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
		if got, err := config.CheckOID(in); err != nil || got != want {
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
		_, err := config.CheckOID(in)
		if err == nil || !errors.Is(err, config.ErrBadOID) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckOID(%q) = %v, want ErrBadOID with %q", in, err, want)
		}
	}
}
