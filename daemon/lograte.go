package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

// Rate limits of log lines that repeat.
const (
	// pathLogWindow and pathLogBurst: the first pathLogBurst moves between
	// up and suspect of one path to one peer in a window are logged as
	// they come; the rest are counted and logged as one summary line when
	// the window ends. A path that hovers at its threshold wrote ~65 lines
	// a second before. Moves to or from down are always logged (damping
	// bounds them).
	pathLogWindow = 10 * time.Second
	pathLogBurst  = 4
	// rejectLogEvery: a rejected frame (bad tag, replay, other cluster,
	// malformed) is logged at info once per source and reason in this
	// period, with the count of those not logged since.
	rejectLogEvery = time.Minute
)

// logLimits holds the rate limiters. path is touched by the loop only;
// rejects by the path readers, under mu.
type logLimits struct {
	path map[[2]string]*pathBurst

	mu      sync.Mutex
	rejects map[rejectKey]*rejectCount
}

type pathBurst struct {
	start  time.Time
	logged int            // lines logged in this window
	muted  int            // changes not logged in this window
	to     map[string]int // muted changes by the state they went to
	last   quorum.PathChanged
}

type rejectKey struct{ path, from, why string }

type rejectCount struct {
	at    time.Time // last logged
	muted uint64
}

// logPath logs a path state change, or counts it if its path has already
// logged pathLogBurst lines in this window.
func (s *session) logPath(now time.Time, a quorum.PathChanged) {
	if s.logs.path == nil {
		s.logs.path = map[[2]string]*pathBurst{}
	}
	k := [2]string{a.Peer, a.Path}
	b := s.logs.path[k]
	if b == nil || now.Sub(b.start) >= pathLogWindow {
		if b != nil {
			s.summarisePath(b)
		}
		b = &pathBurst{start: now, to: map[string]int{}}
		s.logs.path[k] = b
	}
	churn := a.From != quorum.PathDown && a.To != quorum.PathDown
	if !churn || b.logged < pathLogBurst {
		if churn {
			b.logged++
		}
		s.log.Info("path state", "peer", a.Peer, "path", a.Path, "from", a.From.String(), "to", a.To.String(), "reason", a.Reason)
		return
	}
	b.muted++
	b.to[a.To.String()]++
	b.last = a
}

// flushLogs writes the summaries of windows that are over.
func (s *session) flushLogs(now time.Time) {
	for k, b := range s.logs.path {
		if now.Sub(b.start) >= pathLogWindow {
			s.summarisePath(b)
			delete(s.logs.path, k)
		}
	}
}

func (s *session) summarisePath(b *pathBurst) {
	if b.muted == 0 {
		return
	}
	var to []string
	for st, n := range b.to {
		to = append(to, fmt.Sprintf("%d to %s", n, st))
	}
	sort.Strings(to)
	a := b.last
	s.log.Info("path state changes repeated", "peer", a.Peer, "path", a.Path, "more", b.muted,
		"window", pathLogWindow, "changes", strings.Join(to, ", "), "now", a.To.String(), "reason", a.Reason)
	b.muted = 0
	clear(b.to)
}

// reject logs a frame the gate refused, once per source and reason a
// minute (info), with the count of those not logged since. Safe for the
// path readers.
func (l *logLimits) reject(log *slog.Logger, path string, pkt transport.Packet, err error) {
	from := path
	if pkt.From.IsValid() {
		from = pkt.From.String()
	}
	k := rejectKey{path, from, rejectReason(err)}
	now := time.Now()
	l.mu.Lock()
	if l.rejects == nil {
		l.rejects = map[rejectKey]*rejectCount{}
	}
	c := l.rejects[k]
	if c != nil && now.Sub(c.at) < rejectLogEvery {
		c.muted++
		l.mu.Unlock()
		log.Debug("frame rejected", "path", path, "from", from, "reason", err.Error())
		return
	}
	var muted uint64
	if c != nil {
		muted = c.muted
	}
	l.rejects[k] = &rejectCount{at: now}
	l.mu.Unlock()
	log.Info("frame rejected", "path", path, "from", from, "why", k.why, "reason", err.Error(),
		"not_logged_since", muted, "next_log_after", rejectLogEvery)
}

// rejectReason names the gate's sentinel, for the rate limit's key.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, transport.ErrAuth):
		return "bad tag"
	case errors.Is(err, transport.ErrReplay):
		return "replayed"
	case errors.Is(err, transport.ErrCluster):
		return "other cluster"
	case errors.Is(err, transport.ErrVersion):
		return "version"
	}
	return "malformed"
}
