package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Wire format version written by this package. See docs/design.md, "Wire format".
const Version = 1

// Bounds on every count and length in a frame. UnmarshalBinary rejects a
// frame that exceeds any of them (ErrMalformed) and MarshalBinary refuses to
// produce one, so no input can make the decoder allocate more than about
// MaxFrameLen bytes of strings plus bounded slices.
const (
	MaxNameLen   = 32   // Node, PathView.Peer, PathView.Path, Control.Target
	MaxSvcLen    = 64   // ServiceView.Name, Control.Service
	MaxViews     = 32   // len(Frame.Views)
	MaxServices  = 32   // len(Frame.Services)
	MaxFrameLen  = 4096 // an encoded (unsealed) frame; a sealed one adds TagLen
	headerLen    = 7    // version, kind, cluster (4), key id
	minViewLen   = 8    // smallest encoding of one PathView
	minSvcLen    = 3    // smallest encoding of one ServiceView
	flagViewUp   = 1 << 0
	knownViewFlg = flagViewUp
	// The trailing sections (docs/design.md, "Wire format"): a tag byte,
	// a 2-byte body length, the body.
	sectTimers      = 1 // Frame.Timers
	sectHeaderLen   = 3
	minSvcTimersLen = 2 // smallest encoding of one ServiceTimers
	flagFailback    = 1 << 0
	knownSvcFlg     = flagFailback
	maxFlapLimit    = 1<<16 - 1 // Timers.FlapLimit
)

// Sentinel errors. Open and UnmarshalBinary wrap them with context; test with
// errors.Is.
var (
	// ErrMalformed: the bytes are not a well-formed frame (truncated, a count
	// or length out of bounds, an unknown kind, a bad varint).
	ErrMalformed = errors.New("transport: malformed frame")
	// ErrVersion: the frame's version byte is not one this package reads.
	ErrVersion = errors.New("transport: unsupported frame version")
	// ErrCluster: the frame belongs to another cluster id (checked before
	// authentication, so a neighbouring cluster with its own key is reported
	// as such rather than as a forgery).
	ErrCluster = errors.New("transport: frame from another cluster")
	// ErrAuth: the key id is unknown or the tag does not verify (forged,
	// corrupted, or sealed with a key we do not hold), or an unauthenticated
	// frame reached a receiver that requires authentication.
	ErrAuth = errors.New("transport: authentication failed")
	// ErrReplay: the (epoch, seq) was already seen, is older than the replay
	// window, or the epoch is lower than the one already seen from that
	// peer on that path.
	ErrReplay = errors.New("transport: replayed or stale frame")
)

// durations travel as microseconds (signed varint): a frame on a 9600 baud
// line must stay small. Sub-microsecond parts are truncated.
func durMicros(d time.Duration) int64 { return int64(d / time.Microsecond) }
func microsDur(v int64) time.Duration {
	const lim = int64(1<<63-1) / int64(time.Microsecond)
	// Saturate at the largest whole number of µs, so that decoding and
	// re-encoding is stable.
	return time.Duration(max(-lim, min(v, lim))) * time.Microsecond
}

// MarshalBinary encodes f in wire format version 1 (without a tag; see
// Sealer.Seal for what goes on the wire). Durations are carried with
// microsecond resolution. It fails if f breaks a bound (name lengths,
// counts, MaxFrameLen) or if Kind and Control disagree.
func (f Frame) MarshalBinary() ([]byte, error) {
	return f.AppendBinary(make([]byte, 0, 128))
}

// AppendBinary appends the encoding of f to b (see MarshalBinary).
func (f Frame) AppendBinary(b []byte) ([]byte, error) {
	if err := f.check(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, Version, byte(f.Kind))
	b = binary.BigEndian.AppendUint32(b, f.Cluster)
	b = append(b, f.KeyID)
	b = appendStr(b, f.Node)
	b = binary.AppendUvarint(b, f.Epoch)
	b = binary.AppendUvarint(b, f.Seq)
	b = binary.AppendVarint(b, f.SentAt)
	b = binary.AppendVarint(b, durMicros(f.Interval))
	b = binary.BigEndian.AppendUint32(b, f.Fingerprint)
	b = append(b, byte(len(f.Views)))
	for _, v := range f.Views {
		b = appendStr(b, v.Peer)
		b = appendStr(b, v.Path)
		var fl byte
		if v.Up {
			fl |= flagViewUp
		}
		b = append(b, fl)
		b = binary.AppendVarint(b, durMicros(v.LastHeard))
		b = append(b, v.Loss)
		b = binary.AppendUvarint(b, v.EchoSeq)
		b = binary.AppendVarint(b, v.EchoAt)
		b = binary.AppendVarint(b, durMicros(v.EchoHold))
	}
	b = append(b, byte(len(f.Services)))
	for _, s := range f.Services {
		b = appendStr(b, s.Name)
		b = append(b, s.State, s.Priority)
	}
	if f.Kind == KindControl {
		c := f.Control
		b = append(b, byte(c.Op))
		b = appendStr(b, c.Service)
		b = appendStr(b, c.Target)
		b = binary.AppendUvarint(b, c.Ref)
	}
	if t := f.Timers; t != nil {
		b = appendTimers(b, t)
	}
	if n := len(b) - start; n > MaxFrameLen {
		return b[:start], fmt.Errorf("transport: encode: frame is %d bytes, limit %d", n, MaxFrameLen)
	}
	return b, nil
}

