package quorum

import "time"

// The states, events and actions in this file are the contract between the
// pure core and the shell (package daemon). The core may add fields and
// types; it must not change the meaning of the ones here.

// State is a service's local state, with the original Failover's names.
type State uint8

// Service states. Values travel in heartbeats; do not renumber.
const (
	StateRecover State = 1 // inactive, can start at any moment (backup)
	StateUp      State = 2 // active here: we hold the VIP
	StateFail    State = 3 // cannot run here (operator, health, carrier)
	StateIndoubt State = 4 // owner looks gone; waiting the hold before claiming
	StateReclaim State = 5 // we outrank the holder and asked it to release
)

// PathState is the liveness of one path to one peer.
type PathState uint8

// Path states.
const (
	PathUp      PathState = 1
	PathSuspect PathState = 2
	PathDown    PathState = 3
)

// PeerState is the verdict on a peer, from all its paths.
type PeerState uint8

// Peer verdicts.
const (
	PeerUnknown  PeerState = 0 // never heard since we started
	PeerAlive    PeerState = 1 // every path up
	PeerDegraded PeerState = 2 // some path down or suspect, at least one up
	PeerDead     PeerState = 3 // every path down
)

// Op is an operator command.
type Op uint8

// Operator commands.
const (
	OpFail    Op = 1 // hand the service away now
	OpRecover Op = 2 // make it eligible again
)

// ControlOp mirrors transport.ControlOp (same values on the wire).
type ControlOp uint8

// Hand-off messages.
const (
	CtlRelease ControlOp = 1
	CtlAck     ControlOp = 2
	CtlReclaim ControlOp = 3
)

// Event is an input to Core.Step. Every event carries its time; Core.StepAt
// stamps it.
type Event interface {
	at() time.Time
	stamped(at time.Time) Event
}

// Tick advances time with no other input.
type Tick struct{ At time.Time }

// Heard is an authenticated, non-replayed heartbeat from Peer on Path.
type Heard struct {
	At time.Time
	// Received is when the frame was read at the edge (zero: At). It is
	// the frame's time for liveness; a frame older than its path's deadtime
	// when it reaches the core (At - Received) is rejected with ErrTooOld.
	Received    time.Time
	Peer, Path  string
	Epoch, Seq  uint64
	Interval    time.Duration
	Fingerprint uint32
	Views       []View         // the peer's reciprocal view
	Services    []ServiceState // the peer's services
	Control     *Control       // a hand-off message, if any
	// Timers are the peer's, when its frame carries them (it sees a
	// fingerprint other than its own); nil otherwise.
	Timers *Timers
}

// View is a peer's view of one of its paths to some node.
type View struct {
	Peer, Path string
	Up         bool
}

// ServiceState is a service's state on some node.
type ServiceState struct {
	Name     string
	State    State
	Priority int
}

// Control is a hand-off message, received or to be sent.
type Control struct {
	Op      ControlOp
	Service string
	Target  string // node addressed; "" = all
	Ref     uint64
}

// Link reports carrier or port state of one of our own paths.
type Link struct {
	At   time.Time
	Path string
	Up   bool
}

// Health reports the service's own health (service NIC carrier, checks).
type Health struct {
	At      time.Time
	Service string
	OK      bool
	Reason  string
}

// Weight lowers this node's priority for a service by Drop while the
// service's weight checks fail (keepalived's track_script weight): Drop is
// the sum of the weights of the failing ones, and 0 restores the configured
// priority. The lowered priority (never below 0) is what this node ranks
// itself by and advertises, so its peers rank it the same way; a better
// ranked node then takes the service as failback allows (it reclaims from a
// holder it now outranks). A negative Drop is rejected.
type Weight struct {
	At      time.Time
	Service string
	Drop    int
}

// Command is an operator command for a service.
type Command struct {
	At      time.Time
	Service string
	Op      Op
}

// Probed is the result of a Probe action.
type Probed struct {
	At       time.Time
	Service  string
	Conflict bool   // someone else answered for the address
	By       string // who answered (MAC), for the alarm
}

// Shutdown asks for a planned hand-over of every service we hold.
type Shutdown struct{ At time.Time }

// Stalled reports that the shell was away for For (a stopped process, a
// paused VM, a loop blocked past the deadtime): our peers may have declared
// us dead and taken over meanwhile, so every claim we hold is stale.
type Stalled struct {
	At  time.Time
	For time.Duration
}

