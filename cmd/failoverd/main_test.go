package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckExample(t *testing.T) {
	// The example names /etc/failover/failover.key: point it at a test key.
	dir := t.TempDir()
	key := filepath.Join(dir, "failover.key")
	os.WriteFile(key, []byte("1 00112233445566778899aabbccddeeff\n"), 0o600)
	b, err := os.ReadFile("../../failover.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "failover.toml")
	os.WriteFile(conf, bytes.Replace(b, []byte("/etc/failover/failover.key"), []byte(key), 1), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"--check", "--config", conf}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "ok") {
		t.Errorf("stdout = %q", out.String())
	}
}

func TestInvalidConfigExit2(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(f, []byte("cluster = \"c\"\nnode = \"n1\"\nnoed = \"x\"\n[timers]\ndeadtime = \"soon\"\n"), 0o644)
	var out, errb bytes.Buffer
	code := run([]string{"--config", f}, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{
		f + ":3: noed: unknown key",
		f + ":5: timers.deadtime: \"soon\" is not a duration",
		f + ": peer: no [[peer]]",
		f + ": key_file: missing",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "--config") && !strings.Contains(errb.String(), "-config") {
		t.Errorf("help lacks --config:\n%s", errb.String())
	}
}

func TestMissingConfigExit2(t *testing.T) {
	var out, errb bytes.Buffer
	f := filepath.Join(t.TempDir(), "none.toml")
	if code := run([]string{"--config", f}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if want := f + ": no such file: "; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, errb.String())
	}
}

func TestKeyFileReadableByOthersExit2(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "failover.key")
	os.WriteFile(key, []byte("1 00112233445566778899aabbccddeeff\n"), 0o644)
	os.Chmod(key, 0o644)
	b, err := os.ReadFile("../../failover.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "failover.toml")
	os.WriteFile(conf, bytes.Replace(b, []byte("/etc/failover/failover.key"), []byte(key), 1), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"--check", "--config", conf}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "key_file: "+key+" is readable or writable by others (mode 0644): chmod 600") {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
}
