package rig

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The drill's verdicts are pure: Judge takes what the observers recorded in
// one run (DrillEvidence) and returns the verdicts with their evidence in
// words. It reads no clock and no socket, so every rule is table-tested.

// Verdict names.
const (
	VerdictSplitBrain    = "split_brain"
	VerdictFalseFailover = "false_failover"
	VerdictOrphan        = "orphan"
	VerdictMoves         = "moves"
	VerdictReclaim       = "reclaim"
	VerdictSettled       = "settled"
)

// Verdict results.
const (
	Pass = "pass"
	Fail = "fail"
	NA   = "n/a" // the rule does not apply to this scenario
)

// Verdict is one rule checked on one run.
type Verdict struct {
	Name     string `json:"name"`
	Result   string `json:"result"` // Pass, Fail or NA
	Evidence string `json:"evidence"`
}

// Failed reports whether the verdict is a failure.
func (v Verdict) Failed() bool { return v.Result == Fail }

// HolderChange is one change of the VIP's holders as the sampler saw them
// (netlink in every host not excluded): Holders sorted, empty for none.
type HolderChange struct {
	At      time.Time `json:"at"`
	Holders []string  `json:"holders"`
}

// ARPSeen is one ARP packet from a host naming the VIP as its sender.
type ARPSeen struct {
	At   time.Time `json:"at"`
	MAC  string    `json:"mac"`
	Host string    `json:"host"` // the host owning MAC, "?" if none
}

// ARPRequest is one who-has for the VIP sent by the client's ARP observer
// and the answers that arrived before the next request was sent.
type ARPRequest struct {
	At      time.Time  `json:"at"`
	From    netip.Addr `json:"from"` // its sender address: replies are sent to it
	Answers []ARPSeen  `json:"answers,omitempty"`
}

// Span is a stretch of time.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Return is one move of the service to up on the drilled owner, from its
// log, after it came back from the fault.
type Return struct {
	At   time.Time `json:"at"`
	From string    `json:"from"` // the state it came from: reclaim, indoubt, ...
	Line string    `json:"line"`
}

// DrillEvidence is what the observers recorded during one run, from the
// start of the observation to the end.
type DrillEvidence struct {
	Owner      string         // the settled owner before the fault ("h1")
	Start, End time.Time      // the observation
	Holders    []HolderChange // the sampler's changes; the first at Start
	Overlaps   []string       // the sampler's confirmed samples with two holders
	Answers    []Answer       // the prober's answered probes, oldest first
	Duplicates int            // probes answered by two hosts
	ARP        []ARPRequest   // the ARP observer's requests and answers
	Claims     []ARPSeen      // gratuitous ARPs (request or reply) claiming the VIP
	ARPPeriod  time.Duration  // the observer's request period
	// NoEligible are the stretches without a healthy eligible host (every
	// daemon stopped, or all of them booting and listening): an empty VIP
	// then is no orphan.
	NoEligible []Span
	// CheckReturns asks for the reclaim verdict: Returns are the owner's
	// moves to up after it came back (ResumedAt).
	CheckReturns bool
	ResumedAt    time.Time
	Returns      []Return
	// Window is the detection window: the longest stretch without a holder
	// that is not an orphan.
	Window time.Duration
	// Settled is empty when the cluster settled back on Owner after the
	// fault was healed, else what was seen instead.
	Settled string
}

// RunResult is the outcome of one run of one scenario.
type RunResult struct {
	Run        int       `json:"run"`
	Verdicts   []Verdict `json:"verdicts"`
	Moves      int       `json:"moves"`          // owner changes the sampler saw
	LongestGap Millis    `json:"longest_gap_ms"` // longest stretch with no holder and no client answer, excluding NoEligible
	// ClientOutage is the longest stretch without an answer to the client's
	// probes (a holder may exist that the client cannot reach).
	ClientOutage Millis   `json:"client_outage_ms"`
	Duplicates   int      `json:"duplicates"`
	Holders      []string `json:"holders"`         // the sampler's sequence, "h1", "h1+h2", "-"
	Answered     []string `json:"answered_by"`     // hosts answering the client's probes, in order
	ARPAnswered  []string `json:"arp_answered_by"` // hosts answering the client's who-has, in order
	Took         Millis   `json:"took_ms"`
	Error        string   `json:"error,omitempty"` // the run could not be carried out
	LogDir       string   `json:"log_dir,omitempty"`
}

// Millis is a time.Duration shown in JSON as a number of milliseconds.
type Millis time.Duration

