package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// WatchLinks reports carrier changes of the NICs in paths (interface name →
// path name) until ctx is done, then returns nil. It first reports the
// current state of every listed NIC (a missing NIC as down, "no such
// interface"), then one event per change of its up/down state, read afresh
// when netlink reports a change (so a down-up flap that is over before we
// read its first message is not reported): a NIC is up
// when it is administratively up, has IFF_LOWER_UP and its operational state
// is not down. fn is called from the calling goroutine, in order.
//
// Without WithNetns it watches the namespace of the calling thread: call it
// from a goroutine locked to a thread inside the namespace, or pass the
// namespace. It returns an error if the subscription cannot be made or
// breaks.
func WatchLinks(ctx context.Context, paths map[string]string, fn func(LinkEvent), opts ...WatchOption) error {
	o := watchOptions{now: time.Now, onErr: func(error) {}}
	for _, opt := range opts {
		opt(&o)
	}
	var (
		h   *netlink.Handle
		err error
	)
	if o.ns != nil {
		h, err = netlink.NewHandleAt(*o.ns)
	} else {
		h, err = netlink.NewHandle()
	}
	if err != nil {
		return fmt.Errorf("transport: link watch: netlink handle: %w", err)
	}
	defer h.Close()

	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	defer func() {
		close(done)
		go func() { // let the subscription goroutine finish its last send
			for range updates {
			}
		}()
	}()
	var subErr error
	sub := netlink.LinkSubscribeOptions{
		Namespace: o.ns,
		ErrorCallback: func(err error) {
			if errors.Is(err, netlink.ErrDumpInterrupted) {
				o.onErr(err)
				return
			}
			subErr = err // read after updates is closed
		},
	}
	if err := netlink.LinkSubscribeWithOptions(updates, done, sub); err != nil {
		return fmt.Errorf("transport: link watch: subscribe: %w", err)
	}

	state := make(map[string]bool, len(paths))
	emit := func(ifname string, up bool, reason string) {
		path, ok := paths[ifname]
		if !ok {
			return
		}
		if old, seen := state[ifname]; seen && old == up {
			return
		}
		state[ifname] = up
		fn(LinkEvent{Path: path, Up: up, At: o.now(), Reason: reason})
	}
	// Initial state, after subscribing so that no change falls in between.
	for ifname := range paths {
		l, err := h.LinkByName(ifname)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if !errors.As(err, &nf) {
				o.onErr(fmt.Errorf("transport: link watch: %s: %w", ifname, err))
			}
			emit(ifname, false, "no such interface")
			continue
		}
		up, reason := carrier(l.Attrs())
		emit(ifname, up, reason)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				if subErr != nil {
					return fmt.Errorf("transport: link watch: %w", subErr)
				}
				return errors.New("transport: link watch: subscription closed")
			}
			if u.Link == nil || u.Attrs() == nil {
				continue
			}
			if u.Header.Type == unix.RTM_DELLINK {
				emit(u.Attrs().Name, false, "link removed")
				continue
			}
			// Report the NIC as it is now, not as the queued message says:
			// after a stall (a paused VM, a stopped process) a flap that is
			// already over must not make the daemon give its addresses up.
			a := u.Attrs()
			if l, err := h.LinkByIndex(a.Index); err == nil && l.Attrs().Name == a.Name {
				a = l.Attrs()
			}
			up, reason := carrier(a)
			emit(a.Name, up, reason)
		}
	}
}

func carrier(a *netlink.LinkAttrs) (bool, string) {
	switch {
	case a.Flags&net.FlagUp == 0:
		return false, "admin down"
	case a.RawFlags&unix.IFF_LOWER_UP == 0:
		return false, "carrier lost"
	case a.OperState == netlink.OperDown || a.OperState == netlink.OperLowerLayerDown || a.OperState == netlink.OperNotPresent:
		return false, "carrier lost (" + a.OperState.String() + ")"
	}
	return true, "carrier up"
}
