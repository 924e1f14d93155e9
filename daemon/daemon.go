package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/notify"
	"github.com/failover-ha/failover/daemon/snmp"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

// Options are the daemon's dependencies. Only Logger and Level are required.
type Options struct {
	Logger *slog.Logger   // where every line goes
	Level  *slog.LevelVar // the level Logger's handler obeys; set from the config and the API
	// Reload, when it delivers, makes the daemon re-read its config file
	// (SIGHUP). An invalid file is logged and the running config kept.
	Reload <-chan struct{}
	// Net is the host's network access. Nil means this process's namespace
	// (netlink.NewHandle); a test running a daemon inside a lab host passes
	// one bound to that namespace.
	Net *Net
	// Ready, if set, is called once the control socket listens and the core
	// runs.
	Ready func()
}

// Daemon is one failoverd. Run it once.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	reqs  chan request // control API -> loop
	start time.Time
	traps *snmp.Sender   // SNMP traps of state changes; queue only, never blocks
	hooks *notify.Runner // notify hooks and FIFO; queue only, never blocks
	// systemd tells systemd READY, STATUS and WATCHDOG (loop goroutine only).
	systemd *notifier

	svcStats map[string]*svcStats // per service, across sessions; loop only

	mu  sync.Mutex
	cfg *config.Config // the config in force
}

type request struct {
	fn   func(s *session) // runs on the loop goroutine
	done chan struct{}
}

// New returns a daemon for cfg (already validated by LoadConfig).
func New(cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil || opts.Level == nil {
		return nil, errors.New("daemon: Options.Logger and Options.Level are required")
	}
	opts.Level.Set(cfg.Level())
	traps := snmp.New(trapConfig(cfg), snmp.Options{Logger: opts.Logger})
	hooks := notify.New(notifyConfig(cfg), notify.Options{Logger: opts.Logger})
	return &Daemon{opts: opts, log: opts.Logger, cfg: cfg, reqs: make(chan request), traps: traps, hooks: hooks,
		systemd: newNotifier(opts.Logger), svcStats: map[string]*svcStats{}}, nil
}

// Config returns the configuration in force.
func (d *Daemon) Config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// errReload ends a session so that Run starts a new one with cfg.
type errReload struct{ cfg *config.Config }

func (e *errReload) Error() string { return "reload" }

// Run starts the daemon and blocks until ctx ends (a planned hand-over: the
// services we hold are released and handed to a peer before Run returns nil)
// or a part fails to start. Start-up order is the original's: state (core
// and control API), address service (VIP managers, stale copies removed),
// then the peers (paths and link watch).
func (d *Daemon) Run(ctx context.Context) error {
	d.start = time.Now()
	cfg := d.Config()
	// Realtime first: every later start-up step already runs on time.
	startRT := cfg.RealtimePriority
	stopRT := d.startRealtime(startRT)
	defer stopRT()
	// Say at once which capability is missing, not at the first takeover.
	have, err := effectiveCaps()
	if err != nil {
		return err
	}
	if err := checkCaps(cfg, have); err != nil {
		return err
	}
	if cfg.InsecureNoAuth {
		d.log.Warn("INSECURE: insecure_no_auth is set; heartbeats are not authenticated and anyone on a path can forge them")
	}
	nw := d.opts.Net
	if nw == nil {
		var err error
		if nw, err = hostNet(); err != nil {
			return err
		}
		defer nw.Close()
	}
	// Control API first: a second daemon must fail before it touches anything.
	l, err := listenUnix(cfg.ControlSocket)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	srvCtx, stopSrv := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		stopSrv()
		wg.Wait()
	}()
	cs := &controlServer{b: d, level: d.opts.Level, log: d.log}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := serveHTTP(srvCtx, l, cs.handler(), d.log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("control socket failed", "socket", cfg.ControlSocket, "err", err)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.traps.Run(srvCtx) // sends what the last session queued, then returns
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.hooks.Run(srvCtx) // runs what the last session queued (bounded), then returns
	}()
	if cfg.MetricsListen != "" {
		if err := d.startMetrics(srvCtx, &wg, cfg, nw); err != nil {
			return fmt.Errorf("daemon: %w", err)
		}
	}
	logTraps(d.log, cfg)
	if cfg.StatusListen != "" {
		if err := d.startRemote(srvCtx, &wg, cs, cfg); err != nil {
			d.log.Error("remote status listener not started", "listen", cfg.StatusListen, "reason", err.Error())
		}
	}
	inherited := map[string]bool{}
	first := true
	for {
		s, err := newSession(d, cfg, nw, inherited, first)
		if err != nil {
			return err
		}
		if first {
			s.ready = d.opts.Ready
		}
		first = false
		err = s.run(ctx)
		var rl *errReload
		if !errors.As(err, &rl) {
			return err
		}
		inherited = s.held()
		prevMetrics := cfg.MetricsListen
		d.mu.Lock()
		d.cfg = rl.cfg
		d.mu.Unlock()
		cfg = rl.cfg
		d.opts.Level.Set(cfg.Level())
		d.traps.SetConfig(trapConfig(cfg))
		logTraps(d.log, cfg)
		d.hooks.SetConfig(notifyConfig(cfg))
		if cfg.MetricsListen != prevMetrics {
			d.log.Warn("metrics_listen changes take effect at the next start", "metrics_listen", cfg.MetricsListen)
		}
		if cfg.RealtimePriority != startRT {
			d.log.Warn("realtime_priority changes take effect at the next start", "realtime_priority", cfg.RealtimePriority)
		}
		d.log.Info("config reloaded; core restarted", "config", cfg.File, "kept_vips", len(inherited))
	}
}