// MarshalJSON is the duration in milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatInt(time.Duration(m).Milliseconds(), 10)), nil
}

// UnmarshalJSON reads a number of milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("rig: milliseconds: %w", err)
	}
	*m = Millis(n * float64(time.Millisecond))
	return nil
}

func (m Millis) String() string {
	return strconv.FormatInt(time.Duration(m).Milliseconds(), 10) + " ms"
}

// Failed reports whether any verdict failed or the run broke off.
func (r RunResult) Failed() bool {
	if r.Error != "" {
		return true
	}
	for _, v := range r.Verdicts {
		if v.Failed() {
			return true
		}
	}
	return false
}

// Verdict returns the named verdict (zero if absent).
func (r RunResult) Verdict(name string) Verdict {
	for _, v := range r.Verdicts {
		if v.Name == name {
			return v
		}
	}
	return Verdict{}
}

// DetectionWindow is the longest stretch without a holder that is not an
// orphan, from the timers in use: the deadtime (the owner's silence is
// noticed), the indoubt hold (at least one interval), the ARP probe window
// (the taker checks nobody answers), and a slack of 150 ms for scheduling on
// a busy machine, the address add, the announcement and the client's probe
// period. 270 ms at the defaults: a takeover measures 80-130 ms in the lab,
// and the orphan of a restarted owner that dropped its address and listened
// (~320 ms, fixed) is caught.
func DetectionWindow(interval, deadtime, indoubtHold, probeWindow time.Duration) time.Duration {
	return deadtime + max(indoubtHold, interval) + probeWindow + 150*time.Millisecond
}

// Judge applies the drill's rules for sc to one run's evidence.
func Judge(sc DrillScenario, ev DrillEvidence) RunResult {
	res := RunResult{Duplicates: ev.Duplicates}
	res.Holders = holderSeq(ev.Holders)
	res.Answered = answerSeq(ev.Answers)
	res.Moves = moves(ev.Holders)
	for _, rq := range ev.ARP {
		for _, a := range rq.Answers {
			if n := len(res.ARPAnswered); n == 0 || res.ARPAnswered[n-1] != a.Host {
				res.ARPAnswered = append(res.ARPAnswered, a.Host)
			}
		}
	}
	gap, at := orphanGap(ev)
	res.LongestGap = Millis(gap)
	res.ClientOutage = Millis(clientOutage(ev))

	res.Verdicts = append(res.Verdicts, splitBrain(ev))

	// False failover: the owner stayed healthy and reachable, so nothing
	// may move, as the sampler or the client sees it.
	ff := Verdict{Name: VerdictFalseFailover, Result: Pass}
	others := otherHosts(ev.Owner, res.Holders, res.Answered)
	switch {
	case !sc.OwnerHealthy:
		ff.Result = NA
		ff.Evidence = fmt.Sprintf("%s is made unhealthy in this scenario (up to %d moves allowed)", ev.Owner, sc.MaxMoves)
	case res.Moves > 0 || len(others) > 0:
		ff.Result = Fail
		ff.Evidence = fmt.Sprintf("the owner changed though %s stayed healthy and reachable: holders %s; client answered by %s",
			ev.Owner, arrows(res.Holders), arrows(res.Answered))
	default:
		ff.Evidence = fmt.Sprintf("%s held the VIP throughout (holders %s)", ev.Owner, arrows(res.Holders))
	}
	res.Verdicts = append(res.Verdicts, ff)

	or := Verdict{Name: VerdictOrphan, Result: Pass}
	if gap > ev.Window {
		or.Result = Fail
		or.Evidence = fmt.Sprintf("no holder and no client answer for %d ms from %s (window %d ms) while a healthy eligible host existed",
			gap.Milliseconds(), at.Format("15:04:05.000"), ev.Window.Milliseconds())
	} else {
		or.Evidence = fmt.Sprintf("longest stretch with no holder and no answer %d ms, within the %d ms window", gap.Milliseconds(), ev.Window.Milliseconds())
	}
	res.Verdicts = append(res.Verdicts, or)

	if !sc.OwnerHealthy {
		mv := Verdict{Name: VerdictMoves, Result: Pass,
			Evidence: fmt.Sprintf("%d moves (at most %d): %s", res.Moves, sc.MaxMoves, arrows(res.Holders))}
		if res.Moves > sc.MaxMoves {
			mv.Result = Fail
		}
		res.Verdicts = append(res.Verdicts, mv)
	}
	if ev.CheckReturns {
		res.Verdicts = append(res.Verdicts, reclaimVerdict(ev))
	}
	st := Verdict{Name: VerdictSettled, Result: Pass, Evidence: "settled back on " + ev.Owner + " after the fault"}
	if ev.Settled != "" {
		st.Result, st.Evidence = Fail, ev.Settled
	}
	res.Verdicts = append(res.Verdicts, st)
	return res
}

