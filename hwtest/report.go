package hwtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Check is one verdict of a report: what was checked, whether it passed,
// what was seen and, on failure, what to look at.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Hint names what to look at when the check failed: cable, baud, NIC,
	// switch multicast, firewall.
	Hint string `json:"hint,omitempty"`
}

// Report is the outcome of one hwtest command. OK is true only when every
// check passed.
type Report struct {
	Command        string          `json:"command"`
	OK             bool            `json:"ok"`
	Checks         []Check         `json:"checks"`
	Ports          []PortInfo      `json:"ports,omitempty"`
	Serial         *SerialResult   `json:"serial,omitempty"`
	NIC            *NICResult      `json:"nic,omitempty"`
	Recommendation *Recommendation `json:"recommendation,omitempty"`
}

// Finish sets OK from the checks and returns r.
func (r *Report) Finish() *Report {
	r.OK = true
	for _, c := range r.Checks {
		if !c.OK {
			r.OK = false
		}
	}
	return r
}

// ExitCode is 0 when every check passed and 1 otherwise.
func (r *Report) ExitCode() int {
	if r.OK {
		return 0
	}
	return 1
}

// WriteJSON writes r as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for people: one line per check, the hint indented
// under a failed one, then the measurements and the recommendation.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, p := range r.Ports {
		writePort(&b, p)
	}
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s  %s: %s\n", mark, c.Name, c.Detail)
		if !c.OK && c.Hint != "" {
			fmt.Fprintf(&b, "      look at: %s\n", c.Hint)
		}
	}
	if r.Serial != nil {
		writeSerial(&b, r.Serial)
	}
	if r.NIC != nil {
		writeNIC(&b, r.NIC)
	}
	if r.Recommendation != nil {
		b.WriteString("\n")
		writeRecommendation(&b, *r.Recommendation)
	}
	verdict := "all checks passed"
	if !r.OK {
		n := 0
		for _, c := range r.Checks {
			if !c.OK {
				n++
			}
		}
		verdict = fmt.Sprintf("%d of %d checks failed", n, len(r.Checks))
	}
	fmt.Fprintf(&b, "\n%s: %s\n", r.Command, verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtSummary renders a Summary on one line.
func fmtSummary(s Summary) string {
	if s.Received == 0 {
		return fmt.Sprintf("%d sent, none answered", s.Sent)
	}
	return fmt.Sprintf("%d/%d answered (%.1f%% lost), rtt p50 %s p99 %s, jitter %s",
		s.Received, s.Sent, s.LossPct, fmtDur(s.P50), fmtDur(s.P99), fmtDur(s.Jitter))
}

// fmtDur rounds d to three significant digits for reading.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}
