package transport

import (
	"errors"
	"net/netip"
	"time"
)

// ErrClosed is returned by Path.Recv and Path.Send after Close.
var ErrClosed = errors.New("transport: path closed")

// ErrDown is returned by Path.Send while the medium is unavailable (a serial
// port that closed and is being reopened).
var ErrDown = errors.New("transport: path down")

// Path is one heartbeat medium: a UDP socket pinned to one NIC, or one serial
// line. Implementations are safe for one concurrent sender and one concurrent
// receiver; Close is idempotent and unblocks a pending Recv, which then
// returns ErrClosed.
type Path interface {
	// Name is the configured path name ("eth0", "serial0"); it is the key
	// under which the decision core tracks the path.
	Name() string
	// Send transmits one sealed frame to every peer on this path. It
	// does not keep b after it returns (the caller reuses it).
	Send(b []byte) error
	// Recv blocks until a datagram or a complete serial frame arrives.
	// The returned Packet's Data is owned by the caller.
	Recv() (Packet, error)
	// Close releases the socket or port.
	Close() error
}

// Packet is what a Path received: the raw (still sealed) frame, where it came
// from and when. At is stamped at the edge, right after the read returned.
type Packet struct {
	Path    string         // the receiving path's Name
	Data    []byte         // the sealed frame, not yet authenticated
	From    netip.AddrPort // UDP source; zero for serial
	IfIndex int            // receiving NIC's index (control message); 0 for serial
	At      time.Time      // receive time taken at the edge
}

// LinkEvent reports a change of a path's physical state: carrier up or down on
// a NIC (from netlink) or a serial port closed or reopened.
type LinkEvent struct {
	Path   string    // configured path name
	Up     bool      // carrier present / port open
	At     time.Time // when the shell saw it
	Reason string    // "carrier lost", "port closed: ...", "port reopened"
}
