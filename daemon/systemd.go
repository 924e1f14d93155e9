package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/failover-ha/failover/quorum"
)

// notifier tells the service manager (systemd, Type=notify) how the daemon
// is doing, through $NOTIFY_SOCKET:
//
//   - READY=1 once, after the first full evaluation: the paths are open, the
//     startup listen is over and every service is decided (up here, recover
//     behind a holder, or fail), or, should a service stay undecided (an
//     address conflict keeps it in indoubt), once settleLimit has passed
//     after the listen;
//   - STATUS= with the service and peer states whenever one changes;
//   - WATCHDOG=1 from the loop's turn, at most every half of $WATCHDOG_USEC,
//     so a loop that wedges stops pinging and systemd kills and restarts the
//     daemon;
//   - STOPPING=1 when the planned hand-over begins.
//
// Without $NOTIFY_SOCKET it does nothing. Its methods run on the loop
// goroutine; it lives on the Daemon, across reloads (READY is sent once).
type notifier struct {
	send     func(state string) error // nil: not under a service manager
	watchdog time.Duration            // WATCHDOG_USEC; 0 = no watchdog
	log      *slog.Logger

	ready    bool
	stopping bool
	dirty    bool      // a service or peer changed since the last STATUS
	status   string    // the last STATUS sent
	lastPing time.Time // the last WATCHDOG=1
}

// settleLimit bounds how long after the startup listen READY waits for the
// services to be decided.
const settleLimit = 5 * time.Second

// newNotifier reads $NOTIFY_SOCKET and $WATCHDOG_USEC (and $WATCHDOG_PID).
func newNotifier(log *slog.Logger) *notifier {
	n := &notifier{log: log}
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return n
	}
	n.send = func(state string) error {
		_, err := sd.SdNotify(false, state)
		return err
	}
	wd, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog setting unusable; not pinging", "reason", err.Error())
	}
	n.watchdog = wd
	log.Info("systemd notification on", "socket", os.Getenv("NOTIFY_SOCKET"), "watchdog", wd)
	return n
}

// saw notes one of the core's actions: state and verdict changes make the
// next turn send a new STATUS.
func (n *notifier) saw(a quorum.Action) {
	switch a.(type) {
	case quorum.StateChanged, quorum.PeerChanged:
		n.dirty = true
	}
}

// turn runs once per turn of the loop, after the turn's events are handled;
// shutdown is set once the planned hand-over has begun. The core is read
// only before READY, after a change and when the hand-over begins.
func (n *notifier) turn(now time.Time, core *quorum.Core, startup time.Duration, shutdown bool) {
	if n.send == nil {
		return
	}
	var lines []string
	if !n.ready || n.dirty || (shutdown && !n.stopping) {
		n.dirty = false
		st := core.Status()
		if s := statusLine(st); s != n.status {
			n.status = s
			lines = append(lines, "STATUS="+s)
		}
		if !n.ready && decided(st, now, startup) {
			n.ready = true
			lines = append(lines, sd.SdNotifyReady)
		}
		if (shutdown || st.Shutdown) && !n.stopping {
			n.stopping = true
			lines = append(lines, sd.SdNotifyStopping)
		}
	}
	if n.watchdog > 0 && now.Sub(n.lastPing) >= n.watchdog/2 {
		n.lastPing = now
		lines = append(lines, sd.SdNotifyWatchdog)
	}
	if len(lines) == 0 {
		return
	}
	if err := n.send(strings.Join(lines, "\n")); err != nil {
		n.log.Debug("systemd notification not sent", "reason", err.Error())
	}
}

// decided reports whether the first evaluation is complete: the startup
// listen is over and no service is still on its way (indoubt, reclaim), or
// settleLimit has passed since the listen ended.
func decided(st quorum.Status, now time.Time, startup time.Duration) bool {
	if st.Starting {
		return false
	}
	if !now.Before(st.Started.Add(startup + settleLimit)) {
		return true
	}
	for _, s := range st.Services {
		if s.State == quorum.StateIndoubt || s.State == quorum.StateReclaim {
			return false
		}
	}
	return true
}

// statusLine is the STATUS= text: each service's state (and its holder when
// another node holds it), then each peer's verdict, like
// "web up; db recover (h2 holds it); peer h2 alive".
func statusLine(st quorum.Status) string {
	var parts []string
	if st.Starting {
		parts = append(parts, "listening before claiming anything")
	}
	for _, s := range st.Services {
		p := s.Name + " " + s.State.String()
		if s.Owner != "" && s.Owner != st.Self {
			p += " (" + s.Owner + " holds it)"
		}
		parts = append(parts, p)
	}
	for _, p := range st.Peers {
		parts = append(parts, "peer "+p.Name+" "+p.State.String())
	}
	if st.Shutdown {
		parts = append(parts, "handing over")
	}
	return strings.Join(parts, "; ")
}

// UnderJournal reports whether w is the journal's stream for this service:
// systemd sets $JOURNAL_STREAM to the device and inode of the stream it
// connected stderr (and stdout) to.
func UnderJournal(w io.Writer) bool {
	f, ok := w.(*os.File)
	v := os.Getenv("JOURNAL_STREAM")
	if !ok || v == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return v == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// JournalHandler returns a slog handler for the journal: each record is one
// line starting with its syslog priority ("<6>" info, "<4>" warn, "<3>"
// error, "<7>" debug), which journald takes as the entry's priority and
// strips. The journal stamps every entry itself, so the text form carries no
// time of its own; the JSON form keeps it for the programs that read it.
func JournalHandler(w io.Writer, json bool, opts *slog.HandlerOptions) slog.Handler {
	o := *opts
	if !json {
		replace := o.ReplaceAttr
		o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			if replace != nil {
				return replace(groups, a)
			}
			return a
		}
	}
	j := &journalHandler{w: w, mu: new(sync.Mutex), buf: new(bytes.Buffer)}
	if json {
		j.h = slog.NewJSONHandler(j.buf, &o)
	} else {
		j.h = slog.NewTextHandler(j.buf, &o)
	}
	return j
}

// journalHandler formats a record with h into buf, behind its priority.
type journalHandler struct {
	w   io.Writer
	h   slog.Handler // writes into buf
	mu  *sync.Mutex  // guards buf and w; shared by the WithAttrs/WithGroup copies
	buf *bytes.Buffer
}

func (j *journalHandler) Enabled(ctx context.Context, l slog.Level) bool { return j.h.Enabled(ctx, l) }

func (j *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf.Reset()
	fmt.Fprintf(j.buf, "<%d>", priority(r.Level))
	if err := j.h.Handle(ctx, r); err != nil {
		return err
	}
	_, err := j.w.Write(j.buf.Bytes())
	return err
}

func (j *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &journalHandler{w: j.w, h: j.h.WithAttrs(as), mu: j.mu, buf: j.buf}
}

func (j *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{w: j.w, h: j.h.WithGroup(name), mu: j.mu, buf: j.buf}
}

// priority maps a slog level to a syslog priority (sd-daemon(3)).
func priority(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3 // err
	case l >= slog.LevelWarn:
		return 4 // warning
	case l >= slog.LevelInfo:
		return 6 // info
	}
	return 7 // debug
}
