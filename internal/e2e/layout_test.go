package e2e

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The layout the packages keep (docs/design.md, "Package map"). The rules
// speak of what a package's non-test files import: tests may use the lab
// (internal/lab) from anywhere.
const module = "github.com/failover-ha/failover"

// listedPackage is the part of `go list -json` the rules read.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
	Standard   bool
}

// goList lists pkgs (with GOOS=linux, where every file of the tree builds).
func goList(t *testing.T, pkgs ...string) map[string]*listedPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, pkgs...)...)
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOFLAGS=-mod=mod")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	m := map[string]*listedPackage{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		m[p.ImportPath] = &p
	}
	return m
}

func under(path, dir string) bool {
	return path == module+"/"+dir || strings.HasPrefix(path, module+"/"+dir+"/")
}

// TestLayout fails when an import runs against the layout.
func TestLayout(t *testing.T) {
	pkgs := goList(t, "../...")
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the tree is not where the test looks", len(pkgs))
	}
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			// Only cmd/ and internal/ may import internal/.
			if under(imp, "internal") && !under(p.ImportPath, "internal") && !under(p.ImportPath, "cmd") {
				t.Errorf("%s imports %s: only cmd/ and internal/ may import internal/", p.ImportPath, imp)
			}
			// The daemon's parts are leaves: none imports the session.
			if imp == module+"/daemon" && under(p.ImportPath, "daemon") {
				t.Errorf("%s imports the session (daemon): the daemon's subpackages are leaves", p.ImportPath)
			}
		}
		// transport, vip and hwtest never reach into the shell.
		for _, low := range []string{"transport", "vip", "hwtest", "quorum"} {
			if !under(p.ImportPath, low) {
				continue
			}
			for _, d := range p.Deps {
				if d == module+"/daemon" || (under(d, "daemon") && d != module+"/daemon/config") || under(d, "internal") {
					t.Errorf("%s depends on %s: %s/ must not import the shell", p.ImportPath, d, low)
				}
			}
		}
	}
}

// TestLayoutQuorumPure fails if the core imports anything that reads the OS,
// the network, a clock, randomness or sync, or calls a clock function of
// package time (it may use time.Time and time.Duration as values).
func TestLayoutQuorumPure(t *testing.T) {
	pkgs := goList(t, "../quorum")
	q := pkgs[module+"/quorum"]
	if q == nil {
		t.Fatal("quorum not listed")
	}
	allowed := []string{"cmp", "errors", "fmt", "maps", "math", "slices", "sort", "strconv", "strings", "time"}
	for _, imp := range q.Imports {
		if !slices.Contains(allowed, imp) {
			t.Errorf("quorum imports %s; the core may import only %v", imp, allowed)
		}
	}
	clock := []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick"}
	fset := token.NewFileSet()
	for _, name := range q.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(q.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && slices.Contains(clock, sel.Sel.Name) {
				t.Errorf("%s: quorum calls time.%s: the core takes time from its events", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				t.Errorf("%s: quorum starts a goroutine", fset.Position(g.Pos()))
			}
			return true
		})
	}
}

// TestLayoutConfigLeaf: daemon/config imports the standard library, toml,
// transport and quorum only, so that hwtest and the CLI can read a config
// without linking the daemon.
func TestLayoutConfigLeaf(t *testing.T) {
	pkgs := goList(t, "../daemon/config")
	c := pkgs[module+"/daemon/config"]
	if c == nil {
		t.Fatal("daemon/config not listed")
	}
	std := goList(t, "std")
	for _, imp := range c.Imports {
		if std[imp] != nil || imp == "github.com/BurntSushi/toml" || imp == module+"/transport" || imp == module+"/quorum" {
			continue
		}
		t.Errorf("daemon/config imports %s: it may import the standard library, toml, transport and quorum only", imp)
	}
}

// TestLayoutHwtestLinks: the link checker links neither the daemon, the VIP
// code nor SNMP.
func TestLayoutHwtestLinks(t *testing.T) {
	pkgs := goList(t, "../cmd/hwtest")
	h := pkgs[module+"/cmd/hwtest"]
	if h == nil {
		t.Fatal("cmd/hwtest not listed")
	}
	for _, d := range h.Deps {
		if d == module+"/daemon" || under(d, "vip") || under(d, "daemon/snmp") || strings.HasPrefix(d, "github.com/gosnmp/") {
			t.Errorf("cmd/hwtest links %s", d)
		}
	}
}
