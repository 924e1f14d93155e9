package client

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that travels in JSON as a Go duration string
// ("12.5ms"), so a human reading the output and a script parsing it with
// time.ParseDuration see the same thing.
type Duration time.Duration

// MarshalJSON encodes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: %s is neither a string nor a number", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// String is the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// Status is the answer of GET /v1/status: one node's view of the cluster.
type Status struct {
	Node      string    `json:"node"`
	Cluster   string    `json:"cluster"`
	ClusterID uint32    `json:"cluster_id"`
	Epoch     uint64    `json:"epoch"`           // our boot incarnation
	Started   time.Time `json:"started"`         // when the daemon started
	Uptime    Duration  `json:"uptime"`          // time since Started
	Now       time.Time `json:"now"`             // the daemon's clock when it answered
	Interval  Duration  `json:"interval"`        // our heartbeat interval
	Deadtime  Duration  `json:"deadtime"`        // our deadtime
	Insecure  bool      `json:"insecure"`        // insecure_no_auth is set
	LogLevel  string    `json:"log_level"`       // current level
	Config    string    `json:"config"`          // config file in use
	Reloaded  time.Time `json:"reloaded"`        // last successful (re)load
	Peers     []Peer    `json:"peers"`           // every configured peer
	Services  []Service `json:"services"`        // every configured service
	Paths     []Path    `json:"paths"`           // our own paths with counters
	Mismatch  []string  `json:"mismatches"`      // config or timing mismatches with peers
	Alarms    []Alarm   `json:"alarms"`          // recent alarms, newest last
	Hooks     *Hooks    `json:"hooks,omitempty"` // notify hooks and FIFO; nil when none are configured
	// Stalls counts the times the daemon found itself away longer than
	// the deadtime (stopped, paused, blocked) and dropped its claims;
	// LastStall is how long the last one was, ending at LastStallAt.
	Stalls      uint64    `json:"stalls"`
	LastStall   Duration  `json:"last_stall,omitempty"`
	LastStallAt time.Time `json:"last_stall_at,omitempty"`
	// MismatchDetail is Mismatch one field each, for scripts.
	MismatchDetail []Mismatch `json:"mismatch_detail"`
}

// Peer is the verdict on one peer and its paths.
type Peer struct {
	Name   string     `json:"name"`
	State  string     `json:"state"` // unknown | alive | degraded | dead
	Reason string     `json:"reason,omitempty"`
	Epoch  uint64     `json:"epoch"` // the peer's boot incarnation
	Paths  []PeerPath `json:"paths"`
}

// PeerPath is one path to one peer.
type PeerPath struct {
	Path      string    `json:"path"`
	State     string    `json:"state"` // up | suspect | down
	LastHeard time.Time `json:"last_heard"`
	Age       Duration  `json:"age"`    // time since LastHeard (0 if never)
	RTT       Duration  `json:"rtt"`    // smoothed round trip (0 if unknown)
	Jitter    Duration  `json:"jitter"` // RFC 3550 smoothed RTT variation (0 if unknown)
	Loss      float64   `json:"loss"`   // percent of frames lost, recent window
	Epoch     uint64    `json:"epoch"`
	Flapping  bool      `json:"flapping"` // held down: it (or our NIC under it) keeps going down
	OneWay    bool      `json:"one_way"`  // we hear the peer, it says it does not hear us
}

// Service is one service (floating address) as this node sees it.
type Service struct {
	Name      string         `json:"name"`
	State     string         `json:"state"` // up | recover | fail | indoubt | reclaim
	Owner     string         `json:"owner"` // node holding it ("" if nobody)
	Priority  int            `json:"priority"`
	VIP       string         `json:"vip"` // "198.18.1.100/32"
	Interface string         `json:"interface"`
	Present   bool           `json:"present"` // the address is on our interface now
	Reason    string         `json:"reason,omitempty"`
	Since     time.Time      `json:"since"`
	Nodes     map[string]int `json:"nodes,omitempty"`  // priority per node
	Remote    []RemoteState  `json:"remote,omitempty"` // what each peer advertises
	// Drop is how much our failing weight checks lower Priority (which is
	// already lowered by it).
	Drop         int          `json:"drop,omitempty"`
	Checks       []Check      `json:"checks,omitempty"`
	Transitions  []Transition `json:"transitions,omitempty"` // state changes here since the daemon started
	LastOutage   Duration     `json:"last_outage"`           // last time nobody held it, as we saw it (0 if never)
	LastOutageAt time.Time    `json:"last_outage_at"`        // when that outage ended
	// AnnounceFailures counts gratuitous ARP (or NA) sends that failed
	// (each was sent again until it landed); AnnounceError is the last
	// failure's error, at AnnounceErrorAt.
	AnnounceFailures uint64    `json:"announce_failures"`
	AnnounceError    string    `json:"announce_error,omitempty"`
	AnnounceErrorAt  time.Time `json:"announce_error_at,omitempty"`
}