// Inherited reports that the service's address is on our interface,
// left there by an earlier run of ours: a daemon killed and started again
// before the address's lifetime ran out, or a core restarted by a reload.
// The shell steps it right after New, before any frame, keeps the address
// meanwhile (refreshing its lifetime) and removes it if the core says
// RemoveVIP. Nobody can have claimed the address cleanly while it was
// there: it answered their ARP probes. So the core keeps it while it does
// not yet know what the peers hold (the startup listen, ended early once
// every peer has been heard), then takes the service at once (AddVIP, no
// hold, no probe) if no peer holds it, as if the daemon had never stopped
// (a better-ranked node asks for it back as failback says); it drops it
// (RemoveVIP) as soon as a peer holds the service, or if we may not run
// it. Ignored for a service that is up.
type Inherited struct {
	At      time.Time
	Service string
}

func (e Tick) at() time.Time      { return e.At }
func (e Heard) at() time.Time     { return e.At }
func (e Link) at() time.Time      { return e.At }
func (e Health) at() time.Time    { return e.At }
func (e Command) at() time.Time   { return e.At }
func (e Weight) at() time.Time    { return e.At }
func (e Probed) at() time.Time    { return e.At }
func (e Shutdown) at() time.Time  { return e.At }
func (e Stalled) at() time.Time   { return e.At }
func (e Inherited) at() time.Time { return e.At }

func (e Tick) stamped(at time.Time) Event      { e.At = at; return e }
func (e Heard) stamped(at time.Time) Event     { e.At = at; return e }
func (e Link) stamped(at time.Time) Event      { e.At = at; return e }
func (e Health) stamped(at time.Time) Event    { e.At = at; return e }
func (e Command) stamped(at time.Time) Event   { e.At = at; return e }
func (e Weight) stamped(at time.Time) Event    { e.At = at; return e }
func (e Probed) stamped(at time.Time) Event    { e.At = at; return e }
func (e Shutdown) stamped(at time.Time) Event  { e.At = at; return e }
func (e Stalled) stamped(at time.Time) Event   { e.At = at; return e }
func (e Inherited) stamped(at time.Time) Event { e.At = at; return e }

// Action is an output of Core.Step for the shell to carry out.
type Action interface{ isAction() }

// AddVIP: take the service's address now (add, then announce).
type AddVIP struct{ Service string }

// RemoveVIP: drop the service's address now.
type RemoveVIP struct{ Service string }

// Announce: send gratuitous ARP / unsolicited NA for the service's address.
type Announce struct{ Service string }

// Probe: ask the segment whether someone already answers for the address;
// feed the answer back as Probed.
type Probe struct{ Service string }

// Send: transmit a control message on every live path now (not waiting for
// the next heartbeat).
type Send struct{ Control Control }

// SendHeartbeat: our advertised state changed; send a heartbeat now.
type SendHeartbeat struct{}

// StateChanged: a local service changed state.
type StateChanged struct {
	Service  string
	From, To State
	Reason   string
}

// PeerChanged: the verdict on a peer changed.
type PeerChanged struct {
	Peer     string
	From, To PeerState
	Reason   string
}

// PathChanged: one path to one peer changed state.
type PathChanged struct {
	Peer, Path string
	From, To   PathState
	Reason     string
}

// Alarm: something needs an operator (address conflict, config mismatch,
// split-brain resolved, isolation).
type Alarm struct {
	Service string // may be empty
	Peer    string // may be empty
	Text    string
}

func (AddVIP) isAction()        {}
func (RemoveVIP) isAction()     {}
func (Announce) isAction()      {}
func (Probe) isAction()         {}
func (Send) isAction()          {}
func (SendHeartbeat) isAction() {}
func (StateChanged) isAction()  {}
func (PeerChanged) isAction()   {}
func (PathChanged) isAction()   {}
func (Alarm) isAction()         {}

// Advert is what our next heartbeat carries.
type Advert struct {
	Services []ServiceState
	Views    []View
	// SendTimers: a peer advertises a fingerprint other than ours, so the
	// heartbeat also carries Config.Timers, for it to name the difference.
	// False while every peer heard agrees: the frame carries nothing more.
	SendTimers bool
}
