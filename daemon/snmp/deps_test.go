package snmp_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLeaf: the package is a leaf of the daemon. Its code imports nothing
// of this module but daemon/config (the vocabulary of the [snmp] table: not
// the daemon's session, not internal/), the standard library and gosnmp.
func TestLeaf(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		n++
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(p, ".") && p != "github.com/gosnmp/gosnmp" && p != "github.com/failover-ha/failover/daemon/config" {
				t.Errorf("%s imports %s; daemon/snmp imports only the standard library, gosnmp and daemon/config", f, p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no source files found")
	}
}
