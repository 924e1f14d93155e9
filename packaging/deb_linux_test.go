package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The child of TestPrivilegedDebInstall finds its work in these variables.
const (
	envRoot = "FAILOVER_DEB_TEST_DIR"
	envDeb  = "FAILOVER_DEB_TEST_DEB"
)

// requireRoot skips the test without root, except in CI, where it fails.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but not root: the package test needs root (mount namespace, dpkg --root)")
	}
	t.Skip("not root: dpkg --root into an overlay needs root")
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s is missing (see .ci/run)", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestPrivilegedDebInstall builds the .deb and installs it with dpkg into a
// fresh root: an empty directory whose /usr is an overlay on the host's (so
// that the maintainer scripts find /bin/sh and install(1) and the package's
// files land in the overlay's upper layer, not on the host), with its own
// empty dpkg database. It runs in a child process in a new mount namespace,
// so the overlay disappears with it. dpkg runs the postinst, prerm and
// postrm chrooted into that root, as it would on a real host without
// systemd running (the systemctl calls are skipped there).
func TestPrivilegedDebInstall(t *testing.T) {
	if dir := os.Getenv(envRoot); dir != "" {
		installInRoot(t, dir, os.Getenv(envDeb))
		return
	}
	requireRoot(t)
	requireTool(t, "dpkg")
	requireTool(t, "dpkg-deb")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The builder as the README runs it (a subprocess also keeps the
	// compression out of this race-instrumented test binary).
	build := exec.CommandContext(ctx, goTool(), "run", "./packaging", "--version", testVersion, "--out", t.TempDir())
	build.Dir = ".."
	build.Stderr = logWriter{t}
	out, err := build.Output()
	if err != nil {
		t.Fatalf("go run ./packaging: %v", err)
	}
	deb := strings.TrimSpace(string(out))
	built := time.Since(start)

	// The package as built: the directory is 0755 in the archive, so 0700
	// after the install can only come from the postinst.
	listing, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb --contents: %v", err)
	}
	if !regexpLine(string(listing), `drwxr-xr-x root/root .* ./etc/failover/$`) {
		t.Errorf("the archive's ./etc/failover/ is not a 0755 directory:\n%s", listing)
	}
	control, err := exec.Command("dpkg-deb", "--info", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb --info: %v", err)
	}
	for _, want := range []string{"Package: failover", "Version: 0.0.1~test", "postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(string(control), want) {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, control)
		}
	}

	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPrivilegedDebInstall$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envRoot+"="+dir, envDeb+"="+deb)
	// Go makes / private (MS_REC|MS_PRIVATE) in a child with its own mount
	// namespace, so nothing it mounts reaches the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err = cmd.CombinedOutput()
	t.Logf("install in a fresh root (mount namespace):\n%s", out)
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestPrivilegedDebInstall")) {
		t.Fatalf("install test in the namespace failed: %v", err)
	}
	t.Logf("build %v, install and checks %v", built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
}