// Check is one health check of a service on this node.
type Check struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`   // exec | tcp | http | ping
	Target   string    `json:"target"` // the URL, address or command line
	Effect   string    `json:"effect"` // fail | weight
	Weight   int       `json:"weight,omitempty"`
	Interval Duration  `json:"interval"`
	Timeout  Duration  `json:"timeout"`
	Rise     int       `json:"rise"`
	Fall     int       `json:"fall"`
	OK       bool      `json:"ok"`      // the verdict after rise and fall
	Since    time.Time `json:"since"`   // when the verdict last changed
	Streak   int       `json:"streak"`  // results in a row against the verdict
	LastOK   bool      `json:"last_ok"` // the last run passed
	LastRun  time.Time `json:"last_run"`
	Output   string    `json:"output"`   // the last run's output line
	Duration Duration  `json:"duration"` // the last run's duration
	Runs     uint64    `json:"runs"`
	Failures uint64    `json:"failures"`
}

// Transition counts the state changes of a service into To for one kind
// of reason (operator, health, carrier, failback, handover, peer_dead,
// free, split_brain, shutdown, stand_down, other).
type Transition struct {
	To     string `json:"to"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// Hooks is the notify hooks' and FIFO's state.
type Hooks struct {
	Recent      []HookRun   `json:"recent"` // newest last
	Stats       []HookStats `json:"stats"`
	Queued      int         `json:"queued"`  // changes waiting for their hooks
	Dropped     uint64      `json:"dropped"` // changes dropped: the queue was full
	FIFO        string      `json:"fifo,omitempty"`
	FIFOLines   uint64      `json:"fifo_lines"`
	FIFODropped uint64      `json:"fifo_dropped"`
	FIFOError   string      `json:"fifo_error,omitempty"`
}

// HookRun is one run of a notify hook.
type HookRun struct {
	Service  string    `json:"service"`
	Hook     string    `json:"hook"` // service | global
	From     string    `json:"from"`
	To       string    `json:"to"`
	Command  []string  `json:"command"`
	At       time.Time `json:"at"`
	Duration Duration  `json:"duration"`
	Exit     int       `json:"exit"` // -1: not started or killed
	TimedOut bool      `json:"timed_out"`
	Error    string    `json:"error,omitempty"`
	Output   string    `json:"output,omitempty"`
}

// HookStats counts the runs of one hook of one service.
type HookStats struct {
	Service  string  `json:"service"`
	Hook     string  `json:"hook"`
	Runs     uint64  `json:"runs"`
	Failed   uint64  `json:"failed"`
	TimedOut uint64  `json:"timed_out"`
	Last     HookRun `json:"last"`
}

// RemoteState is a peer's advertised state of one service; a peer we
// consider dead has none (its last advert is not its state now).
type RemoteState struct {
	Node     string `json:"node"`
	State    string `json:"state"`
	Priority int    `json:"priority"`
}

// Path is one of our own paths with its transport counters.
type Path struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"` // udp | serial
	Interface string   `json:"interface,omitempty"`
	Device    string   `json:"device,omitempty"`
	Open      bool     `json:"open"`            // opened successfully
	Carrier   bool     `json:"carrier"`         // link up / port open
	Flapping  bool     `json:"flapping"`        // carrier keeps going: held down (timers.damping)
	Error     string   `json:"error,omitempty"` // why it is not open
	Sent      uint64   `json:"sent"`
	SendErr   uint64   `json:"send_errors"`
	Received  uint64   `json:"received"`
	BadAuth   uint64   `json:"bad_auth"` // failed to authenticate or decode (AuthFail + Damaged)
	Damaged   uint64   `json:"damaged"`  // malformed or of another version: line noise, truncated frames
	Replayed  uint64   `json:"replayed"` // rejected by the replay guard
	Foreign   uint64   `json:"foreign"`  // other cluster id
	Stale     uint64   `json:"stale"`    // admitted, but older than the deadtime when they reached the core
	OwnFrames uint64   `json:"own"`      // our own frames looped back
	BytesSent uint64   `json:"bytes_sent"`
	BytesRecv uint64   `json:"bytes_received"`
	AuthFail  uint64   `json:"auth_failures"` // failed authentication: wrong key, forged (part of BadAuth)
	RTT       Duration `json:"rtt"`           // last round trip on this path (0 if unknown)
	Jitter    Duration `json:"jitter"`        // smoothed RTT variation (0 if unknown)
	// SentRate and RecvRate are bytes per second over the last ~10 s (0
	// until a second has passed).
	SentRate float64 `json:"sent_bytes_per_s"`
	RecvRate float64 `json:"received_bytes_per_s"`
}

// Mismatch is one config difference with a peer: Key is "interval", a
// key of [timers] ("timers.deadtime"), "services.NAME.priority",
// "services.NAME.failback" or "services.NAME.failback_delay", or
// "fingerprint" when the peer's config differs in something none of these
// explains (or the peer does not say what).
type Mismatch struct {
	Peer   string `json:"peer"`
	Key    string `json:"key"`
	Ours   string `json:"ours"`
	Theirs string `json:"theirs"`
}

// Alarm is something that needs an operator.
type Alarm struct {
	At      time.Time `json:"at"`
	Service string    `json:"service,omitempty"`
	Peer    string    `json:"peer,omitempty"`
	Text    string    `json:"text"`
}

// LogLevel is the body of PUT /v1/log-level and its answer.
type LogLevel struct {
	Level string `json:"level"` // debug | info | warn | error
}

// Pong is the answer of GET /v1/ping.
type Pong struct {
	Node string    `json:"node"`
	Now  time.Time `json:"now"`
}

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	Error string `json:"error"`
}
