package lab

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// newNS creates an anonymous network namespace and returns a handle to it.
// The thread that created it is never unlocked, so Go discards it when the
// goroutine ends and no other goroutine ever runs in the new namespace by
// accident.
func newNS() (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: this thread's namespace changed.
		ns, err := netns.New()
		ch <- result{ns, err}
	}()
	r := <-ch
	if r.err != nil {
		return netns.None(), privErr("lab: creating network namespace", r.err)
	}
	return r.ns, nil
}

// privErr wraps err and explains the usual cause of permission errors.
func privErr(what string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%s: %w (need root or an unprivileged user namespace)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// doIn runs fn on a locked OS thread inside ns. The thread is never unlocked:
// Go ends it together with the goroutine, so it cannot be reused elsewhere.
func doIn(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread enters another namespace.
		sent := false
		defer func() {
			if !sent { // fn called runtime.Goexit (t.FailNow?) or panicked
				errc <- errors.New("lab: function run in namespace did not return")
			}
		}()
		if err := netns.Set(ns); err != nil {
			sent = true
			errc <- fmt.Errorf("lab: entering namespace: %w", err)
			return
		}
		err := fn()
		sent = true
		errc <- err
	}()
	return <-errc
}

// addBridge creates an up bridge in the current thread's namespace with
// multicast snooping, STP and forward delay all off. It must run inside doIn.
// netlink.Bridge has no STP or forward delay fields, hence the raw request.
func addBridge(name string) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Flags = unix.IFF_UP
	msg.Change = unix.IFF_UP
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	data.AddRtAttr(unix.IFLA_BR_FORWARD_DELAY, nl.Uint32Attr(0))
	data.AddRtAttr(unix.IFLA_BR_STP_STATE, nl.Uint32Attr(0))
	data.AddRtAttr(unix.IFLA_BR_MCAST_SNOOPING, nl.Uint8Attr(0))
	req.AddData(info)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("lab: creating bridge %s: %w", name, err)
	}
	return nil
}
