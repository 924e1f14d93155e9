package rig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/icmp"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/internal/lab"
)

// Service is one floating address of the rig's cluster.
type Service struct {
	Name       string
	VIP        netip.Prefix   // 198.18.1.x/32 on eth0
	Priorities map[string]int // host -> priority; a missing host may not run it
	NoFailback bool           // a returning higher-priority host does not reclaim
}

// DefaultVIP is the address of the default service "web".
var DefaultVIP = netip.MustParsePrefix("198.18.1.100/32")

// Options describe the cluster to run.
type Options struct {
	Hosts    int       // 1..16; default 2
	NoSerial bool      // no null-modem cables (else h1-h2, h2-h3, ... chained)
	Services []Service // default: "web" on DefaultVIP, priority N..1 for h1..hN
	// Failoverd is the daemon binary to run in each host (required).
	Failoverd string
	// Failover is the failover binary; when set, each host runs "failover
	// lab responder" as a process (frozen with the host). When empty the
	// responders run in this process.
	Failover string
	// Dir holds configs, the key and logs; a temporary directory (removed by
	// Close) when empty.
	Dir string
	// SocketDir holds the daemons' control sockets (<host>.sock); Dir when
	// empty.
	SocketDir string
	// Interval and Deadtime of the heartbeats; failoverd's defaults when
	// zero.
	Interval, Deadtime time.Duration
	// Startup is how long a daemon listens before claiming an unannounced
	// service; failoverd's default (3 x deadtime) when zero.
	Startup time.Duration
	// More timers ([timers] indoubt_hold, damping, carrier_settle and the
	// services' lifetime and probe_window); failoverd's defaults when zero.
	IndoubtHold, Damping, CarrierSettle time.Duration
	Lifetime, ProbeWindow               time.Duration
	// TimerKeys are more keys of the generated [timers] table
	// ("adaptive_floor": "50ms", "preset": "lan", "flap_limit": "3"),
	// written in key order; a key given here wins over Interval, Deadtime
	// or Startup. A value that reads as a TOML integer or boolean is
	// written bare, anything else as a string. CheckConfig reports a key or
	// value failoverd would refuse.
	TimerKeys map[string]string
	// LogJSON runs the daemons with log_format = "json" (the bench reads
	// the stages of a takeover from their logs).
	LogJSON bool
	// ICMP also pings each VIP from the client every ProbeInterval
	// (Rig.Pinger), beside the UDP probes.
	ICMP bool
	// Logf narrates what the rig does (nil: silent).
	Logf func(format string, args ...any)
	// DaemonLog, when set, also receives every daemon's log lines, each
	// prefixed with the host name.
	DaemonLog io.Writer
	// ConfigHook may edit a host's generated config text before it is
	// written (tests use it to break configs).
	ConfigHook func(host string, cfg string) string
	// Setup, when set, runs once the rack is built and the configs are
	// written, before any daemon starts (tests start services in the hosts
	// here, for the daemons' health checks).
	Setup func(l *lab.Lab) error
	// Env is added to every daemon's environment ("GOMAXPROCS=1").
	Env []string
}

