package serial

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/failover-ha/failover/transport"
	bugst "go.bug.st/serial"
)

// Config is one serial path.
type Config struct {
	Name string // path name ("serial0")
	Port string // device ("/dev/ttyS0")
	Baud int    // line speed; 0 = transport.DefaultBaud
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("serial path: name is empty"))
	}
	if c.Port == "" {
		errs = append(errs, fmt.Errorf("serial path %s: port is empty", c.Name))
	}
	if c.Baud < 0 {
		errs = append(errs, fmt.Errorf("serial path %s: baud %d is negative", c.Name, c.Baud))
	}
	return errors.Join(errs...)
}

// Opener opens a serial device; go.bug.st/serial's Open by default. Tests
// replace it with a fake.
type Opener func(port string, mode *bugst.Mode) (bugst.Port, error)

type options struct {
	onLink     func(transport.LinkEvent)
	open       Opener
	minBackoff time.Duration
	maxBackoff time.Duration
	now        func() time.Time
	queue      int
	follow     time.Duration
	resolve    func(string) (string, error)
}

// Option configures a Path.
type Option func(*options)

// WithLinkEvents has the path call fn (from its reader goroutine) when the
// port opens, closes or reopens. fn must not block for long.
func WithLinkEvents(fn func(transport.LinkEvent)) Option { return func(o *options) { o.onLink = fn } }

// WithBackoff sets the reopen delay bounds (default 50ms doubling to 2s).
func WithBackoff(min, max time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = min, max }
}

// WithOpener replaces the function that opens the device.
func WithOpener(fn Opener) Option { return func(o *options) { o.open = fn } }

// WithClock sets the clock used for Packet.At and LinkEvent.At.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithFollow sets how often the path checks that its configured device
// path (a /dev/serial/by-id link) still leads to the device it opened
// (default every second; 0 = never). See Path.
func WithFollow(every time.Duration) Option { return func(o *options) { o.follow = every } }

// WithResolver replaces filepath.EvalSymlinks, which tells where the
// configured device path leads (tests).
func WithResolver(fn func(string) (string, error)) Option { return func(o *options) { o.resolve = fn } }

// Path is a heartbeat path over one serial line. It reads in its own
// goroutine, which also reopens the port with exponential backoff after an
// error, reporting the path down and then up through WithLinkEvents.
//
// A USB adapter that is unplugged and plugged back may come back as another
// device (ttyUSB0, then ttyUSB1); udev moves the /dev/serial/by-id link to
// it. The path opens the configured name each time, so a by-id name follows
// the adapter; and a second goroutine checks every WithFollow period that
// the name still leads where it led at open: if the link moved or went
// while the old port still looked open, the port is closed and reopened.
type Path struct {
	cfg  Config
	opt  options
	mode bugst.Mode
	ctr  transport.Counters

	mu    sync.Mutex
	port  bugst.Port // nil while down
	dev   string     // where cfg.Port led when port was opened ("" = unknown: not followed)
	moved string     // why follow closed the port, for the down event

	frames    chan transport.Packet
	closed    chan struct{}
	closeOnce sync.Once
	done      chan struct{} // the reader has exited
	followed  chan struct{} // the follower has exited
	wbuf      []byte        // Send's encode buffer (one sender at a time)
}

var _ transport.Path = (*Path)(nil)

