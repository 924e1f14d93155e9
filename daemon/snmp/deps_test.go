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
// of this module (not the daemon's session, not internal/), only the
// standard library and gosnmp.
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
			if strings.Contains(p, ".") && p != "github.com/gosnmp/gosnmp" {
				t.Errorf("%s imports %s; daemon/snmp takes plain values and imports only the standard library and gosnmp", f, p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no source files found")
	}
}