// splitBrain: two owners at once, seen by the sampler (address lists), the
// prober (a probe answered twice) or the client's ARP (two MACs answering
// one request, or claiming within one request period while the first still
// held the address).
func splitBrain(ev DrillEvidence) Verdict {
	var seen []string
	if n := len(ev.Overlaps); n > 0 {
		s := fmt.Sprintf("sampler: two holders in %d samples (first %s)", n, ev.Overlaps[0])
		seen = append(seen, s)
	}
	if ev.Duplicates > 0 {
		seen = append(seen, fmt.Sprintf("client probes: %d answered by two hosts", ev.Duplicates))
	}
	for _, rq := range ev.ARP {
		if hs := distinctHosts(rq.Answers); len(hs) > 1 {
			seen = append(seen, fmt.Sprintf("client ARP: the who-has at %s answered by %s", rq.At.Format("15:04:05.000"), strings.Join(hs, " and ")))
			break
		}
	}
	if s := claimClash(ev); s != "" {
		seen = append(seen, s)
	}
	if len(seen) > 0 {
		return Verdict{Name: VerdictSplitBrain, Result: Fail, Evidence: strings.Join(seen, "; ")}
	}
	answered := 0
	for _, rq := range ev.ARP {
		if len(rq.Answers) > 0 {
			answered++
		}
	}
	return Verdict{Name: VerdictSplitBrain, Result: Pass, Evidence: fmt.Sprintf(
		"one holder at a time: sampler (%d changes), %d client probes answered, %d of %d ARP who-has answered, %d gratuitous ARPs",
		len(ev.Holders), len(ev.Answers), answered, len(ev.ARP), len(ev.Claims))}
}

// claimClash finds two ARP claims or answers from different MACs within one
// request period where the earlier host still held the address when the
// later one claimed: the sampler's first reading after the later claim
// (within a request period) still has it. The sampler's state before the
// claim is not evidence: on a busy machine its reads fall behind.
func claimClash(ev DrillEvidence) string {
	var all []ARPSeen
	all = append(all, ev.Claims...)
	for _, rq := range ev.ARP {
		all = append(all, rq.Answers...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].At.Before(all[j].At) })
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.MAC == b.MAC || b.At.Sub(a.At) > ev.ARPPeriod {
			continue
		}
		if c, ok := readAfter(ev.Holders, b.At, ev.ARPPeriod); ok && slices.Contains(c.Holders, a.Host) {
			return fmt.Sprintf("client ARP: %s (%s) claimed the VIP at %s, %d ms after %s (%s) did, which the sampler still saw holding it at %s",
				b.Host, b.MAC, b.At.Format("15:04:05.000"), b.At.Sub(a.At).Milliseconds(), a.Host, a.MAC, c.At.Format("15:04:05.000"))
		}
	}
	return ""
}

// readAfter returns the sampler's first change recorded at or after t and
// no later than t+within.
func readAfter(changes []HolderChange, t time.Time, within time.Duration) (HolderChange, bool) {
	for _, c := range changes {
		if c.At.Before(t) {
			continue
		}
		if c.At.After(t.Add(within)) {
			break
		}
		return c, true
	}
	return HolderChange{}, false
}

func distinctHosts(as []ARPSeen) []string {
	var out []string
	macs := map[string]bool{}
	for _, a := range as {
		if !macs[a.MAC] {
			macs[a.MAC] = true
			out = append(out, a.Host+" ("+a.MAC+")")
		}
	}
	return out
}

// arrows joins a sequence with arrows, eliding the middle of a long one
// (RunResult keeps it whole).
func arrows(seq []string) string {
	const keep = 6
	if len(seq) <= 2*keep+1 {
		return strings.Join(seq, " → ")
	}
	return fmt.Sprintf("%s → … %d more … → %s", strings.Join(seq[:keep], " → "), len(seq)-2*keep, strings.Join(seq[len(seq)-keep:], " → "))
}