// New opens the port and starts reading. It fails, naming the path and the
// reason (no such device, permission denied, not a tty), if the first open
// fails; later failures are reported as link events and retried.
func New(cfg Config, opts ...Option) (*Path, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Baud == 0 {
		cfg.Baud = transport.DefaultBaud
	}
	p := &Path{
		cfg: cfg,
		opt: options{
			open: OpenTTY, minBackoff: 50 * time.Millisecond, maxBackoff: 2 * time.Second,
			now: time.Now, queue: 64, follow: time.Second, resolve: filepath.EvalSymlinks,
		},
		mode:     bugst.Mode{BaudRate: cfg.Baud},
		closed:   make(chan struct{}),
		done:     make(chan struct{}),
		followed: make(chan struct{}),
	}
	for _, o := range opts {
		o(&p.opt)
	}
	p.frames = make(chan transport.Packet, p.opt.queue)
	port, err := p.openPort()
	if err != nil {
		return nil, err
	}
	p.port, p.dev = port, p.resolveDev()
	go p.run(port)
	if p.opt.follow > 0 {
		go p.follow()
	} else {
		close(p.followed)
	}
	return p, nil
}

// resolveDev is where cfg.Port leads now, or "" if that cannot be told.
func (p *Path) resolveDev() string {
	dev, err := p.opt.resolve(p.cfg.Port)
	if err != nil {
		return ""
	}
	return dev
}

// follow closes the port when the configured device path no longer leads
// to the device that was opened; the reader then reopens it.
func (p *Path) follow() {
	defer close(p.followed)
	t := time.NewTicker(p.opt.follow)
	defer t.Stop()
	for {
		select {
		case <-p.closed:
			return
		case <-t.C:
		}
		p.mu.Lock()
		port, dev := p.port, p.dev
		p.mu.Unlock()
		if port == nil || dev == "" {
			continue
		}
		now, err := p.opt.resolve(p.cfg.Port)
		if err == nil && now == dev {
			continue
		}
		why := fmt.Sprintf("device moved: %s led to %s, now to %s", p.cfg.Port, dev, now)
		if err != nil {
			why = fmt.Sprintf("device gone: %s led to %s, now nowhere", p.cfg.Port, dev)
		}
		p.mu.Lock()
		if p.port != port {
			p.mu.Unlock()
			continue
		}
		p.moved = why
		p.mu.Unlock()
		port.Close() // the reader's Read fails; it reopens cfg.Port
	}
}

func (p *Path) openPort() (bugst.Port, error) {
	port, err := p.opt.open(p.cfg.Port, &p.mode)
	if err != nil {
		return nil, fmt.Errorf("serial path %s: open %s: %w", p.cfg.Name, p.cfg.Port, describe(err))
	}
	// Bytes written while nobody had the port open are stale.
	if err := port.ResetInputBuffer(); err != nil {
		port.Close()
		return nil, fmt.Errorf("serial path %s: reset input of %s: %w", p.cfg.Name, p.cfg.Port, err)
	}
	return port, nil
}

// describe makes go.bug.st's PortError readable (its Error() is terse).
func describe(err error) error {
	var pe *bugst.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case bugst.PermissionDenied:
			return fmt.Errorf("permission denied: %w", err)
		case bugst.PortNotFound:
			return fmt.Errorf("no such device: %w", err)
		}
	}
	return err
}

// Name is the configured path name.
func (p *Path) Name() string { return p.cfg.Name }

// Config returns the configuration (with defaults applied).
func (p *Path) Config() Config { return p.cfg }

// Counters are the path's statistics. The path counts frames and bytes sent
// and received, damaged serial frames (as malformed) and queue drops; the
// caller counts what Sealer.Open and the replay guard reject.
func (p *Path) Counters() *transport.Counters { return &p.ctr }

