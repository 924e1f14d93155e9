package transport

import "time"

// Kind says what a frame carries. Every frame carries the sender's heartbeat
// content; control kinds carry a Control block in addition.
type Kind uint8

// Frame kinds.
const (
	KindHeartbeat Kind = 1 // periodic liveness and state advertisement
	KindControl   Kind = 2 // heartbeat content plus a Control block (hand-off)
)

// ControlOp is a hand-off message between nodes.
type ControlOp uint8

// Control operations. See docs/design.md, "Hand-off".
const (
	OpRelease ControlOp = 1 // holder gave the service up; Target may take it now
	OpAck     ControlOp = 2 // acknowledges the message whose Seq is Ref
	OpReclaim ControlOp = 3 // a higher-priority node asks the holder to release
)

// Frame is the decoded heartbeat. It is the same on every path; the serial
// path carries exactly the same bytes inside its byte framing.
type Frame struct {
	Kind        Kind
	Cluster     uint32        // cluster id; frames of other clusters are rejected
	KeyID       uint8         // which shared key sealed the frame
	Node        string        // sender's node name (1..32 bytes)
	Epoch       uint64        // sender's boot incarnation; a restart increases it
	Seq         uint64        // per-sender sequence number, increases per frame sent
	SentAt      int64         // sender's monotonic-ish clock in µs, echoed for RTT
	Interval    time.Duration // sender's heartbeat interval
	Fingerprint uint32        // hash of the sender's timing and service config
	Views       []PathView    // sender's view of its paths to each peer
	Services    []ServiceView // sender's local service states
	Control     *Control      // set when Kind == KindControl
	// Timers is the sender's timer settings, in an optional trailing
	// section: nil (and no bytes) unless the sender sees a peer whose
	// fingerprint differs from its own (docs/design.md, "Config
	// mismatch").
	Timers *Timers
}

// Timers is what a sender's fingerprint covers besides its interval (sent
// in every frame), so that a peer whose fingerprint differs can name each
// difference. Durations travel with microsecond resolution.
type Timers struct {
	Deadtime      time.Duration
	AdaptiveFloor time.Duration
	Startup       time.Duration
	IndoubtHold   time.Duration
	Damping       time.Duration
	FlapLimit     int // 0 while damping is off
	CarrierSettle time.Duration
	// Rest is a hash of what else the fingerprint covers: the cluster and
	// the services' names, addresses and priorities.
	Rest uint32
	// Services holds one entry per Frame.Services, in that order: the
	// names are there.
	Services []ServiceTimers
}

// ServiceTimers is one service's failback settings.
type ServiceTimers struct {
	Failback      bool
	FailbackDelay time.Duration
}

// PathView is the sender's reciprocal view of one path to one peer: what it
// hears from that peer. It lets the receiver tell one-way loss from a dead peer.
type PathView struct {
	Peer      string
	Path      string
	Up        bool          // the sender considers the path up
	LastHeard time.Duration // age of the last frame heard from Peer on Path
	Loss      uint8         // percent of Peer's frames lost on Path, recent window
	EchoSeq   uint64        // last Seq heard from Peer on Path
	EchoAt    int64         // that frame's SentAt, echoed back
	EchoHold  time.Duration // how long the sender held it before this frame
}

// ServiceView is one service's state as the sender sees it locally.
type ServiceView struct {
	Name     string
	State    uint8 // quorum.State value
	Priority uint8
}

// Control is a hand-off message. Target is the node addressed ("" = all).
type Control struct {
	Op      ControlOp
	Service string
	Target  string
	Ref     uint64 // for OpAck: the Seq of the acknowledged message
}
