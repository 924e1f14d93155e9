package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var eqAddrPort = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

func TestConfigSNMP(t *testing.T) {
	c, err := Parse("f.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultSNMP(), c.SNMP, eqAddrPort); diff != "" {
		t.Errorf("no [snmp]: (-want +got)\n%s", diff)
	}
	if c.SNMP.EnterpriseOID != "1.3.6.1.4.1.99999" {
		t.Errorf("default enterprise_oid %q, want the placeholder 1.3.6.1.4.1.99999", c.SNMP.EnterpriseOID)
	}
	c, err = Parse("f.toml", []byte(base+"\n[snmp]\ntrap_targets = [\"198.18.1.250:162\", \"[2001:db8::1]:1162\"]\ncommunity = \"ops\"\nversion = \"2c\"\nenterprise_oid = \".1.3.6.1.4.1.12345.7\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSNMP()
	want.TrapTargets = []netip.AddrPort{netip.MustParseAddrPort("198.18.1.250:162"), netip.MustParseAddrPort("[2001:db8::1]:1162")}
	want.Community = "ops"
	want.EnterpriseOID = "1.3.6.1.4.1.12345.7"
	if diff := cmp.Diff(want, c.SNMP, eqAddrPort); diff != "" {
		t.Errorf("[snmp] (-want +got)\n%s", diff)
	}
}

// writeSecret writes a passphrase file with mode perm.
func writeSecret(t *testing.T, content string, perm os.FileMode) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return f
}

func TestConfigSNMPv3(t *testing.T) {
	privFile := writeSecret(t, "priv-pass-phrase\n", 0o600)
	c, err := Parse("f.toml", []byte(base+fmt.Sprintf(`
[snmp]
trap_targets = ["198.18.1.250:162"]
version = "3"
user = "failover"
auth_passphrase = "auth-pass-phrase"
priv_passphrase_file = %q
`, privFile)))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSNMP()
	want.TrapTargets = []netip.AddrPort{netip.MustParseAddrPort("198.18.1.250:162")}
	want.Version, want.Community, want.User = "3", "", "failover"
	want.AuthPassphrase, want.PrivPassphrase = "auth-pass-phrase", "priv-pass-phrase"
	// The default engine ID: PEN 99999 with the top bit, format 4, "n1".
	want.EngineID = []byte{0x80, 0x01, 0x86, 0x9f, 4, 'n', '1'}
	if diff := cmp.Diff(want, c.SNMP, eqAddrPort); diff != "" {
		t.Errorf("v3 defaults (-want +got)\n%s", diff)
	}

	c, err = Parse("f.toml", []byte(base+`
[snmp]
trap_targets = ["198.18.1.250:162"]
version = "v3"
enterprise_oid = "1.3.6.1.4.1.12345.7"
user = "ops"
security_level = "authnopriv"
auth_protocol = "SHA"
auth_passphrase = "12345678"
engine_id = "0x80003039056f707331"
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.SNMP
	if s.Version != "3" || s.SecurityLevel != AuthNoPriv || s.AuthProtocol != SHA || s.AuthPassphrase.Reveal() != "12345678" ||
		s.PrivPassphrase != "" || FormatEngineID(s.EngineID) != "0x80003039056f707331" || s.EnterpriseOID != "1.3.6.1.4.1.12345.7" {
		t.Errorf("v3 authNoPriv: %+v", s)
	}
	if got := fmt.Sprintf("%v %+v %#v", s, s, s); strings.Contains(got, "12345678") {
		t.Errorf("a formatted config shows the passphrase: %s", got)
	}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("x", "pass", s.AuthPassphrase)
	if strings.Contains(log.String(), "12345678") || !strings.Contains(log.String(), "[redacted]") {
		t.Errorf("the log shows the passphrase: %s", log.String())
	}
}

func TestConfigSNMPProblems(t *testing.T) {
	short := writeSecret(t, "1234567\n", 0o600)
	open := writeSecret(t, "long-enough-phrase", 0o644)
	twoLines := writeSecret(t, "long-enough-phrase\nsecond\n", 0o600)
	v3 := "version = \"3\"\nuser = \"failover\"\n"
	for _, tc := range []struct {
		name, snmp string
		want       []string
	}{
		{"bad target", `trap_targets = ["198.18.1.250"]`,
			[]string{`f.toml:20: snmp.trap_targets: "198.18.1.250" (entry 1) is not addr:port`}},
		{"port zero", `trap_targets = ["198.18.1.250:0"]`,
			[]string{`f.toml:20: snmp.trap_targets: "198.18.1.250:0" (entry 1) is not addr:port`}},
		{"multicast target", `trap_targets = ["239.1.1.1:162"]`,
			[]string{`f.toml:20: snmp.trap_targets: 239.1.1.1:162 is not a host address`}},
		{"twice", `trap_targets = ["198.18.1.250:162", "198.18.1.250:162"]`,
			[]string{`f.toml:20: snmp.trap_targets: 198.18.1.250:162 listed twice`}},
		{"version 1", `version = "1"`,
			[]string{`f.toml:20: snmp.version: "1" is not supported: "2c" or "3"`}},
		{"empty community", `community = ""`,
			[]string{`f.toml:20: snmp.community: empty`}},
		{"unknown key", `comunity = "x"`,
			[]string{`f.toml:20: snmp.comunity: unknown key (did you mean "community"?)`}},
		{"typo of a v3 key", `auth_pasphrase = "x"`,
			[]string{`f.toml:20: snmp.auth_pasphrase: unknown key (did you mean "auth_passphrase"?)`}},
		{"wrong type", `trap_targets = "198.18.1.250:162"`,
			[]string{`f.toml:20: snmp.trap_targets: want an array, got a string`}},
		{"enterprise not an OID", `enterprise_oid = "1.3.6.1.4.1.x"`,
			[]string{`f.toml:20: snmp.enterprise_oid: "1.3.6.1.4.1.x" is not a dotted object identifier: arc 7 ("x") is not a number`}},
		{"v3 key with v2c", "community = \"ops\"\nuser = \"failover\"\nauth_passphrase = \"long-enough\"",
			[]string{`f.toml:21: snmp.user: only for version = "3"`, `f.toml:22: snmp.auth_passphrase: only for version = "3"`}},
		{"community with v3", v3 + "community = \"ops\"\nauth_passphrase = \"auth-pass-phrase\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:22: snmp.community: only for version = "2c"`}},
		{"v3 without user or passphrases", `version = "3"`,
			[]string{`f.toml:19: snmp.user: missing`, `f.toml:19: snmp.auth_passphrase: missing: security_level = "authPriv" needs auth_passphrase`,
				`f.toml:19: snmp.priv_passphrase: missing: security_level = "authPriv" needs priv_passphrase`}},
		{"short auth passphrase", v3 + "auth_passphrase = \"1234567\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:22: snmp.auth_passphrase: too short: 7 characters; SNMPv3 needs at least 8 (RFC 3414)`}},
		{"short priv passphrase", v3 + "auth_passphrase = \"auth-pass-phrase\"\npriv_passphrase = \"1234\"",
			[]string{`f.toml:23: snmp.priv_passphrase: too short: 4 characters; SNMPv3 needs at least 8`}},
		{"short passphrase in a file", v3 + fmt.Sprintf("auth_passphrase_file = %q\npriv_passphrase = \"priv-pass-phrase\"", short),
			[]string{`f.toml:22: snmp.auth_passphrase_file: too short: 7 characters`}},
		{"passphrase file open to others", v3 + fmt.Sprintf("auth_passphrase = \"auth-pass-phrase\"\npriv_passphrase_file = %q", open),
			[]string{fmt.Sprintf(`f.toml:23: snmp.priv_passphrase_file: %s is readable or writable by others (mode 0644): chmod 600 %s`, open, open)}},
		{"passphrase file missing", v3 + "auth_passphrase_file = \"/nonexistent/pass\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:22: snmp.auth_passphrase_file: /nonexistent/pass does not exist`}},
		{"passphrase file of two lines", v3 + fmt.Sprintf("auth_passphrase_file = %q\npriv_passphrase = \"priv-pass-phrase\"", twoLines),
			[]string{`f.toml:22: snmp.auth_passphrase_file: ` + twoLines + ` holds more than one line`}},
		{"passphrase and file", v3 + fmt.Sprintf("auth_passphrase = \"auth-pass-phrase\"\nauth_passphrase_file = %q\npriv_passphrase = \"priv-pass-phrase\"", short),
			[]string{`f.toml:23: snmp.auth_passphrase_file: give auth_passphrase or auth_passphrase_file, not both`}},
		{"MD5", v3 + "auth_protocol = \"MD5\"\nauth_passphrase = \"auth-pass-phrase\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:22: snmp.auth_protocol: "MD5" is not accepted: HMAC-MD5 is too weak`}},
		{"DES", v3 + "priv_protocol = \"DES\"\nauth_passphrase = \"auth-pass-phrase\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:22: snmp.priv_protocol: "DES" is not accepted: DES is broken; use "AES"`}},
		{"bad security level", v3 + "security_level = \"priv\"\nauth_passphrase = \"auth-pass-phrase\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:22: snmp.security_level: "priv" is not a security level`}},
		{"priv keys with authNoPriv", v3 + "security_level = \"authNoPriv\"\nauth_passphrase = \"auth-pass-phrase\"\npriv_protocol = \"AES\"\npriv_passphrase = \"priv-pass-phrase\"",
			[]string{`f.toml:25: snmp.priv_passphrase: has no effect with security_level = "authNoPriv"`, `f.toml:24: snmp.priv_protocol: has no effect`}},
		{"auth keys with noAuthNoPriv", v3 + "security_level = \"noAuthNoPriv\"\nauth_passphrase = \"auth-pass-phrase\"",
			[]string{`f.toml:23: snmp.auth_passphrase: has no effect with security_level = "noAuthNoPriv"`}},
		{"user too long", "version = \"3\"\nuser = \"" + strings.Repeat("u", 33) + "\"\nsecurity_level = \"noAuthNoPriv\"",
			[]string{`f.toml:21: snmp.user: "` + strings.Repeat("u", 33) + `": want 1..32 printable bytes`}},
		{"engine ID short", v3 + "security_level = \"noAuthNoPriv\"\nengine_id = \"0x8000\"",
			[]string{`f.toml:23: snmp.engine_id: engine ID "0x8000" is 2 octets; want 5 to 32`}},
		{"engine ID not hex", v3 + "security_level = \"noAuthNoPriv\"\nengine_id = \"node-1\"",
			[]string{`f.toml:23: snmp.engine_id: engine ID "node-1" is not hex`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(base+"\n[snmp]\n"+tc.snmp+"\n"))
			if err == nil {
				t.Fatal("accepted")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i, lines[i], w)
				}
			}
		})
	}
}

// TestExampleSNMP: the [snmp] keys failover.toml.example documents parse,
// for version 2c and for version 3 (its passphrase files made here).
func TestExampleSNMP(t *testing.T) {
	b, err := os.ReadFile("../../failover.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "# [snmp]")
	if i < 0 {
		t.Fatal("the example has no [snmp] section")
	}
	head, block := text[:i], strings.Split(text[i:], "\n")
	uncomment := func(keep func(key string) bool) string {
		var out []string
		for _, l := range block {
			k, _, isKey := strings.Cut(strings.TrimPrefix(l, "# "), " =")
			if l == "# [snmp]" || (isKey && !strings.Contains(k, " ") && keep(k)) {
				out = append(out, strings.TrimPrefix(l, "# "))
			}
		}
		return head + strings.Join(out, "\n") + "\n"
	}
	v2 := uncomment(func(k string) bool { return k == "trap_targets" || k == "enterprise_oid" || k == "community" })
	c, err := Parse("example", []byte(v2+"version = \"2c\"\n"))
	if err != nil {
		t.Fatalf("v2c:\n%s\n%v", v2, err)
	}
	if c.SNMP.Version != "2c" || len(c.SNMP.TrapTargets) != 1 || c.SNMP.EnterpriseOID != DefaultEnterprise {
		t.Errorf("v2c: %+v", c.SNMP)
	}
	v3 := uncomment(func(k string) bool { return k != "community" })
	if strings.Count(v3, "\nversion = ") != 2 {
		t.Fatalf("the example's [snmp] should show version 2c and 3:\n%s", v3)
	}
	v3 = strings.Replace(v3, "version = \"2c\"", "", 1)
	for _, f := range []string{"/etc/failover/snmp-auth.pass", "/etc/failover/snmp-priv.pass"} {
		v3 = strings.ReplaceAll(v3, f, writeSecret(t, "example-pass-phrase\n", 0o600))
	}
	c, err = Parse("example", []byte(v3))
	if err != nil {
		t.Fatalf("v3:\n%s\n%v", v3, err)
	}
	if s := c.SNMP; s.Version != "3" || s.User != "failover" || s.PrivPassphrase.Reveal() != "example-pass-phrase" ||
		FormatEngineID(s.EngineID) != FormatEngineID(DefaultEngineID(DefaultEnterprise, "n1")) {
		t.Errorf("v3: %+v", s)
	}
}
