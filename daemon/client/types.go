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
	Epoch     uint64    `json:"epoch"`      // our boot incarnation
	Started   time.Time `json:"started"`    // when the daemon started
	Uptime    Duration  `json:"uptime"`     // time since Started
	Now       time.Time `json:"now"`        // the daemon's clock when it answered
	Interval  Duration  `json:"interval"`   // our heartbeat interval
	Deadtime  Duration  `json:"deadtime"`   // our deadtime
	Insecure  bool      `json:"insecure"`   // insecure_no_auth is set
	LogLevel  string    `json:"log_level"`  // current level
	Config    string    `json:"config"`     // config file in use
	Reloaded  time.Time `json:"reloaded"`   // last successful (re)load
	Peers     []Peer    `json:"peers"`      // every configured peer
	Services  []Service `json:"services"`   // every configured service
	Paths     []Path    `json:"paths"`      // our own paths with counters
	Mismatch  []string  `json:"mismatches"` // config or timing mismatches with peers
	Alarms    []Alarm   `json:"alarms"`     // recent alarms, newest last
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
	Age       Duration  `json:"age"`  // time since LastHeard (0 if never)
	RTT       Duration  `json:"rtt"`  // smoothed round trip (0 if unknown)
	Loss      float64   `json:"loss"` // percent of frames lost, recent window
	Epoch     uint64    `json:"epoch"`
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
}

// RemoteState is a peer's advertised state of one service.
type RemoteState struct {
	Node     string `json:"node"`
	State    string `json:"state"`
	Priority int    `json:"priority"`
}

// Path is one of our own paths with its transport counters.
type Path struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"` // udp | serial
	Interface string `json:"interface,omitempty"`
	Device    string `json:"device,omitempty"`
	Open      bool   `json:"open"`            // opened successfully
	Carrier   bool   `json:"carrier"`         // link up / port open
	Error     string `json:"error,omitempty"` // why it is not open
	Sent      uint64 `json:"sent"`
	SendErr   uint64 `json:"send_errors"`
	Received  uint64 `json:"received"`
	SentBytes uint64 `json:"sent_bytes"`     // on the medium (serial: with framing)
	RecvBytes uint64 `json:"received_bytes"` // as received, before checks
	// SentRate and RecvRate are bytes per second over the last ~10 s (0
	// until a second has passed).
	SentRate  float64 `json:"sent_bytes_per_s"`
	RecvRate  float64 `json:"received_bytes_per_s"`
	BadAuth   uint64  `json:"bad_auth"` // failed to authenticate or decode
	Replayed  uint64  `json:"replayed"` // rejected by the replay guard
	Foreign   uint64  `json:"foreign"`  // other cluster id
	OwnFrames uint64  `json:"own"`      // our own frames looped back
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
