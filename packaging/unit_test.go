package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/failover-ha/failover/daemon/config"
)

// TestUnitFile checks failoverd.service: the directives issue 16 asks for
// with their values, a comment above every directive, and ExecStart on the
// path the package installs failoverd to.
func TestUnitFile(t *testing.T) {
	b, err := os.ReadFile("failoverd.service")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{} // directive -> values in order
	commented := true            // the line before was a comment (or a directive of the same group)
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
			commented = true
		case strings.TrimSpace(l) == "" || strings.HasPrefix(l, "["):
			commented = false
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Errorf("line %d: %q is not key=value", i+1, l)
				continue
			}
			if !commented {
				t.Errorf("line %d: %s has no comment above it (or above its group)", i+1, k)
			}
			got[k] = append(got[k], v)
		}
	}
	want := map[string]string{
		"Type":                    "notify",
		"NotifyAccess":            "main",
		"WatchdogSec":             "5s",
		"Restart":                 "on-failure",
		"CapabilityBoundingSet":   "CAP_NET_ADMIN CAP_NET_RAW",
		"AmbientCapabilities":     "CAP_NET_ADMIN CAP_NET_RAW",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ReadWritePaths":          "/run",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET",
		"ExecStart":               "/usr/sbin/failoverd --config /etc/failover/failover.toml",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"WantedBy":                "multi-user.target",
		// The manager sets SCHED_RR before the exec; the daemon keeps it.
		"CPUSchedulingPolicy":   "rr",
		"CPUSchedulingPriority": strconv.Itoa(config.Default().RealtimePriority),
		"RestrictRealtime":      "yes",
	}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"ProtectKernelTunables", "PrivateDevices", "PrivateNetwork", "User", "DynamicUser",
		"CPUSchedulingResetOnFork"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s is set: it breaks the daemon (see the unit's comments)", k)
		}
	}
	for _, b := range binaries() {
		if b.name == "failoverd" && !strings.HasPrefix(got["ExecStart"][0], b.dir+"/failoverd ") {
			t.Errorf("ExecStart %q, but the package installs failoverd in %s", got["ExecStart"][0], b.dir)
		}
	}
	// systemd's own parser, where it is installed (not in CI's image).
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		out, _ := exec.Command(sa, "verify", "failoverd.service").CombinedOutput()
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			// The binaries and man pages are not installed here.
			if l != "" && !strings.Contains(l, "is not executable") && !strings.Contains(l, "Command 'man ") {
				t.Errorf("systemd-analyze verify: %s", l)
			}
		}
	} else {
		t.Log("systemd-analyze not installed: the unit is not verified by systemd")
	}
}

// TestMaintainerScripts checks the scripts with sh -n and that they are
// executable (dpkg runs them directly).
func TestMaintainerScripts(t *testing.T) {
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		st, err := os.Stat(s)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}
}
