package snmp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/snmp"
)

// tool finds a Debian tool the test needs. Missing, it fails the test in
// CI (CI=true; .ci/run installs the package) and skips it elsewhere.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); isExec(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (Debian package %s; .ci/run installs it)", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// baseMIBs is the directory of the stand-ins for the standard modules
// FAILOVER-MIB imports (see testdata/mibs/README.md).
func baseMIBs(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "mibs"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// writeMIB writes MIB() (the embedded module) into a fresh directory
// under the name FAILOVER-MIB.txt and returns the file.
func writeMIB(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "FAILOVER-MIB.txt")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// smilint runs smilint -l 6 on file and returns what it reports.
func smilint(t *testing.T, bin, file string) string {
	t.Helper()
	cmd := exec.Command(bin, "-s", "-m", "-l", "6", file)
	cmd.Env = append(os.Environ(), "SMIPATH="+baseMIBs(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("smilint: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestMIBLint: smilint at level 6 (errors and warnings) reports nothing
// on FAILOVER-MIB, and does report a broken copy (so the check can fail).
func TestMIBLint(t *testing.T) {
	bin := tool(t, "smilint", "smitools")
	if out := smilint(t, bin, writeMIB(t, snmp.MIB())); out != "" {
		t.Errorf("smilint -l 6 FAILOVER-MIB:\n%s", out)
	}
	broken := strings.Replace(snmp.MIB(), "        failoverPeer,\n        failoverFromState,\n        failoverToState,\n        failoverReason\n    }\n    STATUS      current\n    DESCRIPTION\n        \"The objects", "        failoverFromState,\n        failoverToState,\n        failoverReason\n    }\n    STATUS      current\n    DESCRIPTION\n        \"The objects", 1)
	if broken == snmp.MIB() {
		t.Fatal("the broken copy is not broken: the object group changed")
	}
	if out := smilint(t, bin, writeMIB(t, broken)); !strings.Contains(out, "failoverPeer") {
		t.Errorf("smilint on a MIB whose group lacks failoverPeer says:\n%q", out)
	}
}

// mibDef is one definition of FAILOVER-MIB as the test reads it.
type mibDef struct {
	macro   string   // "OBJECT-TYPE", "NOTIFICATION-TYPE", ...
	oid     string   // resolved
	objects []string // OBJECTS or NOTIFICATIONS clause
	syntax  string
	access  string
}

var (
	reComment = regexp.MustCompile(`--[^\n]*`)
	reQuoted  = regexp.MustCompile(`(?s)"[^"]*"`)
	reDef     = regexp.MustCompile(`(?s)\b([a-z][A-Za-z0-9-]*)\s+(OBJECT IDENTIFIER|MODULE-IDENTITY|OBJECT-TYPE|NOTIFICATION-TYPE|OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE)\b(.*?)::=\s*\{\s*([A-Za-z][A-Za-z0-9-]*)\s+(\d+)\s*\}`)
	reList    = regexp.MustCompile(`(?s)\b(?:OBJECTS|NOTIFICATIONS)\s*\{([^}]*)\}`)
	reSyntax  = regexp.MustCompile(`\bSYNTAX\s+([A-Za-z][A-Za-z0-9-]*)`)
	reAccess  = regexp.MustCompile(`\bMAX-ACCESS\s+([a-z-]+)`)
)

// parseMIB reads the definitions of a module: every assignment of the form
// "name MACRO ... ::= { parent n }", with OIDs resolved from enterprises
// (1.3.6.1.4.1), the one import it builds on.
func parseMIB(t *testing.T, text string) map[string]mibDef {
	t.Helper()
	body := reQuoted.ReplaceAllString(reComment.ReplaceAllString(text, ""), `""`)
	type raw struct {
		mibDef
		parent string
		sub    string
	}
	raws := map[string]raw{}
	for _, m := range reDef.FindAllStringSubmatch(body, -1) {
		r := raw{mibDef: mibDef{macro: m[2]}, parent: m[4], sub: m[5]}
		if l := reList.FindStringSubmatch(m[3]); l != nil {
			for _, f := range strings.Split(l[1], ",") {
				r.objects = append(r.objects, strings.TrimSpace(f))
			}
		}
		if s := reSyntax.FindStringSubmatch(m[3]); s != nil {
			r.syntax = s[1]
		}
		if a := reAccess.FindStringSubmatch(m[3]); a != nil {
			r.access = a[1]
		}
		if _, dup := raws[m[1]]; dup {
			t.Fatalf("FAILOVER-MIB defines %s twice", m[1])
		}
		raws[m[1]] = r
	}
	defs := map[string]mibDef{}
	var resolve func(name string, depth int) string
	resolve = func(name string, depth int) string {
		if name == "enterprises" {
			return "1.3.6.1.4.1"
		}
		r, ok := raws[name]
		if !ok || depth > 20 {
			t.Fatalf("FAILOVER-MIB: cannot resolve %s", name)
		}
		return resolve(r.parent, depth+1) + "." + r.sub
	}
	for name, r := range raws {
		d := r.mibDef
		d.oid = resolve(name, 0)
		defs[name] = d
	}
	return defs
}

// TestMIBMatchesCode: the notifications and objects the code sends are
// the ones FAILOVER-MIB defines, at the same OIDs, with the same varbinds
// in the order of each OBJECTS clause, and the MIB defines no others.
func TestMIBMatchesCode(t *testing.T) {
	defs := parseMIB(t, snmp.MIB())
	const e = config.DefaultEnterprise
	if d := defs["failoverMIB"]; d.macro != "MODULE-IDENTITY" || d.oid != e {
		t.Errorf("failoverMIB is %s at %s, want MODULE-IDENTITY at %s", d.macro, d.oid, e)
	}
	byMacro := func(macro string) []string {
		var names []string
		for n, d := range defs {
			if d.macro == macro {
				names = append(names, n)
			}
		}
		return names
	}
	var kinds, objects []string
	for _, k := range snmp.Kinds() {
		kinds = append(kinds, k.Name())
	}
	for _, o := range snmp.Objects() {
		objects = append(objects, o.Name())
	}
	sorted := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	if diff := cmp.Diff(kinds, byMacro("NOTIFICATION-TYPE"), sorted); diff != "" {
		t.Errorf("notifications, code vs MIB (-code +mib):\n%s", diff)
	}
	if diff := cmp.Diff(objects, byMacro("OBJECT-TYPE"), sorted); diff != "" {
		t.Errorf("objects, code vs MIB (-code +mib):\n%s", diff)
	}
	for _, o := range snmp.Objects() {
		d := defs[o.Name()]
		if d.oid != o.OID(e) || d.syntax != "SnmpAdminString" || d.access != "accessible-for-notify" {
			t.Errorf("%s: MIB has %s %s %s; code sends an OCTET STRING at %s (instance 0), want SnmpAdminString accessible-for-notify", o.Name(), d.oid, d.syntax, d.access, o.OID(e))
		}
	}
	for _, k := range snmp.Kinds() {
		d := defs[k.Name()]
		// What goes on the wire, with the leading dot gosnmp's decoder adds
		// dropped.
		pdus := snmp.PDUs(e, snmp.Event{Kind: k}, time.Second)
		if got := pdus[1].Value; got != d.oid {
			t.Errorf("%s: snmpTrapOID.0 sent is %v, MIB says %s", k.Name(), got, d.oid)
		}
		var want, got []string
		for _, obj := range d.objects {
			want = append(want, defs[obj].oid+".0")
		}
		for _, p := range pdus[2:] {
			got = append(got, p.Name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: varbinds, MIB OBJECTS vs sent (-mib +sent):\n%s", k.Name(), diff)
		}
	}
	// The conformance groups hold everything, so smilint's group checks
	// cover the whole module.
	if diff := cmp.Diff(objects, defs["failoverNotifyObjectsGroup"].objects, sorted); diff != "" {
		t.Errorf("failoverNotifyObjectsGroup (-code +mib):\n%s", diff)
	}
	if diff := cmp.Diff(kinds, defs["failoverNotificationsGroup"].objects, sorted); diff != "" {
		t.Errorf("failoverNotificationsGroup (-code +mib):\n%s", diff)
	}
	// The placeholder is stated where an operator reads.
	if !strings.Contains(snmp.MIB(), "PLACEHOLDER") || !strings.Contains(snmp.MIB(), "{ enterprises 99999 }") {
		t.Error("the MIB does not say loudly that 99999 is a placeholder")
	}
}
