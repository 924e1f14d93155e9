package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/failover-ha/failover/internal/lab"
)

// binDir holds the binaries built for this test run; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		// Re-executes this binary as root of a new user namespace (where
		// Geteuid is 0) and exits with its status; returns only if it
		// could not, in which case the privileged tests skip.
		lab.Main(m)
	}
	dir, err := os.MkdirTemp("", "failover-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var build = sync.OnceValues(func() (map[string]string, error) {
	out := map[string]string{}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	for _, name := range []string{"failoverd", "failover"} {
		bin := filepath.Join(binDir, name)
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/%s: %v\n%s", name, err, b)
		}
		out[name] = bin
	}
	return out, nil
})

// bin returns the path of a built binary ("failoverd", "failover").
func bin(t testing.TB, name string) string {
	t.Helper()
	if binDir == "" {
		// lab.Main ran the tests without a user namespace; build anyway
		// (the directory is left behind in this rare case).
		dir, err := os.MkdirTemp("", "failover-e2e-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = dir
	}
	m, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return m[name]
}
