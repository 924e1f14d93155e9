package hwtest

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCommandUsage(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		args   []string
		code   int
		stream string // "out" or "err"
		want   string
	}{
		{nil, ExitUsage, "err", "Usage:"},
		{[]string{"--help"}, ExitOK, "out", "hwtest serial list"},
		{[]string{"serial", "loopback", "--help"}, ExitOK, "out", "loopback plug"},
		{[]string{"serial", "peer", "--help"}, ExitOK, "out", "--listen"},
		{[]string{"nic", "--help"}, ExitOK, "out", "does not answer hwtest"},
		{[]string{"serial", "list", "--help"}, ExitOK, "out", "VID:PID"},
		{[]string{"serial", "loopback"}, ExitUsage, "err", "no port: pass --port"},
		{[]string{"serial", "peer", "--port", "/dev/hwtest-none"}, ExitUsage, "err", "/dev/hwtest-none does not exist"},
		{[]string{"serial", "peer", "--port", "/dev/null", "--baud", "1234"}, ExitUsage, "err", "unsupported baud 1234"},
		{[]string{"nic"}, ExitUsage, "err", "pass --config"},
		{[]string{"nic", "--config", "/nonexistent.toml"}, ExitUsage, "err", "/nonexistent.toml: no such file or directory: pass --config"},
		{[]string{"nic", "--bogus"}, ExitUsage, "err", "hwtest nic: flag provided but not defined"},
		{[]string{"frob"}, ExitUsage, "err", "unknown command"},
	} {
		var out, errb bytes.Buffer
		code := Command(ctx, tt.args, &out, &errb)
		got := out.String()
		if tt.stream == "err" {
			got = errb.String()
		}
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("%q: exit %d, %s %q; want %d and %q", tt.args, code, tt.stream, got, tt.code, tt.want)
		}
		if tt.code != ExitOK && out.Len() > 0 {
			t.Errorf("%q: a usage error printed %q on stdout", tt.args, out.String())
		}
		if strings.Count(out.String(), "Usage:") > 1 {
			t.Errorf("%q: usage printed more than once: %q", tt.args, out.String())
		}
		if tt.code == ExitOK && len(tt.args) > 1 && !strings.Contains(out.String(), "-json") {
			t.Errorf("%q: help lists no options: %q", tt.args, out.String())
		}
		if tt.stream == "err" && strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 && tt.args != nil {
			t.Errorf("%q: error is not one line: %q", tt.args, errb.String())
		}
	}
}
