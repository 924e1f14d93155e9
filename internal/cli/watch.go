package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/client"
)

func watchCmd() *command {
	return &command{
		name:   "watch",
		short:  "live view of the status, highlighting changes (the original's failmon)",
		common: true,
		long: `Shows the status and refreshes it every --interval until Ctrl-C. Lines that
changed since the last refresh are highlighted, and a change log below the
view lists every state change seen ("service web: recover -> up").

When the output is not a terminal (a pipe or a file), the status is printed
once, then only the change log, one line per change with its time, which
makes a simple event log.
If the daemon stops while watching, the view says so and keeps trying.

With --html FILE, nothing is shown: FILE is rewritten every --refresh
(default 1m) as a self-contained HTML status page that reloads itself at the
same pace (the original's "failmon -h"). The file is replaced atomically, so
a web server can serve it as it is. An unreachable daemon is shown on the
page.`,
		examples: []string{
			"failover watch",
			"failover watch --interval 200ms",
			"failover --socket /run/failover-lab/h2.sock watch > h2-events.log",
			"failover watch --html /var/www/html/failover.html --refresh 30s",
		},
		run: runWatch,
	}
}

func runWatch(ctx context.Context, r *runner, args []string) error {
	c := r.find("watch")
	fs := r.flags(c)
	interval := fs.Duration("interval", time.Second, "refresh every `duration`")
	plain := fs.Bool("plain", false, "print the change log only, even on a terminal")
	html := fs.String("html", "", "write a self-refreshing HTML status page to `file` instead of showing the status")
	refresh := fs.Duration("refresh", time.Minute, "with --html: rewrite the page, and have browsers reload it, every `duration`")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *html != "" {
		if *refresh < minRefresh {
			return usageErrorf("failover watch: --refresh %s is too short (at least %s)", *refresh, minRefresh)
		}
		cl, err := r.dial()
		if err != nil {
			return err
		}
		defer cl.Close()
		return watchHTML(ctx, r, cl, *html, *refresh)
	}
	if *interval < 10*time.Millisecond {
		return usageErrorf("failover watch: --interval %s is too short (at least 10ms)", *interval)
	}
	cl, err := r.dial()
	if err != nil {
		return err
	}
	defer cl.Close()
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	tty := !*plain && !r.json && isTerminal(r.env.Stdout)
	w := &watcher{r: r, tty: tty}
	w.show(st, nil)
	t := time.NewTicker(*interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(r.env.Stdout)
			}
			return nil
		case <-t.C:
		}
		st, err := cl.Status(ctx)
		if ctx.Err() != nil {
			return nil
		}
		w.show(st, err)
	}
}

// watcher keeps what the previous refresh showed.
type watcher struct {
	r       *runner
	tty     bool
	prev    []string          // lines of the previous view
	prevSum map[string]string // summary of the previous status
	log     []string          // change log, newest last
	down    bool              // the daemon was unreachable last time
}

func (w *watcher) show(st *client.Status, err error) {
	now := time.Now().Format("15:04:05.000")
	var cur map[string]string
	var lines []string
	if err != nil {
		if !w.down {
			w.log = append(w.log, now+"  "+plainError(err))
			w.emit(now + "  " + plainError(err))
		}
		w.down = true
		lines = []string{plainError(err), "(retrying)"}
	} else {
		if w.down {
			w.log = append(w.log, now+"  failoverd answers again")
			w.emit(now + "  failoverd answers again")
		}
		w.down = false
		cur = summary(st)
		if w.prevSum != nil {
			for _, ch := range changes(w.prevSum, cur) {
				w.log = append(w.log, now+"  "+ch)
				w.emit(now + "  " + ch)
			}
		} else if !w.tty {
			if w.r.json {
				w.r.printJSON(st)
			} else {
				fmt.Fprint(w.r.env.Stdout, RenderStatus(st))
				fmt.Fprintln(w.r.env.Stdout, "--- changes ---")
			}
		}
		w.prevSum = cur
		lines = strings.Split(strings.TrimRight(RenderStatus(st), "\n"), "\n")
	}
	if len(w.log) > 10 {
		w.log = w.log[len(w.log)-10:]
	}
	if !w.tty {
		return
	}
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	fmt.Fprintf(&b, "failover watch %s  %s  (Ctrl-C to quit)\n\n", w.r.target(), now)
	for i, l := range lines {
		changed := w.prev != nil && (i >= len(w.prev) || w.prev[i] != l) && !volatile(l, w.prev, i)
		if changed {
			b.WriteString("\x1b[7m" + l + "\x1b[0m\n")
		} else {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("\nchanges:\n")
	if len(w.log) == 0 {
		b.WriteString("  (none yet)\n")
	}
	for _, l := range w.log {
		b.WriteString("  " + l + "\n")
	}
	fmt.Fprint(w.r.env.Stdout, b.String())
	w.prev = lines
}

// emit prints one change-log line when the output is not a terminal.
func (w *watcher) emit(line string) {
	if w.tty {
		return
	}
	if w.r.json {
		w.r.printJSON(map[string]string{"time": time.Now().Format(time.RFC3339Nano), "change": strings.SplitN(line, "  ", 2)[1]})
		return
	}
	fmt.Fprintln(w.r.env.Stdout, line)
}

// volatile reports whether line i differs from the previous view only in
// numbers that move all the time (ages, counters), which are not worth a
// highlight.
func volatile(l string, prev []string, i int) bool {
	if i >= len(prev) {
		return false
	}
	return strings.Join(words(l), " ") == strings.Join(words(prev[i]), " ")
}

// words keeps the fields of a line that are not numbers or durations.
func words(l string) []string {
	var out []string
	for _, f := range strings.Fields(l) {
		if f == "" {
			continue
		}
		c := f[0]
		if (c >= '0' && c <= '9') || f == "ago" {
			continue
		}
		out = append(out, f)
	}
	return out
}

func (r *runner) target() string {
	if r.host != "" {
		return r.host
	}
	return r.socket
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
