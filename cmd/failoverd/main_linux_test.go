//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets a test run this binary as failoverd: with
// FAILOVERD_TEST_ARGS set (arguments separated by newlines) it is main.
func TestMain(m *testing.M) {
	if args := os.Getenv("FAILOVERD_TEST_ARGS"); args != "" {
		os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestPrivilegedMissingCapability starts failoverd with capabilities taken
// away (setpriv drops them from the bounding set, as a unit without
// AmbientCapabilities would leave a non-root daemon): it exits 3 at once,
// naming what is missing and what for. The child has a network namespace
// of its own, so a daemon that did start could not touch the host's.
func TestPrivilegedMissingCapability(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	if os.Geteuid() != 0 {
		if ci {
			t.Fatal("CI=true but not root")
		}
		t.Skip("not root: dropping capabilities needs them first")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		if ci {
			t.Fatal("CI=true and setpriv (util-linux) is missing")
		}
		t.Skip("setpriv is not installed")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "failover.key")
	os.WriteFile(key, []byte("1 00112233445566778899aabbccddeeff\n"), 0o600)
	b, err := os.ReadFile("../../failover.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("/etc/failover/failover.key"), []byte(key), 1)
	b = bytes.Replace(b, []byte(`# control_socket = "/run/failover.sock"`), []byte(`control_socket = "`+filepath.Join(dir, "f.sock")+`"`), 1)
	conf := filepath.Join(dir, "failover.toml")
	os.WriteFile(conf, b, 0o600)
	for _, tc := range []struct{ drop, want, not string }{
		{"-net_raw", "missing capability CAP_NET_RAW (gratuitous ARP, address probes and pinning UDP paths to their NIC): run failoverd as root", "CAP_NET_ADMIN (adding"},
		{"-net_admin", "missing capability CAP_NET_ADMIN (adding and removing the VIP): run", "CAP_NET_RAW (gratuitous"},
		{"-net_admin,-net_raw", "missing capability CAP_NET_ADMIN (adding and removing the VIP) and CAP_NET_RAW (gratuitous", ""},
	} {
		t.Run(tc.drop, func(t *testing.T) {
			cmd := exec.Command(setpriv, "--bounding-set="+tc.drop, "--", os.Args[0])
			cmd.Env = append(os.Environ(), "FAILOVERD_TEST_ARGS=--config\n"+conf)
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("failoverd without %s: %v, want exit 3\n%s", tc.drop, err, out)
			}
			if !strings.Contains(string(out), tc.want) || (tc.not != "" && strings.Contains(string(out), tc.not)) {
				t.Errorf("failoverd without %s said:\n%s\nwant %q", tc.drop, out, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "f.sock")); err == nil {
				t.Error("it created its control socket before checking its capabilities")
			}
		})
	}
}
