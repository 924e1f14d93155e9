package rig

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The stages of a takeover, in the order they happen. Each is measured from
// the moment the fault was injected (t0); all processes of the lab share the
// machine's clock, so times from the daemons' logs and the client's probes
// compare directly.
const (
	// StageDetection: the cluster notices. A peer declared dead (power
	// pull), the owner's service NIC losing carrier (cable pull), or the
	// control message of a planned move (release, reclaim).
	StageDetection = "detection"
	// StageDecision: the new owner's core moves the service to up (its
	// "service state" line with to=up, stamped with the time of the step
	// that decided it).
	StageDecision = "decision"
	// StageAdded: the address is on the new owner's NIC ("VIP added").
	StageAdded = "address_added"
	// StageAnnounced: the new owner's first gratuitous ARP went out
	// ("gratuitous ARP sent", or "gratuitous ARP landed" after a retry).
	StageAnnounced = "first_announcement"
	// StageClient: the client got its first answer from the new owner.
	StageClient = "client_convergence"
)

// Stages lists the stage names in order.
func Stages() []string {
	return []string{StageDetection, StageDecision, StageAdded, StageAnnounced, StageClient}
}

// LogLine is one line of a failoverd log written with log_format = "json":
// its time, message and the other attributes.
type LogLine struct {
	Time  time.Time
	Msg   string
	Attrs map[string]any
}

// ParseLog reads a failoverd JSON log. Lines that are not JSON objects with
// a time and a msg (a panic, a line of the text format) are skipped; the
// error is only a read error.
func ParseLog(r io.Reader) ([]LogLine, error) {
	var out []LogLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) == 0 || b[0] != '{' {
			continue
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		ts, _ := m["time"].(string)
		msg, _ := m["msg"].(string)
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || msg == "" {
			continue
		}
		delete(m, "time")
		delete(m, "msg")
		out = append(out, LogLine{Time: t, Msg: msg, Attrs: m})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("rig: reading a daemon log: %w", err)
	}
	return out, nil
}

// Mark is the log line that ends a stage: the first line of Host's log,
// stamped at or after the fault, whose message is one of Msgs and whose
// attributes include Attrs (values compared in their JSON text: false,
// "web").
type Mark struct {
	Host  string
	Msgs  []string
	Attrs map[string]string
}

// String says what the mark looks for: `h2 "peer state" peer=h1 to=dead`.
func (m Mark) String() string {
	var b strings.Builder
	b.WriteString(m.Host)
	for i, msg := range m.Msgs {
		if i > 0 {
			b.WriteString(" or")
		}
		fmt.Fprintf(&b, " %q", msg)
	}
	keys := make([]string, 0, len(m.Attrs))
	for k := range m.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, m.Attrs[k])
	}
	return b.String()
}

// Find returns the time of the first line in lines (one host's log) at or
// after t0 that matches m.
func (m Mark) Find(lines []LogLine, t0 time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for _, l := range lines {
		if l.Time.Before(t0) || !slices.Contains(m.Msgs, l.Msg) || (found && !l.Time.Before(best)) {
			continue
		}
		ok := true
		for k, want := range m.Attrs {
			if attrText(l.Attrs[k]) != want {
				ok = false
				break
			}
		}
		if ok {
			best, found = l.Time, true
		}
	}
	return best, found
}

// attrText is a decoded JSON value as the text Mark compares it with.
func attrText(v any) string {
	switch v := v.(type) {
	case nil:
		return "<missing>"
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// StageMarks are the log lines that end the logged stages of one takeover
// of service svc from host from to host to; detection is the scenario's.
func StageMarks(detection Mark, svc, to string) map[string]Mark {
	return map[string]Mark{
		StageDetection: detection,
		StageDecision:  {Host: to, Msgs: []string{"service state"}, Attrs: map[string]string{"service": svc, "to": "up"}},
		StageAdded:     {Host: to, Msgs: []string{"VIP added"}, Attrs: map[string]string{"service": svc}},
		StageAnnounced: {Host: to, Msgs: []string{"gratuitous ARP sent", "gratuitous ARP landed"}, Attrs: map[string]string{"service": svc}},
	}
}

// FindStages returns the offset from t0 of every stage whose mark is found
// in logs (host -> its lines), and the names of those not found. A stage
// without a mark is neither.
func FindStages(logs map[string][]LogLine, t0 time.Time, marks map[string]Mark) (found map[string]time.Duration, missing []string) {
	found = map[string]time.Duration{}
	for _, st := range Stages() {
		m, ok := marks[st]
		if !ok {
			continue
		}
		if at, ok := m.Find(logs[m.Host], t0); ok {
			found[st] = at.Sub(t0)
		} else {
			missing = append(missing, st)
		}
	}
	return found, missing
}
