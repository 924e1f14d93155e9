package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/failover-ha/failover/daemon/client"
)

// Options are what a page shows besides the status.
type Options struct {
	// Refresh is how often the browser reloads the page; 0 means no reload.
	// Whole seconds; less than a second is rounded up to 1s.
	Refresh time.Duration
	// Generated is when the page was made (shown on the page).
	Generated time.Time
	// Source names the daemon asked ("/run/failover.sock", "198.18.1.1:7406").
	Source string
	// Error, when the status could not be fetched, is shown instead of it;
	// Render is then called with a nil status.
	Error string
}

//go:embed page.html.tmpl
var files embed.FS

var page = template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
	"dur":  fmtDur,
	"when": fmtWhen,
	"loss": func(p float64) string { return fmt.Sprintf("%.1f%%", p) },
}).ParseFS(files, "page.html.tmpl"))

type view struct {
	St        *client.Status
	Refresh   int // seconds; 0 = none
	Generated string
	Source    string
	Error     string
}

// Render writes the page for st (nil if opts.Error says why there is none).
func Render(w io.Writer, st *client.Status, opts Options) error {
	v := view{St: st, Source: opts.Source, Error: opts.Error, Generated: fmtWhen(opts.Generated)}
	if opts.Refresh > 0 {
		v.Refresh = int((opts.Refresh + time.Second - 1) / time.Second)
	}
	if st == nil && v.Error == "" {
		v.Error = "no status"
	}
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("statuspage: %w", err)
	}
	return nil
}

// WriteFile renders the page and atomically replaces path with it (mode
// 0644: a status page is meant to be read by a web server).
func WriteFile(path string, st *client.Status, opts Options) error {
	var b bytes.Buffer
	if err := Render(&b, st, opts); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("statuspage: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("statuspage: write %s: %w", path, err)
	}
	return nil
}

func fmtWhen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("2006-01-02 15:04:05.000 MST")
}

// fmtDur shows a client.Duration; 0 is "-" (unknown or never).
func fmtDur(d client.Duration) string {
	x := time.Duration(d)
	switch {
	case x == 0:
		return "-"
	case x < time.Millisecond:
		return x.Round(time.Microsecond).String()
	case x < time.Minute:
		return x.Round(100 * time.Microsecond).String()
	}
	return x.Round(time.Second).String()
}