func (d *Daemon) startRemote(ctx context.Context, wg *sync.WaitGroup, cs *controlServer, cfg *config.Config) error {
	if cfg.KeyFile == "" {
		return errors.New("status_listen needs key_file (requests are authenticated with the cluster key)")
	}
	key, err := client.LoadKey(cfg.KeyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.StatusListen)
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := serveHTTP(ctx, ln, cs.remoteHandler(func() []byte { return key }, time.Now), d.log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("remote status listener failed", "listen", cfg.StatusListen, "err", err)
		}
	}()
	d.log.Info("remote status listening", "listen", cfg.StatusListen)
	return nil
}

// call runs fn on the loop goroutine and waits for it.
func (d *Daemon) call(ctx context.Context, fn func(s *session)) error {
	r := request{fn: fn, done: make(chan struct{})}
	select {
	case d.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Node implements backend.
func (d *Daemon) Node() string { return d.Config().Node }

// Status implements backend.
func (d *Daemon) Status(ctx context.Context) (*client.Status, error) {
	var st *client.Status
	if err := d.call(ctx, func(s *session) { st = s.status() }); err != nil {
		return nil, fmt.Errorf("daemon busy: %w", err)
	}
	return st, nil
}

// Command implements backend.
func (d *Daemon) Command(ctx context.Context, name string, op quorum.Op) (*client.Service, error) {
	var (
		out  *client.Service
		cerr error
	)
	err := d.call(ctx, func(s *session) {
		if _, ok := s.svcs[name]; !ok {
			cerr = errUnknownService
			return
		}
		now := time.Now()
		if now.Before(s.lastAt) {
			now = s.lastAt
		}
		s.lastAt = now
		s.log.Info("operator command", "service", name, "op", op.String())
		acts, err := s.core.Step(quorum.Command{At: now, Service: name, Op: op})
		if err != nil {
			cerr = err
			return
		}
		s.do(now, acts)
		st := s.status()
		for i := range st.Services {
			if st.Services[i].Name == name {
				out = &st.Services[i]
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, cerr
}

// configsEquivalent reports whether b differs from a only in what can change
// without restarting the core (log level and format).
func configsEquivalent(a, b *config.Config) bool {
	x, y := *a, *b
	x.LogLevel, y.LogLevel, x.LogFormat, y.LogFormat = "", "", "", ""
	return reflect.DeepEqual(x, y)
}

// pathCounters is implemented by paths that count their own traffic.
type pathCounters interface {
	Counters() *transport.Counters
}