func (o *Options) defaults() error {
	if o.Hosts == 0 {
		o.Hosts = 2
	}
	if o.Hosts < 1 || o.Hosts > lab.MaxHosts {
		return fmt.Errorf("rig: %d hosts: want 1..%d", o.Hosts, lab.MaxHosts)
	}
	if o.Failoverd == "" {
		return errors.New("rig: no failoverd binary")
	}
	if len(o.Services) == 0 {
		prio := map[string]int{}
		for i := 1; i <= o.Hosts; i++ {
			prio[HostName(i)] = o.Hosts + 1 - i
		}
		o.Services = []Service{{Name: "web", VIP: DefaultVIP, Priorities: prio}}
	}
	for _, s := range o.Services {
		if !netip.MustParsePrefix("198.18.0.0/15").Contains(s.VIP.Addr()) {
			return fmt.Errorf("rig: service %s: VIP %s is outside 198.18.0.0/15", s.Name, s.VIP)
		}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return nil
}

// HostName is "h<i>".
func HostName(i int) string { return "h" + strconv.Itoa(i) }

// Rig is a running virtual cluster.
type Rig struct {
	Lab  *lab.Lab
	opts Options
	dir  string
	own  bool // dir is ours to remove
	key  string

	mu         sync.Mutex
	closed     bool
	daemons    map[string]*Daemon
	clients    map[string]*client.Client
	probers    map[string]*Prober // by service
	pingers    map[string]*Pinger // by service, with Options.ICMP
	responders []*net.UDPConn
	respProcs  []*exec.Cmd
}

// Daemon is one failoverd process.
type Daemon struct {
	Host string
	Cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done
	log  *os.File
}

// Done is closed when the process has exited.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Err is the process's exit error (nil for exit 0); valid after Done.
func (d *Daemon) Err() error { return d.err }

// New builds the rack, writes the configs and key, and starts the
// responders, the daemons and the probers. On error it tears down what it
// built.
func New(ctx context.Context, opts Options) (_ *Rig, err error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	r := &Rig{opts: opts, daemons: map[string]*Daemon{}, clients: map[string]*client.Client{}, probers: map[string]*Prober{}, pingers: map[string]*Pinger{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	r.dir = opts.Dir
	if r.dir == "" {
		if r.dir, err = os.MkdirTemp("", "failover-lab-"); err != nil {
			return nil, fmt.Errorf("rig: %w", err)
		}
		r.own = true
	} else if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return nil, fmt.Errorf("rig: %w", err)
	}
	if opts.SocketDir == "" {
		r.opts.SocketDir = r.dir
	} else if err := os.MkdirAll(opts.SocketDir, 0o755); err != nil {
		return nil, fmt.Errorf("rig: socket directory: %w", err)
	}

	var serial [][2]int
	if !opts.NoSerial {
		for i := 1; i < opts.Hosts; i++ {
			serial = append(serial, [2]int{i, i + 1})
		}
	}
	t0 := time.Now()
	r.Lab, err = lab.New(lab.Options{Hosts: opts.Hosts, Serial: serial})
	if err != nil {
		return nil, err
	}
	opts.Logf("built a rack of %d hosts (eth0 198.18.1.0/24, eth1 198.18.2.0/24, %d serial cables) and a client in %s",
		opts.Hosts, len(serial), time.Since(t0).Round(time.Millisecond))

	if err := r.writeKey(); err != nil {
		return nil, err
	}
	for _, h := range r.Lab.Hosts() {
		if err := r.WriteConfig(h.Name(), ""); err != nil {
			return nil, err
		}
	}
	opts.Logf("wrote configs and the cluster key to %s", r.dir)

	if opts.Setup != nil {
		if err := opts.Setup(r.Lab); err != nil {
			return nil, fmt.Errorf("rig: setup: %w", err)
		}
	}
	if err := r.startResponders(); err != nil {
		return nil, err
	}
	for _, h := range r.Lab.Hosts() {
		if _, err := r.StartDaemon(h.Name()); err != nil {
			return nil, err
		}
	}
	opts.Logf("started failoverd in %d hosts (logs in %s/<host>.log)", opts.Hosts, r.dir)
	for _, s := range opts.Services {
		if err := r.startProber(s); err != nil {
			return nil, err
		}
	}
	opts.Logf("the client (198.18.1.250) probes each VIP on udp/%d every %s", ProbePort, ProbeInterval)
	if opts.ICMP {
		for i, s := range opts.Services {
			if err := r.startPinger(s, 0xf000+i); err != nil {
				return nil, err
			}
		}
		opts.Logf("the client pings each VIP (ICMP echo) every %s", ProbeInterval)
	}
	return r, nil
}

// Dir is the directory holding configs, key and logs.
func (r *Rig) Dir() string { return r.dir }

// KeyFile is the cluster key's path.
func (r *Rig) KeyFile() string { return r.key }

// ConfigFile is host's config path.
func (r *Rig) ConfigFile(host string) string { return filepath.Join(r.dir, host+".toml") }

// LogFile is host's daemon log path.
func (r *Rig) LogFile(host string) string { return filepath.Join(r.dir, host+".log") }

// Socket is host's control socket path.
func (r *Rig) Socket(host string) string {
	return filepath.Join(r.opts.SocketDir, host+".sock")
}

// Services are the cluster's services.
func (r *Rig) Services() []Service { return slices.Clone(r.opts.Services) }

// Service returns the named service.
func (r *Rig) Service(name string) (Service, bool) {
	for _, s := range r.opts.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Hosts returns "h1".."hN".
func (r *Rig) Hosts() []string {
	var out []string
	for _, h := range r.Lab.Hosts() {
		out = append(out, h.Name())
	}
	return out
}

func (r *Rig) writeKey() error {
	b := make([]byte, 32)
	rand.Read(b)
	r.key = filepath.Join(r.dir, "cluster.key")
	if err := os.WriteFile(r.key, []byte("# lab cluster key: <id> <hex secret>\n1 "+hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		return fmt.Errorf("rig: writing key: %w", err)
	}
	return nil
}

// WriteConfig writes host's config: the generated one when text is empty,
// else text as given.
func (r *Rig) WriteConfig(host, text string) error {
	if text == "" {
		text = r.Config(host)
		if r.opts.ConfigHook != nil {
			text = r.opts.ConfigHook(host, text)
		}
	}
	if err := os.WriteFile(r.ConfigFile(host), []byte(text), 0o600); err != nil {
		return fmt.Errorf("rig: writing config of %s: %w", host, err)
	}
	return nil
}

func (r *Rig) startResponders() error {
	for _, h := range r.Lab.Hosts() {
		if r.opts.Failover != "" {
			cmd := exec.Command(r.opts.Failover, "lab", "responder", "--name", h.Name(), "--port", strconv.Itoa(ProbePort))
			cmd.Stderr = os.Stderr
			if err := h.Start(cmd); err != nil {
				return fmt.Errorf("rig: responder in %s: %w", h.Name(), err)
			}
			r.mu.Lock()
			r.respProcs = append(r.respProcs, cmd)
			r.mu.Unlock()
			go cmd.Wait()
			continue
		}
		var conn *net.UDPConn
		err := h.Do(func() error {
			var err error
			conn, err = net.ListenUDP("udp4", &net.UDPAddr{Port: ProbePort})
			return err
		})
		if err != nil {
			return fmt.Errorf("rig: responder in %s: %w", h.Name(), err)
		}
		r.mu.Lock()
		r.responders = append(r.responders, conn)
		r.mu.Unlock()
		go Respond(conn, h.Name())
	}
	return nil
}

func (r *Rig) startProber(s Service) error {
	var conn *net.UDPConn
	err := r.Lab.Client().Do(func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{})
		return err
	})
	if err != nil {
		return fmt.Errorf("rig: prober in the client: %w", err)
	}
	pr := StartProber(conn, netip.AddrPortFrom(s.VIP.Addr(), ProbePort))
	r.mu.Lock()
	r.probers[s.Name] = pr
	r.mu.Unlock()
	return nil
}

func (r *Rig) startPinger(s Service, id int) error {
	var conn *icmp.PacketConn
	err := r.Lab.Client().Do(func() error {
		var err error
		conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return fmt.Errorf("rig: pinger in the client: %w", err)
	}
	pi := StartPinger(conn, s.VIP.Addr(), id)
	r.mu.Lock()
	r.pingers[s.Name] = pi
	r.mu.Unlock()
	return nil
}

// Pinger returns the client's ICMP pinger of service svc ("" = the first),
// or nil without Options.ICMP.
func (r *Rig) Pinger(svc string) *Pinger {
	if svc == "" {
		svc = r.opts.Services[0].Name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pingers[svc]
}

// Prober returns the client's prober of service svc ("" = the first).
func (r *Rig) Prober(svc string) *Prober {
	if svc == "" {
		svc = r.opts.Services[0].Name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.probers[svc]
}

// StartDaemon starts failoverd in host (again, after it exited).
func (r *Rig) StartDaemon(host string) (*Daemon, error) {
	h := r.Lab.Host(host)
	if h == nil {
		return nil, fmt.Errorf("rig: no host %q", host)
	}
	r.mu.Lock()
	if d := r.daemons[host]; d != nil {
		select {
		case <-d.done:
		default:
			r.mu.Unlock()
			return nil, fmt.Errorf("rig: failoverd already runs in %s (pid %d)", host, d.Cmd.Process.Pid)
		}
	}
	r.mu.Unlock()
	logf, err := os.OpenFile(r.LogFile(host), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rig: %w", err)
	}
	var out io.Writer = logf
	if r.opts.DaemonLog != nil {
		out = io.MultiWriter(logf, &prefixWriter{w: r.opts.DaemonLog, prefix: host + ": "})
	}
	cmd := exec.Command(r.opts.Failoverd, "--config", r.ConfigFile(host))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = r.dir
	if len(r.opts.Env) > 0 {
		cmd.Env = append(os.Environ(), r.opts.Env...)
	}
	if err := h.Start(cmd); err != nil {
		logf.Close()
		return nil, err
	}
	d := &Daemon{Host: host, Cmd: cmd, done: make(chan struct{}), log: logf}
	go func() {
		d.err = cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	r.mu.Lock()
	r.daemons[host] = d
	r.mu.Unlock()
	return d, nil
}

// Daemon returns host's current (or last) daemon process, or nil.
func (r *Rig) Daemon(host string) *Daemon {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.daemons[host]
}

// Signal sends sig to host's daemon.
func (r *Rig) Signal(host string, sig syscall.Signal) error {
	d := r.Daemon(host)
	if d == nil {
		return fmt.Errorf("rig: no daemon in %s", host)
	}
	if err := d.Cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("rig: signal %v to failoverd in %s: %w", sig, host, err)
	}
	return nil
}

// Client returns a control client for host's daemon.
func (r *Rig) Client(host string) *client.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.clients[host]; c != nil {
		return c
	}
	c, err := client.Dial(r.Socket(host), client.WithTimeout(2*time.Second))
	if err != nil {
		panic(fmt.Sprintf("rig: socket path %q rejected by client.Dial: %v", r.Socket(host), err))
	}
	r.clients[host] = c
	return c
}

// Status asks host's daemon for its status.
func (r *Rig) Status(ctx context.Context, host string) (*client.Status, error) {
	return r.Client(host).Status(ctx)
}

// State returns the state of svc on host and the owner host believes in.
func (r *Rig) State(ctx context.Context, host, svc string) (state, owner string, err error) {
	st, err := r.Status(ctx, host)
	if err != nil {
		return "", "", err
	}
	for _, s := range st.Services {
		if s.Name == svc {
			return s.State, s.Owner, nil
		}
	}
	return "", "", fmt.Errorf("rig: %s has no service %q", host, svc)
}

// Present reports whether svc's VIP is on host's eth0 now (netlink inside
// the host).
func (r *Rig) Present(host, svc string) (bool, error) {
	s, ok := r.Service(svc)
	if !ok {
		return false, fmt.Errorf("rig: no service %q", svc)
	}
	h := r.Lab.Host(host)
	if h == nil {
		return false, fmt.Errorf("rig: no host %q", host)
	}
	link, err := h.Netlink().LinkByName("eth0")
	if err != nil {
		return false, fmt.Errorf("rig: %s eth0: %w", host, err)
	}
	addrs, err := h.Netlink().AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return false, fmt.Errorf("rig: %s eth0 addresses: %w", host, err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == s.VIP.Addr() {
			return true, nil
		}
	}
	return false, nil
}

// Holders lists the hosts that have svc's VIP on eth0 now.
func (r *Rig) Holders(svc string) ([]string, error) {
	var out []string
	for _, h := range r.Hosts() {
		ok, err := r.Present(h, svc)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// Close stops probers, responders and daemons and removes the rack and the
// rig's files. It is idempotent.
func (r *Rig) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	probers := r.probers
	pingers := r.pingers
	resp := r.responders
	clients := r.clients
	r.mu.Unlock()
	for _, p := range probers {
		p.Close()
	}
	for _, p := range pingers {
		p.Close()
	}
	for _, c := range resp {
		c.Close()
	}
	for _, c := range clients {
		c.Close()
	}
	var errs []error
	if r.Lab != nil {
		errs = append(errs, r.Lab.Close())
	}
	r.mu.Lock()
	daemons := r.daemons
	r.mu.Unlock()
	for _, d := range daemons {
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
			errs = append(errs, fmt.Errorf("rig: failoverd in %s did not exit", d.Host))
		}
	}
	if r.opts.SocketDir != r.dir {
		for _, h := range r.hostNames() {
			os.Remove(r.Socket(h))
		}
	}
	if r.own {
		errs = append(errs, os.RemoveAll(r.dir))
	}
	return errors.Join(errs...)
}

func (r *Rig) hostNames() []string {
	var out []string
	for i := 1; i <= r.opts.Hosts; i++ {
		out = append(out, HostName(i))
	}
	return out
}

// prefixWriter prefixes every line written through it.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	mid    bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