// holderSeq is the sampler's sequence of holder sets.
func holderSeq(changes []HolderChange) []string {
	var out []string
	for _, c := range changes {
		s := strings.Join(c.Holders, "+")
		if s == "" {
			s = "-"
		}
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// answerSeq is the sequence of hosts that answered the client's probes.
func answerSeq(as []Answer) []string {
	var out []string
	for _, a := range as {
		if len(out) == 0 || out[len(out)-1] != a.From {
			out = append(out, a.From)
		}
	}
	return out
}

// moves counts changes of the single holder, ignoring stretches with none
// or with several (h1 → - → h2 is one move, h1 → - → h1 none, h1 → h1+h2
// → h2 one).
func moves(changes []HolderChange) int {
	n := 0
	last := ""
	for _, c := range changes {
		if len(c.Holders) != 1 {
			continue
		}
		if last != "" && c.Holders[0] != last {
			n++
		}
		last = c.Holders[0]
	}
	return n
}

// otherHosts lists the hosts other than owner seen holding alone or
// answering.
func otherHosts(owner string, holders, answered []string) []string {
	var out []string
	for _, h := range append(slices.Clone(holders), answered...) {
		for _, p := range strings.Split(h, "+") {
			if p != owner && p != "-" && p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// orphanGap is the longest stretch in [Start, End] covered neither by a
// holder (sampler), nor by an answer to the client's probes, nor by a
// NoEligible span; and where it starts.
func orphanGap(ev DrillEvidence) (time.Duration, time.Time) {
	var cover []Span
	for i, c := range ev.Holders {
		if len(c.Holders) == 0 {
			continue
		}
		to := ev.End
		if i+1 < len(ev.Holders) {
			to = ev.Holders[i+1].At
		}
		cover = append(cover, Span{c.At, to})
	}
	for _, a := range ev.Answers {
		cover = append(cover, Span{a.At, a.At})
	}
	cover = append(cover, ev.NoEligible...)
	return longestUncovered(ev.Start, ev.End, cover)
}

// longestUncovered returns the longest part of [from, to] outside every
// span, and where it starts.
func longestUncovered(from, to time.Time, spans []Span) (time.Duration, time.Time) {
	sort.Slice(spans, func(i, j int) bool { return spans[i].From.Before(spans[j].From) })
	var best time.Duration
	var at time.Time
	cur := from // everything before cur is covered or measured
	for _, s := range spans {
		if s.From.After(cur) {
			end := s.From
			if end.After(to) {
				end = to
			}
			if g := end.Sub(cur); g > best {
				best, at = g, cur
			}
		}
		if s.To.After(cur) {
			cur = s.To
		}
		if !cur.Before(to) {
			return best, at
		}
	}
	if g := to.Sub(cur); g > best {
		best, at = g, cur
	}
	return best, at
}

// clientOutage is the longest stretch without an answer to the client.
func clientOutage(ev DrillEvidence) time.Duration {
	var cover []Span
	for _, a := range ev.Answers {
		cover = append(cover, Span{a.At, a.At})
	}
	d, _ := longestUncovered(ev.Start, ev.End, cover)
	return d
}

// reclaimVerdict: after it came back, the owner takes the VIP back only by
// an orderly reclaim from the holder, or by indoubt when nobody else held
// it.
func reclaimVerdict(ev DrillEvidence) Verdict {
	v := Verdict{Name: VerdictReclaim, Result: Pass}
	if len(ev.Returns) == 0 {
		v.Evidence = ev.Owner + " did not return to up after it came back"
		if ev.Settled == "" {
			v.Evidence = ev.Owner + " kept or regained the VIP without a state change to up"
		}
		return v
	}
	var how []string
	for _, r := range ev.Returns {
		switch {
		case r.From == "reclaim":
			how = append(how, "by reclaim at "+r.At.Format("15:04:05.000"))
		case r.From == "indoubt" && !heldByOther(ev.Holders, ev.Owner, r.At):
			how = append(how, "from indoubt while nobody held it at "+r.At.Format("15:04:05.000"))
		default:
			v.Result = Fail
			v.Evidence = fmt.Sprintf("%s took the VIP back from %s, not by reclaim: %s", ev.Owner, r.From, r.Line)
			return v
		}
	}
	v.Evidence = ev.Owner + " returned " + strings.Join(how, ", ")
	return v
}

func heldByOther(changes []HolderChange, owner string, t time.Time) bool {
	var cur []string
	for _, c := range changes {
		if c.At.After(t) {
			break
		}
		cur = c.Holders
	}
	for _, h := range cur {
		if h != owner {
			return true
		}
	}
	return false
}
