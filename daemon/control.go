package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
)

// errUnknownService is returned by a backend's command for a service that is
// not configured; the server answers 404.
var errUnknownService = errors.New("unknown service")

// backend is what the control server needs from the daemon. The daemon's
// implementation forwards each call to the goroutine that owns the core.
type backend interface {
	Status(ctx context.Context) (*client.Status, error)
	Command(ctx context.Context, service string, op quorum.Op) (*client.Service, error)
	Node() string
}

// controlServer serves the control API (see package client for the routes).
type controlServer struct {
	b     backend
	level *slog.LevelVar
	log   *slog.Logger
}

// handler returns the full API for the unix socket.
func (s *controlServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", s.ping)
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("POST /v1/services/{name}/fail", s.command(quorum.OpFail))
	mux.HandleFunc("POST /v1/services/{name}/recover", s.command(quorum.OpRecover))
	mux.HandleFunc("PUT /v1/log-level", s.setLevel)
	mux.HandleFunc("GET /v1/log-level", s.getLevel)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// remoteHandler returns the read-only API for the TCP status listener:
// status and ping, each request authenticated with the cluster key.
func (s *controlServer) remoteHandler(key func() []byte, now func() time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", s.ping)
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusForbidden, "the remote status listener is read-only")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := client.Verify(key(), r.Method, r.URL.EscapedPath(),
			r.Header.Get(client.HeaderAuth), r.Header.Get(client.HeaderTime), now())
		if err != nil {
			s.log.Warn("remote status request rejected", "from", r.RemoteAddr, "reason", err.Error())
			writeErr(w, http.StatusUnauthorized, err.Error())
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *controlServer) ping(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, client.Pong{Node: s.b.Node(), Now: time.Now()})
}

func (s *controlServer) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Status(r.Context())
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	st.LogLevel = strings.ToLower(s.level.Level().String())
	writeJSON(w, http.StatusOK, st)
}

func (s *controlServer) command(op quorum.Op) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		svc, err := s.b.Command(r.Context(), name, op)
		switch {
		case errors.Is(err, errUnknownService):
			writeErr(w, http.StatusNotFound, fmt.Sprintf("unknown service %q", name))
		case err != nil:
			writeErr(w, http.StatusConflict, err.Error())
		default:
			writeJSON(w, http.StatusOK, svc)
		}
	}
}

func (s *controlServer) getLevel(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, client.LogLevel{Level: strings.ToLower(s.level.Level().String())})
}

func (s *controlServer) setLevel(w http.ResponseWriter, r *http.Request) {
	var in client.LogLevel
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
		writeErr(w, http.StatusBadRequest, "body must be {\"level\":\"debug|info|warn|error\"}: "+err.Error())
		return
	}
	lv, err := config.ParseLevel(in.Level)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	old := s.level.Level()
	s.level.Set(lv)
	s.log.Info("log level changed", "from", strings.ToLower(old.String()), "to", strings.ToLower(lv.String()))
	writeJSON(w, http.StatusOK, client.LogLevel{Level: strings.ToLower(lv.String())})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, client.ErrorBody{Error: msg})
}

// errAnotherDaemon is returned by listenUnix when a live daemon answers on the
// socket.
var errAnotherDaemon = errors.New("another failoverd is running")

// listenUnix listens on the control socket with mode 0600. A stale socket
// left by a crashed daemon (nobody accepts on it) is replaced; a live one is
// an error wrapping errAnotherDaemon.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket %s: exists and is not a socket", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: %w", path, errAnotherDaemon)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("control socket %s: probing the old socket: %w", path, err)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: removing the stale socket: %w", path, err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return l, nil
}

// serveHTTP serves h on l until ctx ends, then shuts down within a second.
func serveHTTP(ctx context.Context, l net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-done
		return nil
	}
}
