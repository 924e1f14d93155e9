//go:build linux

package vip

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestCapErr(t *testing.T) {
	for _, tt := range []struct {
		err        error
		capability string
		want       string
	}{
		{unix.EPERM, capNetAdmin, "operation not permitted (missing CAP_NET_ADMIN)"},
		{&net.OpError{Op: "listen", Net: "packet", Err: os.NewSyscallError("socket", unix.EPERM)}, capNetRaw, "(missing CAP_NET_RAW)"},
		{fmt.Errorf("x: %w", unix.EACCES), capNetAdmin, "(missing CAP_NET_ADMIN)"},
		{unix.ENODEV, capNetAdmin, "no such device"},
	} {
		got := capErr(tt.err, tt.capability)
		if !strings.Contains(got.Error(), tt.want) {
			t.Errorf("capErr(%v) = %q, want it to contain %q", tt.err, got, tt.want)
		}
		if !errors.Is(got, tt.err) && !errors.Is(got, fs.ErrPermission) {
			t.Errorf("capErr(%v) lost the cause", tt.err)
		}
		if tt.err != unix.ENODEV && strings.Contains(got.Error(), "missing") != errors.Is(got, fs.ErrPermission) {
			t.Errorf("capErr(%v): errors.Is(fs.ErrPermission) disagrees with the message", tt.err)
		}
	}
}

func TestSecondary(t *testing.T) {
	addr := func(s string) netlink.Addr {
		a, err := netlink.ParseAddr(s)
		if err != nil {
			t.Fatal(err)
		}
		return *a
	}
	host := []netlink.Addr{addr("198.18.1.1/24"), addr("198.18.2.1/24")}
	for vip, want := range map[string]bool{
		"198.18.1.100/32": false,
		"198.18.1.100/24": true,
		"198.18.3.100/24": false,
		"198.18.1.100/28": false,
	} {
		if got := secondary(netip.MustParsePrefix(vip), host); got != want {
			t.Errorf("secondary(%s) = %v, want %v", vip, got, want)
		}
	}
}
