package client

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultSocket is where failoverd listens unless control_socket says otherwise.
const DefaultSocket = "/run/failover.sock"

// Auth headers of the remote (TCP) status listener.
const (
	HeaderAuth = "X-Failover-Auth"
	HeaderTime = "X-Failover-Time"
)

// MaxSkew is how far the X-Failover-Time of a remote request may be from the
// daemon's clock.
const MaxSkew = 30 * time.Second

// ErrNotRunning is returned (wrapped in a *NotRunningError, match it with
// errors.Is) by every call when the daemon cannot be reached: the socket file
// is missing, or nobody accepts connections on it or on the remote address.
var ErrNotRunning = errors.New("failoverd is not running")

// ErrUnknownService is returned by Fail and Recover when the daemon has no
// service of that name.
var ErrUnknownService = errors.New("unknown service")

// NotRunningError says which address could not be reached. Its message is
// "failoverd is not running: cannot reach /run/failover.sock".
type NotRunningError struct {
	Addr string // socket path or host:port
	Err  error  // the underlying dial error
}

func (e *NotRunningError) Error() string {
	return "failoverd is not running: cannot reach " + e.Addr
}

// Is makes errors.Is(err, ErrNotRunning) true.
func (e *NotRunningError) Is(target error) bool { return target == ErrNotRunning }

// Unwrap returns the dial error.
func (e *NotRunningError) Unwrap() error { return e.Err }

// APIError is a non-2xx answer from the daemon.
type APIError struct {
	Code    int    // HTTP status
	Message string // the daemon's error text
}

func (e *APIError) Error() string {
	return fmt.Sprintf("failoverd: %s (%d)", e.Message, e.Code)
}

// Client talks to one failoverd. It is safe for concurrent use.
type Client struct {
	addr   string // socket path or host:port, for messages
	remote bool
	key    []byte
	hc     *http.Client
	base   string
}

// Option configures Dial.
type Option func(*Client)

// WithKey sets the cluster key used to sign requests to a remote daemon.
func WithKey(key []byte) Option { return func(c *Client) { c.key = append([]byte(nil), key...) } }

// WithTimeout bounds each request (default 5s).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.hc.Timeout = d } }

// Dial prepares a client for target: a unix socket path (anything containing
// a "/" or empty for DefaultSocket) or a remote "host:port" status listener,
// which is read-only and needs WithKey. Dial does not connect; every call does,
// and returns a *NotRunningError if nothing answers.
func Dial(target string, opts ...Option) (*Client, error) {
	if target == "" {
		target = DefaultSocket
	}
	c := &Client{addr: target, hc: &http.Client{Timeout: 5 * time.Second}}
	tr := &http.Transport{MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	if strings.Contains(target, "/") {
		sock := target
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		c.base = "http://failoverd"
	} else {
		if _, _, err := net.SplitHostPort(target); err != nil {
			return nil, fmt.Errorf("client: %q is neither a socket path nor host:port: %w", target, err)
		}
		c.remote = true
		c.base = "http://" + target
	}
	c.hc.Transport = tr
	for _, o := range opts {
		o(c)
	}
	if c.remote && len(c.key) == 0 {
		return nil, fmt.Errorf("client: remote daemon %s needs the cluster key", target)
	}
	return c, nil
}

// Addr is the socket path or host:port this client talks to.
func (c *Client) Addr() string { return c.addr }

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Status returns the daemon's full status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	if err := c.do(ctx, http.MethodGet, "/v1/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Fail forces the service to fail here (hand it over). It returns the
// service's state right after the command was applied.
func (c *Client) Fail(ctx context.Context, service string) (*Service, error) {
	return c.command(ctx, service, "fail")
}

// Recover makes the service eligible here again.
func (c *Client) Recover(ctx context.Context, service string) (*Service, error) {
	return c.command(ctx, service, "recover")
}

func (c *Client) command(ctx context.Context, service, op string) (*Service, error) {
	var s Service
	err := c.do(ctx, http.MethodPost, "/v1/services/"+url.PathEscape(service)+"/"+op, nil, &s)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// SetLogLevel changes the daemon's log level (debug, info, warn, error) and
// returns the level now in force.
func (c *Client) SetLogLevel(ctx context.Context, level string) (string, error) {
	var out LogLevel
	if err := c.do(ctx, http.MethodPut, "/v1/log-level", LogLevel{Level: level}, &out); err != nil {
		return "", err
	}
	return out.Level, nil
}

// Ping is the cheapest round trip to the daemon.
func (c *Client) Ping(ctx context.Context) (*Pong, error) {
	var p Pong
	if err := c.do(ctx, http.MethodGet, "/v1/ping", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.remote {
		now := time.Now().Unix()
		req.Header.Set(HeaderTime, strconv.FormatInt(now, 10))
		req.Header.Set(HeaderAuth, Sign(c.key, method, req.URL.EscapedPath(), now))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if unreachable(err) {
			return &NotRunningError{Addr: c.addr, Err: err}
		}
		return fmt.Errorf("client: %s %s on %s: %w", method, path, c.addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("client: %s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		ae := &APIError{Code: resp.StatusCode, Message: msg}
		if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(path, "/v1/services/") {
			return fmt.Errorf("%w: %w", ErrUnknownService, ae)
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("client: %s %s: decoding answer: %w", method, path, err)
		}
	}
	return nil
}

// unreachable reports whether err means nothing listens at the address.
func unreachable(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return false
	}
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTSOCK) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}

// Sign computes the X-Failover-Auth value: hex HMAC-SHA256 over
// method+" "+path+" "+unix-seconds with the cluster key.
func Sign(key []byte, method, path string, unix int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s %s %d", method, path, unix)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a remote request's signature and time against now.
func Verify(key []byte, method, path, auth, unixStr string, now time.Time) error {
	unix, err := strconv.ParseInt(unixStr, 10, 64)
	if err != nil {
		return errors.New("missing or malformed " + HeaderTime)
	}
	skew := now.Sub(time.Unix(unix, 0))
	if skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("request time is %v away from the daemon's clock", skew.Round(time.Second))
	}
	want, _ := hex.DecodeString(Sign(key, method, path, unix))
	got, err := hex.DecodeString(auth)
	if err != nil || !hmac.Equal(want, got) {
		return errors.New("bad " + HeaderAuth)
	}
	return nil
}

// LoadKey reads the send key's secret from a key file in the transport
// format ("<id> <hex secret> [send]" per line, # comments): the key the
// remote status listener authenticates requests with.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("client: key file: %w", err)
	}
	var keys [][]byte
	var send []byte
	for i, ln := range strings.Split(string(b), "\n") {
		if j := strings.IndexByte(ln, '#'); j >= 0 {
			ln = ln[:j]
		}
		f := strings.Fields(ln)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("client: %s:%d: want \"<id> <hex secret> [send]\"", path, i+1)
		}
		k, err := hex.DecodeString(f[1])
		if err != nil {
			return nil, fmt.Errorf("client: %s:%d: secret is not hex", path, i+1)
		}
		keys = append(keys, k)
		if len(f) > 2 && f[2] == "send" {
			send = k
		}
	}
	switch {
	case send != nil:
		return send, nil
	case len(keys) == 1:
		return keys[0], nil
	}
	return nil, fmt.Errorf("client: %s: no send key", path)
}
