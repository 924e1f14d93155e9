package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/failover-ha/failover/daemon/client"
)

// HandlerOptions configure NewHandler. Status is required.
type HandlerOptions struct {
	Status StatusFunc // the daemon's status (through its loop)
	// Refresh is how often the page reloads itself unless the request asks
	// for another period with ?refresh=SECONDS (1..3600); 0 means 5s.
	Refresh time.Duration
	Source  string        // shown in the page's footer ("127.0.0.1:9406")
	Timeout time.Duration // bound on each status fetch; 0 means 2s
	Logger  *slog.Logger  // scrape errors at debug; nil: none
}

// DefaultRefresh is the page's reload period unless asked otherwise.
const DefaultRefresh = 5 * time.Second

// NewHandler returns the read-only HTTP handler of a daemon's status:
//
//	GET /             the status page (the page `failover watch --html` writes), reloading itself
//	GET /status.json  the `failover status --json` document
//	GET /metrics      Prometheus metrics (docs/metrics.md), plus the Go runtime's and the process's
//
// Anything else is 404, and any method but GET and HEAD is 405. The handler
// keeps no state between requests and is safe for concurrent use.
func NewHandler(opts HandlerOptions) http.Handler {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(opts.Status, opts.Timeout),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	h := &handler{opts: opts, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", h.page)
	mux.HandleFunc("/status.json", h.json)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return readOnly(mux)
}

type handler struct {
	opts HandlerOptions
	log  *slog.Logger
}

// readOnly answers 405 to anything but GET and HEAD.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: GET or HEAD", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (h *handler) fetch(r *http.Request) (*client.Status, error) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	return h.opts.Status(ctx)
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	refresh := h.opts.Refresh
	if v := r.URL.Query().Get("refresh"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			http.Error(w, "refresh: want whole seconds, 1..3600", http.StatusBadRequest)
			return
		}
		refresh = time.Duration(n) * time.Second
	}
	st, err := h.fetch(r)
	opts := Options{Refresh: refresh, Generated: time.Now(), Source: h.opts.Source}
	code := http.StatusOK
	if err != nil {
		opts.Error = err.Error()
		st = nil
		code = http.StatusServiceUnavailable
	}
	var b bytes.Buffer
	if err := Render(&b, st, opts); err != nil {
		h.log.Error("status page not rendered", "reason", err.Error())
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

func (h *handler) json(w http.ResponseWriter, r *http.Request) {
	st, err := h.fetch(r)
	w.Header().Set("Content-Type", "application/json")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		enc.Encode(map[string]string{"error": err.Error()})
		w.Write(b.Bytes())
		return
	}
	enc.Encode(st)
	w.Write(b.Bytes())
}