func (f *Frame) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("transport: encode: "+format, a...)) }
	switch f.Kind {
	case KindHeartbeat:
		if f.Control != nil {
			bad("heartbeat frame with a control block")
		}
	case KindControl:
		if f.Control == nil {
			bad("control frame without a control block")
		} else {
			if len(f.Control.Service) > MaxSvcLen {
				bad("control service name is %d bytes, limit %d", len(f.Control.Service), MaxSvcLen)
			}
			if len(f.Control.Target) > MaxNameLen {
				bad("control target is %d bytes, limit %d", len(f.Control.Target), MaxNameLen)
			}
		}
	default:
		bad("unknown kind %d", f.Kind)
	}
	if len(f.Node) == 0 || len(f.Node) > MaxNameLen {
		bad("node name is %d bytes, want 1..%d", len(f.Node), MaxNameLen)
	}
	if len(f.Views) > MaxViews {
		bad("%d path views, limit %d", len(f.Views), MaxViews)
	}
	for i, v := range f.Views {
		if len(v.Peer) > MaxNameLen || len(v.Path) > MaxNameLen {
			bad("view %d: peer or path name longer than %d bytes", i, MaxNameLen)
		}
	}
	if len(f.Services) > MaxServices {
		bad("%d services, limit %d", len(f.Services), MaxServices)
	}
	if t := f.Timers; t != nil {
		if len(t.Services) != len(f.Services) {
			bad("timers for %d services, the frame has %d", len(t.Services), len(f.Services))
		}
		if t.FlapLimit < 0 || t.FlapLimit > maxFlapLimit {
			bad("timers flap limit %d out of range 0..%d", t.FlapLimit, maxFlapLimit)
		}
	}
	for i, s := range f.Services {
		if len(s.Name) > MaxSvcLen {
			bad("service %d: name is %d bytes, limit %d", i, len(s.Name), MaxSvcLen)
		}
	}
	return errors.Join(errs...)
}

// appendTimers appends t as a trailing section.
func appendTimers(b []byte, t *Timers) []byte {
	b = append(b, sectTimers, 0, 0)
	at := len(b)
	for _, d := range [...]time.Duration{t.Deadtime, t.AdaptiveFloor, t.Startup, t.IndoubtHold, t.Damping} {
		b = binary.AppendVarint(b, durMicros(d))
	}
	b = binary.AppendVarint(b, int64(t.FlapLimit))
	b = binary.AppendVarint(b, durMicros(t.CarrierSettle))
	b = binary.BigEndian.AppendUint32(b, t.Rest)
	b = append(b, byte(len(t.Services)))
	for _, s := range t.Services {
		var fl byte
		if s.Failback {
			fl |= flagFailback
		}
		b = append(b, fl)
		b = binary.AppendVarint(b, durMicros(s.FailbackDelay))
	}
	// The body is bounded by the frame (MaxFrameLen < 2^16); an overlong
	// frame is refused by the caller.
	binary.BigEndian.PutUint16(b[at-2:], uint16(min(len(b)-at, 0xffff)))
	return b
}

