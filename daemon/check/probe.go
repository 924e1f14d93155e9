package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/failover-ha/failover/daemon/proc"
)

// newProber returns the prober of sp (already validated).
func newProber(sp Spec, inside func(func() error) error) prober {
	switch sp.Kind {
	case KindExec:
		return &execProbe{argv: sp.Command, env: []string{"FAILOVER_SERVICE=" + sp.Service, "FAILOVER_CHECK=" + sp.Name}, inside: inside}
	case KindTCP:
		return &tcpProbe{addr: sp.Target, inside: inside}
	case KindHTTP:
		return newHTTPProbe(sp, inside)
	case KindPing:
		if sp.Method == MethodARP {
			return &arpProbe{target: sp.Target, iface: sp.Interface, inside: inside}
		}
		return &icmpProbe{target: sp.Target, inside: inside}
	}
	panic("check: newProber: unvalidated kind " + string(sp.Kind))
}

// execProbe runs a command in its own process group; exit 0 passes.
type execProbe struct {
	argv   []string
	env    []string
	inside func(func() error) error
}

func (p *execProbe) probe(ctx context.Context) (bool, string) {
	cmd, out := proc.Command(ctx, p.argv, p.env, 4096)
	if err := p.inside(cmd.Start); err != nil {
		return false, "not started: " + err.Error()
	}
	err := cmd.Wait()
	text := oneLine(out.String())
	if ctx.Err() != nil {
		return false, "process group killed"
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		why := ee.ProcessState.String() // "exit status 2", "signal: killed"
		if text != "" {
			why += ": " + text
		}
		return false, why
	case err != nil:
		return false, err.Error()
	}
	if text == "" {
		text = "exit status 0"
	}
	return true, text
}

// tcpProbe connects to addr and closes at once.
type tcpProbe struct {
	addr   string
	inside func(func() error) error
}

func (p *tcpProbe) probe(ctx context.Context) (bool, string) {
	t0 := time.Now()
	c, err := dial(ctx, p.inside, "tcp", p.addr)
	if err != nil {
		return false, err.Error()
	}
	c.Close()
	return true, fmt.Sprintf("connected to %s in %s", p.addr, time.Since(t0).Round(time.Microsecond))
}

// dial connects from where inside runs.
func dial(ctx context.Context, inside func(func() error) error, network, addr string) (net.Conn, error) {
	var d net.Dialer
	var c net.Conn
	err := inside(func() error {
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// httpProbe GETs a URL; the status must be want and the body must contain
// body.
type httpProbe struct {
	url    string
	want   int
	body   string
	client *http.Client
}

// maxBody bounds how much of a body is searched for the substring.
const maxBody = 64 << 10

func newHTTPProbe(sp Spec, inside func(func() error) error) *httpProbe {
	want := sp.Status
	if want == 0 {
		want = http.StatusOK
	}
	tr := &http.Transport{
		// A fresh connection per run: a pooled one to a frozen server
		// would hide that new clients cannot connect.
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, inside, network, addr)
		},
		Proxy: nil, // a health check asks the service itself
	}
	return &httpProbe{
		url: sp.Target, want: want, body: sp.Body,
		client: &http.Client{
			Transport: tr,
			// The status of the URL asked is what counts, redirects included.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func (p *httpProbe) probe(ctx context.Context) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "failoverd-check")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the `Get "url": ` prefix; the check names the URL
		}
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	got := "HTTP " + resp.Status
	if resp.StatusCode != p.want {
		return false, fmt.Sprintf("%s, want %d", got, p.want)
	}
	if p.body != "" {
		if err != nil {
			return false, got + ": body: " + err.Error()
		}
		if !strings.Contains(string(b), p.body) {
			return false, fmt.Sprintf("%s: body lacks %q", got, p.body)
		}
		return true, fmt.Sprintf("%s, body has %q", got, p.body)
	}
	return true, got
}
