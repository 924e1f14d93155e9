package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/quorum"
	"github.com/failover-ha/failover/transport"
)

// sinkPath is a transport.Path that keeps only the last frame sent.
type sinkPath struct {
	name string
	ctr  transport.Counters
	last []byte
}

func (p *sinkPath) Name() string                    { return p.name }
func (p *sinkPath) Send(b []byte) error             { p.ctr.Sent(len(b)); return nil }
func (p *sinkPath) Recv() (transport.Packet, error) { return transport.Packet{}, transport.ErrClosed }
func (p *sinkPath) Close() error                    { return nil }
func (p *sinkPath) Counters() *transport.Counters   { return &p.ctr }

var benchPaths = []string{"eth0", "eth1", "serial0"}

// loopSession is a session of node self (peer other) wired as the loop
// runs it, with sink paths eth0, eth1 (UDP) and serial0, one service and
// an HMAC key, and no sockets, VIP managers or goroutines.
func loopSession(tb testing.TB, self, other string, now time.Time) *session {
	tb.Helper()
	return loopSessionWith(tb, self, other, now, "")
}

// loopSessionWith is loopSession with extra tables (TOML) at the end of
// the config.
func loopSessionWith(tb testing.TB, self, other string, now time.Time, extra string) *session {
	tb.Helper()
	// Both nodes' configs agree (one fingerprint): the smaller name ranks first.
	first, second := min(self, other), max(self, other)
	text := fmt.Sprintf(`cluster = "lab"
node = %q
key_file = "/nonexistent/key"
control_socket = "/nonexistent/%s.sock"

[[peer]]
name = %q

[[path]]
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"

[[path]]
kind = "udp"
interface = "eth1"
multicast = "239.192.0.2:7405"

[[path]]
name = "serial0"
kind = "serial"
device = "/dev/ttyS0"

[[service]]
name = "web"
vip = "198.18.1.100/32"
interface = "eth0"
priority = {%s = 2, %s = 1}
`, self, self, other, first, second) + extra
	cfg, err := config.Parse(self+".toml", []byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(cfg, Options{Logger: log, Level: new(slog.LevelVar)})
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := transport.NewKeyring(map[uint8][]byte{1: []byte("0123456789abcdef0123456789abcdef")}, 1)
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := transport.NewSealer(cfg.ClusterID, ring)
	if err != nil {
		tb.Fatal(err)
	}
	core, err := quorum.New(cfg.Core(), now)
	if err != nil {
		tb.Fatal(err)
	}
	s := &session{
		d: d, cfg: cfg, log: log, core: core, sealer: sealer,
		gate:   &transport.Gate{Sealer: sealer, Replay: transport.NewReplayGuard(0)},
		byName: map[string]*pathRT{}, svcs: map[string]*svcRT{}, echo: map[[2]string]echo{},
		remote: map[string]remoteSvcs{}, epoch: uint64(now.UnixMicro()), lastAt: now, fingerprint: cfg.Fingerprint(),
		rx: make(chan rxFrame, 256), events: make(chan quorum.Event, 64), links: make(chan transport.LinkEvent, 64),
		ourTimers: wireTimers(cfg.CoreTimers()),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	tb.Cleanup(s.cancel)
	for _, pc := range cfg.Paths {
		sp := &sinkPath{name: pc.Name}
		rt := &pathRT{cfg: pc, p: sp, ctr: sp.Counters(), interval: cfg.SendInterval(pc), carrier: true}
		s.paths = append(s.paths, rt)
		s.byName[pc.Name] = rt
	}
	for _, sc := range cfg.Services {
		s.svcs[sc.Name] = &svcRT{cfg: sc}
		s.order = append(s.order, sc.Name)
	}
	return s
}

// BenchmarkLoopTurn is one turn of the loop at idle, as a node in phase with
// its peer runs it every interval: the peer's heartbeat comes in on eth0,
// eth1 and serial0 (each admitted: HMAC, decode, replay check; then fed to
// the core with its views) and our heartbeat goes out on all three (advert,
// seal, send). The peer's frames are sealed outside the timed part.
func BenchmarkLoopTurn(b *testing.B) {
	t0 := time.Now()
	n1 := loopSession(b, "n1", "n2", t0)
	n2 := loopSession(b, "n2", "n1", t0)
	const batch = 256
	var in [batch][]transport.Packet
	feed := func(s *session, pkt transport.Packet) {
		f, err := s.gate.Admit(pkt, s.byName[pkt.Path].ctr)
		if err != nil {
			b.Fatal(err)
		}
		s.heard(rxFrame{pkt, f})
		for len(s.events) > 0 { // probe answers (no VIP manager: at once)
			s.step(pkt.At, <-s.events)
		}
	}
	fill := func() {
		// n2 hears n1's last heartbeat, so its views see n1 too.
		for _, rt := range n1.paths {
			if last := rt.p.(*sinkPath).last; len(last) > 0 {
				feed(n2, transport.Packet{Path: rt.cfg.Name, Data: last, At: time.Now()})
			}
		}
		for i := range in {
			f, err := n2.seal(transport.KindHeartbeat, nil)
			if err != nil {
				b.Fatal(err)
			}
			f = bytes.Clone(f) // seal reuses its buffer
			in[i] = in[i][:0]
			for _, p := range benchPaths {
				in[i] = append(in[i], transport.Packet{Path: p, Data: f})
			}
		}
	}
	turn := func(i int) {
		now := time.Now()
		for _, pkt := range in[i%batch] {
			pkt.At = now
			feed(n1, pkt)
		}
		n1.nextBeat = time.Time{}
		n1.timers(now)
	}
	// Settle first: n1 holds web after its startup listen (real time).
	for i := 0; n1.serviceState("web") != quorum.StateUp; i++ {
		if i%batch == 0 {
			if time.Since(t0) > 10*time.Second {
				b.Fatalf("web did not come up on n1: %+v", n1.core.Status().Services)
			}
			fill()
		}
		turn(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			fill()
			b.StartTimer()
		}
		turn(i)
	}
}