func appendStr(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes a frame produced by MarshalBinary. Errors wrap
// ErrVersion or ErrMalformed. After the last fixed field come trailing
// sections (tag byte, 2-byte length, body): a section of an unknown tag is
// skipped, and so are bytes at the end of a known section's body past the
// fields this package reads; that is the room of later minor revisions
// (still covered by the tag when sealed). A section that runs past the end,
// or a second timer section, is malformed. data is not retained.
func (f *Frame) UnmarshalBinary(data []byte) error {
	if len(data) > MaxFrameLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(data), MaxFrameLen)
	}
	if len(data) < headerLen {
		return fmt.Errorf("%w: %d bytes, shorter than the %d byte header", ErrMalformed, len(data), headerLen)
	}
	if data[0] != Version {
		return fmt.Errorf("%w: version %d, want %d", ErrVersion, data[0], Version)
	}
	d := decoder{b: data[headerLen:], full: data}
	var g Frame
	g.Kind = Kind(data[1])
	if g.Kind != KindHeartbeat && g.Kind != KindControl {
		return fmt.Errorf("%w: unknown kind %d", ErrMalformed, data[1])
	}
	g.Cluster = binary.BigEndian.Uint32(data[2:6])
	g.KeyID = data[6]
	g.Node = d.str("node", MaxNameLen)
	if d.err == nil && g.Node == "" {
		d.fail("empty node name")
	}
	g.Epoch = d.uvarint("epoch")
	g.Seq = d.uvarint("seq")
	g.SentAt = d.varint("sent_at")
	g.Interval = microsDur(d.varint("interval"))
	g.Fingerprint = d.u32("fingerprint")
	if n := d.count("views", MaxViews, minViewLen); n > 0 {
		g.Views = make([]PathView, n)
		for i := range g.Views {
			v := &g.Views[i]
			v.Peer = d.str("view peer", MaxNameLen)
			v.Path = d.str("view path", MaxNameLen)
			fl := d.byte("view flags")
			if fl&^knownViewFlg != 0 {
				d.fail("unknown view flags %#x", fl)
			}
			v.Up = fl&flagViewUp != 0
			v.LastHeard = microsDur(d.varint("view last_heard"))
			v.Loss = d.byte("view loss")
			v.EchoSeq = d.uvarint("view echo_seq")
			v.EchoAt = d.varint("view echo_at")
			v.EchoHold = microsDur(d.varint("view echo_hold"))
		}
	}
	if n := d.count("services", MaxServices, minSvcLen); n > 0 {
		g.Services = make([]ServiceView, n)
		for i := range g.Services {
			s := &g.Services[i]
			s.Name = d.str("service name", MaxSvcLen)
			s.State = d.byte("service state")
			s.Priority = d.byte("service priority")
		}
	}
	if g.Kind == KindControl {
		c := &Control{}
		c.Op = ControlOp(d.byte("control op"))
		c.Service = d.str("control service", MaxSvcLen)
		c.Target = d.str("control target", MaxNameLen)
		c.Ref = d.uvarint("control ref")
		g.Control = c
	}
	for d.err == nil && len(d.b) > 0 {
		tag := d.byte("section tag")
		n := int(d.u16("section length"))
		if d.err == nil && n > len(d.b) {
			d.fail("section %d is %d bytes, %d left", tag, n, len(d.b))
		}
		if d.err != nil {
			break
		}
		body := d.b[:n]
		d.b = d.b[n:]
		if tag != sectTimers {
			continue // a later revision's section
		}
		if g.Timers != nil {
			d.fail("two timer sections")
			break
		}
		sd := decoder{b: body}
		g.Timers = sd.timers(len(g.Services))
		d.err = sd.err
	}
	if d.err != nil {
		return d.err
	}
	*f = g
	return nil
}

// timers reads a timer section's body; nsvc is the frame's service count,
// which the section must match.
func (d *decoder) timers(nsvc int) *Timers {
	t := &Timers{}
	for _, p := range [...]*time.Duration{&t.Deadtime, &t.AdaptiveFloor, &t.Startup, &t.IndoubtHold, &t.Damping} {
		*p = microsDur(d.varint("timers"))
	}
	fl := d.varint("timers flap_limit")
	if d.err == nil && (fl < 0 || fl > maxFlapLimit) {
		d.fail("timers flap_limit %d out of range 0..%d", fl, maxFlapLimit)
	}
	t.FlapLimit = int(fl)
	t.CarrierSettle = microsDur(d.varint("timers carrier_settle"))
	t.Rest = d.u32("timers rest")
	n := d.count("timer services", MaxServices, minSvcTimersLen)
	if d.err == nil && n != nsvc {
		d.fail("timers for %d services, the frame has %d", n, nsvc)
	}
	if n > 0 && d.err == nil {
		t.Services = make([]ServiceTimers, n)
		for i := range t.Services {
			s := &t.Services[i]
			fl := d.byte("timers service flags")
			if fl&^knownSvcFlg != 0 {
				d.fail("unknown timers service flags %#x", fl)
			}
			s.Failback = fl&flagFailback != 0
			s.FailbackDelay = microsDur(d.varint("timers failback_delay"))
		}
	}
	// Bytes left in the body are fields of a later revision.
	return t
}

// decoder reads fields; after the first error every read returns zero values.
type decoder struct {
	b    []byte
	err  error
	full []byte // the whole input; str slices one string copy of it
	s    string // string(full), made on the first str call: one allocation for all names
}

func (d *decoder) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("truncated at %s", what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u32(what string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.fail("truncated at %s", what)
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) u16(what string) uint16 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 2 {
		d.fail("truncated at %s", what)
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint at %s", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint at %s", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str(what string, limit int) string {
	if d.err != nil {
		return ""
	}
	if len(d.b) < 1 {
		d.fail("truncated at %s length", what)
		return ""
	}
	n := int(d.b[0])
	d.b = d.b[1:]
	if n > limit {
		d.fail("%s is %d bytes, limit %d", what, n, limit)
		return ""
	}
	if len(d.b) < n {
		d.fail("truncated in %s", what)
		return ""
	}
	if n == 0 {
		return ""
	}
	if d.s == "" {
		d.s = string(d.full)
	}
	off := len(d.full) - len(d.b)
	d.b = d.b[n:]
	return d.s[off : off+n]
}

// count reads a one-byte element count, bounded by limit and by what the
// remaining bytes can hold at minLen bytes per element.
func (d *decoder) count(what string, limit, minLen int) int {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("truncated at %s count", what)
		return 0
	}
	n := int(d.b[0])
	d.b = d.b[1:]
	if n > limit {
		d.fail("%d %s, limit %d", n, what, limit)
		return 0
	}
	if n*minLen > len(d.b) {
		d.fail("%d %s cannot fit in %d bytes", n, what, len(d.b))
		return 0
	}
	return n
}
