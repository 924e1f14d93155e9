package check

// Verdict turns a check's results into a pass/fail state through rise and
// fall. The zero value is not usable: build one with NewVerdict. It is
// pure: no clock, no goroutine.
type Verdict struct {
	rise, fall int
	ok         bool
	seen       bool // at least one result observed
	streak     int  // results in a row that disagree with ok
}

// NewVerdict returns a verdict that is healthy until its first result and
// then needs rise passes or fall failures in a row to change (values below
// 1 count as 1).
func NewVerdict(rise, fall int) *Verdict {
	return &Verdict{rise: max(rise, 1), fall: max(fall, 1), ok: true}
}

// Observe records one result and reports whether the verdict changed. The
// first result decides at once: a service whose check fails from the start
// must not wait fall intervals before it is known to be unfit.
func (v *Verdict) Observe(pass bool) (changed bool) {
	if !v.seen {
		v.seen = true
		v.streak = 0
		if pass != v.ok {
			v.ok = pass
			return true
		}
		return false
	}
	if pass == v.ok {
		v.streak = 0
		return false
	}
	v.streak++
	need := v.fall
	if pass {
		need = v.rise
	}
	if v.streak < need {
		return false
	}
	v.ok = pass
	v.streak = 0
	return true
}

// OK reports the current verdict.
func (v *Verdict) OK() bool { return v.ok }

// Seen reports whether any result has been observed.
func (v *Verdict) Seen() bool { return v.seen }

// Streak is how many results in a row disagreed with the verdict so far
// (toward rise while failing, toward fall while healthy).
func (v *Verdict) Streak() int { return v.streak }