// Send writes one framed payload. It returns transport.ErrDown while the
// port is being reopened and transport.ErrClosed after Close. The port is
// in blocking mode: a full output buffer (peer not reading, slow line)
// stalls Send until it drains; a partially written frame (error midway) is
// discarded by the receiver at the next delimiter.
func (p *Path) Send(b []byte) error {
	select {
	case <-p.closed:
		return transport.ErrClosed
	default:
	}
	if len(b) == 0 || len(b) > MaxPayload {
		return fmt.Errorf("serial path %s: send %d bytes: want 1..%d", p.cfg.Name, len(b), MaxPayload)
	}
	p.mu.Lock()
	port := p.port
	p.wbuf = AppendFrame(p.wbuf[:0], b)
	buf := p.wbuf
	p.mu.Unlock()
	if port == nil {
		p.ctr.SendError()
		return fmt.Errorf("serial path %s: %w", p.cfg.Name, transport.ErrDown)
	}
	for len(buf) > 0 {
		n, err := port.Write(buf)
		if err != nil {
			p.ctr.SendError()
			return fmt.Errorf("serial path %s: write: %w", p.cfg.Name, err)
		}
		if n == 0 {
			p.ctr.SendError()
			return fmt.Errorf("serial path %s: write: no progress", p.cfg.Name)
		}
		buf = buf[n:]
	}
	p.ctr.Sent(len(p.wbuf))
	return nil
}

// Recv returns the next complete, CRC-checked payload. Packet.At is taken
// right after the read that completed it.
func (p *Path) Recv() (transport.Packet, error) {
	if p.isClosed() {
		return transport.Packet{}, transport.ErrClosed
	}
	select {
	case pk := <-p.frames:
		return pk, nil
	case <-p.closed:
		return transport.Packet{}, transport.ErrClosed
	}
}

// Close closes the port and stops the reader; it is idempotent and unblocks
// Recv.
func (p *Path) Close() error {
	p.closeOnce.Do(func() {
		close(p.closed)
		p.mu.Lock()
		port := p.port
		p.port = nil
		p.mu.Unlock()
		if port != nil {
			port.Close()
		}
	})
	<-p.done
	<-p.followed
	return nil
}

func (p *Path) event(up bool, reason string) {
	if p.opt.onLink != nil {
		p.opt.onLink(transport.LinkEvent{Path: p.cfg.Name, Up: up, At: p.opt.now(), Reason: reason})
	}
}

func (p *Path) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// run reads until Close, reopening the port after errors.
func (p *Path) run(port bugst.Port) {
	defer close(p.done)
	p.event(true, "port opened")
	d := NewDeframer(MaxPayload)
	buf := make([]byte, 4096)
	for {
		n, err := port.Read(buf)
		at := p.opt.now()
		if n > 0 {
			bad := d.Feed(buf[:n], func(payload []byte) {
				p.ctr.Received(len(payload))
				pk := transport.Packet{Path: p.cfg.Name, Data: append([]byte(nil), payload...), At: at}
				select {
				case p.frames <- pk:
				default:
					p.ctr.Drop()
				}
			})
			for range bad {
				p.ctr.Reject(transport.ErrMalformed)
			}
		}
		if err == nil {
			continue // (0, nil) is a read timeout, not EOF
		}
		if p.isClosed() {
			return
		}
		p.mu.Lock()
		p.port = nil
		why := "port closed: " + err.Error()
		if p.moved != "" {
			why, p.moved = "port closed: "+p.moved, ""
		}
		p.mu.Unlock()
		port.Close()
		p.event(false, why)
		if port = p.reopen(); port == nil {
			return
		}
		d.Reset()
		p.mu.Lock()
		dev := p.dev
		p.mu.Unlock()
		if dev != "" && dev != p.cfg.Port {
			p.event(true, "port reopened: "+p.cfg.Port+" -> "+dev)
		} else {
			p.event(true, "port reopened")
		}
	}
}

// reopen retries with exponential backoff until the port opens (returned,
// installed) or the path is closed (nil).
func (p *Path) reopen() bugst.Port {
	wait := p.opt.minBackoff
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-p.closed:
			return nil
		case <-t.C:
		}
		port, err := p.openPort()
		if err == nil {
			p.mu.Lock()
			if p.isClosed() {
				p.mu.Unlock()
				port.Close()
				return nil
			}
			p.port, p.dev = port, p.resolveDev()
			p.mu.Unlock()
			return port
		}
		wait = min(2*wait, p.opt.maxBackoff)
		t.Reset(wait)
	}
}
