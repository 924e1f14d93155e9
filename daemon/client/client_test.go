package client

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestNotRunningMissingSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "failover.sock")
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(context.Background())
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Status on a missing socket: got %v, want ErrNotRunning", err)
	}
	if want := "failoverd is not running: cannot reach " + sock; err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

func TestNotRunningStaleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "failover.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the file stays, nobody listens: a crashed daemon
	c, _ := Dial(sock)
	if _, err := c.Ping(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Ping on a stale socket: got %v, want ErrNotRunning", err)
	}
}

func TestSignVerify(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1_700_000_000, 0)
	sig := Sign(key, "GET", "/v1/status", now.Unix())
	if err := Verify(key, "GET", "/v1/status", sig, "1700000000", now); err != nil {
		t.Fatalf("good signature rejected: %v", err)
	}
	for name, tc := range map[string]struct{ method, path, sig, ts string }{
		"other path": {"GET", "/v1/ping", sig, "1700000000"},
		"other verb": {"POST", "/v1/status", sig, "1700000000"},
		"old":        {"GET", "/v1/status", Sign(key, "GET", "/v1/status", now.Unix()-60), "1699999940"},
		"garbage":    {"GET", "/v1/status", "zz", "1700000000"},
		"no time":    {"GET", "/v1/status", sig, ""},
	} {
		if err := Verify(key, tc.method, tc.path, tc.sig, tc.ts, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDialRemoteNeedsKey(t *testing.T) {
	if _, err := Dial("198.18.1.1:7406"); err == nil {
		t.Fatal("remote dial without key accepted")
	}
	if _, err := Dial("198.18.1.1:7406", WithKey([]byte("k"))); err != nil {
		t.Fatal(err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	os.WriteFile(one, []byte("# cluster key\n1 00112233445566778899aabbccddeeff\n"), 0o600)
	k, err := LoadKey(one)
	if err != nil || len(k) != 16 || k[1] != 0x11 {
		t.Fatalf("LoadKey(one) = %x, %v", k, err)
	}
	two := filepath.Join(dir, "two")
	os.WriteFile(two, []byte("1 00112233445566778899aabbccddeeff\n2 ffeeddccbbaa99887766554433221100 send\n"), 0o600)
	if k, err := LoadKey(two); err != nil || k[0] != 0xff {
		t.Fatalf("LoadKey(two) = %x, %v; want the send key", k, err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("1 nothex\n"), 0o600)
	if _, err := LoadKey(bad); err == nil {
		t.Fatal("LoadKey accepted a non-hex secret")
	}
}