// installInRoot runs in the child, in its own mount namespace.
func installInRoot(t *testing.T, dir, deb string) {
	root := filepath.Join(dir, "root")
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{root + "/usr", upper, work, root + "/etc", root + "/var/lib/dpkg/info", root + "/var/lib/dpkg/updates",
		root + "/var/log", root + "/tmp", root + "/run", root + "/dev"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root+"/tmp", 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("overlay", root+"/usr", "overlay", 0, "lowerdir=/usr,upperdir="+upper+",workdir="+work); err != nil {
		t.Fatalf("mount an overlay on %s/usr: %v", root, err)
	}
	if err := unix.Mount("/dev", root+"/dev", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		t.Fatalf("bind /dev: %v", err)
	}
	// /bin, /sbin, /lib*: symlinks into /usr on a merged-/usr system (Debian
	// 12); bind mounts where they are directories.
	for _, l := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		st, err := os.Lstat("/" + l)
		switch {
		case err != nil:
			continue
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink("/" + l)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, root+"/"+l); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.Mkdir(root+"/"+l, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount("/"+l, root+"/"+l, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				t.Fatalf("bind /%s: %v", l, err)
			}
		}
	}
	for _, f := range []string{"/var/lib/dpkg/status", "/var/lib/dpkg/available"} {
		if err := os.WriteFile(root+f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dpkg := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("dpkg", append([]string{"--root=" + root, "--log=" + root + "/var/log/dpkg.log"}, args...)...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Log(dpkg("-i", deb))

	// What lands where, with which mode.
	want := map[string]fs.FileMode{
		"/usr/sbin/failoverd":                             0o755,
		"/usr/bin/failover":                               0o755,
		"/usr/bin/hwtest":                                 0o755,
		"/etc/failover":                                   fs.ModeDir | 0o700, // from the postinst
		"/etc/failover/failover.toml.example":             0o644,
		"/usr/lib/systemd/system/failoverd.service":       0o644,
		"/usr/share/man/man8/failoverd.8.gz":              0o644,
		"/usr/share/man/man1/failover.1.gz":               0o644,
		"/usr/share/man/man1/hwtest.1.gz":                 0o644,
		"/usr/share/bash-completion/completions/failover": 0o644,
		"/usr/share/bash-completion/completions/hwtest":   0o644,
		"/usr/share/zsh/vendor-completions/_failover":     0o644,
		"/usr/share/zsh/vendor-completions/_hwtest":       0o644,
	}
	for path, mode := range want {
		st, err := os.Stat(root + path)
		if err != nil {
			t.Errorf("not installed: %s", path)
			continue
		}
		if got := st.Mode() & (fs.ModeDir | fs.ModePerm); got != mode {
			t.Errorf("%s: mode %v, want %v", path, got, mode)
		}
	}
	sameAs(t, root+"/usr/lib/systemd/system/failoverd.service", "failoverd.service")
	sameAs(t, root+"/etc/failover/failover.toml.example", "../failover.toml.example")
	for _, m := range []string{"/usr/share/man/man8/failoverd.8.gz", "/usr/share/man/man1/failover.1.gz", "/usr/share/man/man1/hwtest.1.gz"} {
		page := gunzip(t, root+m)
		if !strings.Contains(page, "\n.TH ") || !strings.Contains(page, ".SH DESCRIPTION") {
			t.Errorf("%s is not a man page:\n%.300s", m, page)
		}
	}
	if got := string(dpkg("--status", "failover")); !strings.Contains(got, "Status: install ok installed") {
		t.Errorf("dpkg --status failover:\n%s", got)
	}

	// The installed binaries run in the root.
	chroot := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("chroot", append([]string{root}, args...)...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("chroot %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if got := chroot("failover", "version"); !strings.HasPrefix(got, "failover "+testVersion+" ") {
		t.Errorf("failover version in the root = %q, want failover %s ...", got, testVersion)
	}
	if got := chroot("failoverd", "--help"); !strings.Contains(got, "Usage: failoverd") {
		t.Errorf("failoverd --help in the root = %q", got)
	}
	// failover check-config reads the example as failoverd would; its only
	// problem there is the key file the operator has not made yet.
	cmd := exec.Command("chroot", root, "failover", "check-config", "/etc/failover/failover.toml.example")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "key_file: /etc/failover/failover.key does not exist") {
		t.Errorf("check-config of the installed example:\n%s", out)
	}

	// Remove keeps the configuration; purge removes it, including what
	// "failover setup" wrote (the postrm's work: dpkg does not know those).
	for _, f := range []string{"failover.toml", "failover.key"} {
		if err := os.WriteFile(root+"/etc/failover/"+f, []byte("written by setup\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Log(dpkg("--remove", "failover"))
	if _, err := os.Stat(root + "/usr/bin/failover"); err == nil {
		t.Error("remove left /usr/bin/failover")
	}
	if _, err := os.Stat(root + "/etc/failover/failover.key"); err != nil {
		t.Errorf("remove took the key: %v", err)
	}
	t.Log(dpkg("--purge", "failover"))
	if _, err := os.Stat(root + "/etc/failover"); err == nil {
		ents, _ := os.ReadDir(root + "/etc/failover")
		t.Errorf("purge left /etc/failover (%d entries)", len(ents))
	}
}

func sameAs(t *testing.T, installed, source string) {
	t.Helper()
	a, err1 := os.ReadFile(installed)
	b, err2 := os.ReadFile(source)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Errorf("%s differs from %s (%v, %v)", installed, source, err1, err2)
	}
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}

// regexpLine reports whether a line of text matches the pattern.
func regexpLine(text, pattern string) bool {
	re := regexp.MustCompile(pattern)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if re.MatchString(sc.Text()) {
			return true
		}
	}
	return false
}
