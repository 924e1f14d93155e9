//go:build !linux

package lab

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

var errNotLinux = errors.New("lab: needs Linux network namespaces")

// Lab is a virtual rack; only Linux can build one.
type Lab struct{}

// Host is one namespace of the rack.
type Host struct{}

// Cable is a null-modem cable between two hosts.
type Cable struct{}

func New(opts Options) (*Lab, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return nil, errNotLinux
}

func NewT(t testing.TB, opts Options) *Lab {
	t.Helper()
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func Main(m *testing.M)                                   { os.Exit(m.Run()) }
func Available() error                                    { return errNotLinux }
func Require(t testing.TB)                                { t.Helper(); t.Skip(errNotLinux) }
func (l *Lab) Close() error                               { return nil }
func (l *Lab) Host(string) *Host                          { return nil }
func (l *Lab) Hosts() []*Host                             { return nil }
func (l *Lab) Client() *Host                              { return nil }
func (l *Lab) Cable(a, b string) *Cable                   { return nil }
func (l *Lab) Pull(host, nic string) error                { return errNotLinux }
func (l *Lab) Plug(host, nic string) error                { return errNotLinux }
func (l *Lab) Drop(host, nic string, dir Direction) error { return errNotLinux }
func (l *Lab) Loss(host, nic string, percent int) error   { return errNotLinux }
func (l *Lab) Freeze(host string) error                   { return errNotLinux }
func (l *Lab) Thaw(host string) error                     { return errNotLinux }
func (l *Lab) Heal() error                                { return errNotLinux }
func (h *Host) Name() string                              { return "" }
func (h *Host) NS() netns.NsHandle                        { return netns.None() }
func (h *Host) Netlink() *netlink.Handle                  { return nil }
func (h *Host) Addr(nic string) netip.Addr                { return netip.Addr{} }
func (h *Host) MAC(nic string) net.HardwareAddr           { return nil }
func (h *Host) NICs() []string                            { return nil }
func (h *Host) Do(fn func() error) error                  { return errNotLinux }
func (h *Host) Start(cmd *exec.Cmd) error                 { return errNotLinux }
func (h *Host) SerialPort(peer string) string             { return "" }
func (c *Cable) Ends() (a, b string)                      { return "", "" }
func (c *Cable) Hosts() (a, b string)                     { return "", "" }
func (c *Cable) Cut() error                               { return errNotLinux }
func (c *Cable) Hangup() error                            { return errNotLinux }
func (c *Cable) Heal() error                              { return errNotLinux }
func (c *Cable) Inject(host string, b []byte) error       { return errNotLinux }
