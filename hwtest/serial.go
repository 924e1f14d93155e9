package hwtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/failover-ha/failover/transport"
	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// Port is what the serial checks need from a serial port. Read must return
// now and then even when nothing arrives (a read timeout returning (0, nil)
// is fine): the checks stop their reader between reads. OpenSerial returns
// one with a 50 ms read timeout.
type Port interface {
	io.Reader
	io.Writer
}

// readTimeout is the read timeout OpenSerial sets.
const readTimeout = 50 * time.Millisecond

// OpenSerial opens name at baud (8N1, no flow control, exclusive), discards
// bytes that were waiting, and sets a short read timeout. Its errors are one
// line naming the port and what to do.
func OpenSerial(name string, baud int) (serial.Port, error) {
	if name == "" {
		return nil, errors.New("no serial port given: pass --port DEVICE (see `hwtest serial list`)")
	}
	if err := CheckBaud(baud); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	unlock, err := lockPort(name)
	if err != nil {
		return nil, openError(name, baud, err)
	}
	sp, err := serial.Open(name, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		unlock()
		return nil, openError(name, baud, err)
	}
	p := &lockedPort{Port: sp, unlock: unlock}
	if err := p.SetReadTimeout(readTimeout); err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: set read timeout: %w", name, err)
	}
	if err := p.ResetInputBuffer(); err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: discard stale input: %w", name, err)
	}
	return p, nil
}

// lockedPort releases the advisory lock after closing the port.
type lockedPort struct {
	serial.Port
	once   sync.Once
	unlock func()
}

func (p *lockedPort) Close() error {
	err := p.Port.Close()
	p.once.Do(p.unlock)
	return err
}

func openError(name string, baud int, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			return fmt.Errorf("%s is busy: another program holds it (a running failoverd? `fuser %s`); stop it and retry", name, name)
		case serial.PermissionDenied:
			return fmt.Errorf("%s: permission denied: run as root or add the user to the port's group (`ls -l %s`, usually dialout)", name, name)
		case serial.PortNotFound:
			return fmt.Errorf("%s does not exist: check the name with `hwtest serial list` and that the adapter is plugged in", name)
		case serial.InvalidSpeed:
			return fmt.Errorf("%s: baud %d not supported by this port: use one of %v", name, baud, standardBauds())
		case serial.InvalidSerialPort:
			if strings.Contains(pe.Error(), "speed") || strings.Contains(pe.Error(), "baud") {
				return fmt.Errorf("%s: baud %d not supported by this port: use one of %v", name, baud, standardBauds())
			}
			return fmt.Errorf("%s is not a serial port (%v): check the name with `hwtest serial list`", name, pe)
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%s does not exist: check the name with `hwtest serial list` and that the adapter is plugged in", name)
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("%s is busy: another program holds it (a running failoverd? `fuser %s`); stop it and retry", name, name)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s: permission denied: run as root or add the user to the port's group (`ls -l %s`, usually dialout)", name, name)
	}
	return fmt.Errorf("%s: open: %v", name, err)
}

// PortInfo describes one serial port present on the machine.
type PortInfo struct {
	Name         string `json:"name"`
	USB          bool   `json:"usb"`
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	SerialNumber string `json:"serial_number,omitempty"`
	Product      string `json:"product,omitempty"`
}

// ListPorts returns the serial ports present, with USB adapter details where
// the enumerator knows them. extra names ports to add (ptys and symlinks the
// enumerator does not see).
func ListPorts(extra ...string) (*Report, error) {
	r := &Report{Command: "serial list"}
	details, err := enumerator.GetDetailedPortsList()
	if err != nil {
		names, err2 := serial.GetPortsList()
		if err2 != nil {
			return nil, fmt.Errorf("list serial ports: %w", err)
		}
		for _, n := range names {
			details = append(details, &enumerator.PortDetails{Name: n})
		}
	}
	for _, d := range details {
		r.Ports = append(r.Ports, PortInfo{Name: d.Name, USB: d.IsUSB, VID: d.VID, PID: d.PID, SerialNumber: d.SerialNumber, Product: d.Product})
	}
	for _, n := range extra {
		if !slices.ContainsFunc(r.Ports, func(p PortInfo) bool { return p.Name == n }) {
			r.Ports = append(r.Ports, PortInfo{Name: n})
		}
	}
	slices.SortFunc(r.Ports, func(a, b PortInfo) int { return strings.Compare(a.Name, b.Name) })
	c := Check{Name: "ports", OK: len(r.Ports) > 0, Detail: fmt.Sprintf("%d serial port(s) found", len(r.Ports))}
	if !c.OK {
		c.Hint = "no serial port: plug in the USB adapter (dmesg shows ttyUSB*/ttyACM*) or enable the on-board UART in the BIOS"
	}
	r.Checks = append(r.Checks, c)
	return r.Finish(), nil
}

func writePort(b *strings.Builder, p PortInfo) {
	fmt.Fprintf(b, "%s", p.Name)
	if p.USB {
		fmt.Fprintf(b, "  usb %s:%s", p.VID, p.PID)
		if p.SerialNumber != "" {
			fmt.Fprintf(b, " serial %s", p.SerialNumber)
		}
		if p.Product != "" {
			fmt.Fprintf(b, " (%s)", p.Product)
		}
	}
	b.WriteString("\n")
}

// SerialOptions configure the loopback, peer and listen checks.
type SerialOptions struct {
	Port    string // device name, for the report
	Baud    int    // the rate this end uses
	Count   int    // probes for latency and loss; default 100
	Payload int    // payload bytes per probe; default 64
	// Timeout is how long to wait for each answer; default twice the frame's
	// time on the line plus 250 ms.
	Timeout time.Duration
	// Progress receives a progress line now and then (stderr); nil for none.
	Progress io.Writer
	// Session tells this run's probes from stale ones; 0 picks a random one.
	Session uint32
	// BeaconEvery is how often a listener announces itself; default 250 ms.
	BeaconEvery time.Duration
}

func (o *SerialOptions) defaults() {
	if o.Count <= 0 {
		o.Count = 100
	}
	if o.Payload <= 0 {
		o.Payload = 64
	}
	o.Payload = min(o.Payload, maxPayload)
	if o.Baud <= 0 {
		o.Baud = 115200
	}
	if o.Timeout <= 0 {
		o.Timeout = 2*lineTime(transport.SerialWireLen(frameHeader+o.Payload+frameCRC), o.Baud) + 250*time.Millisecond
	}
	if o.Session == 0 {
		o.Session = rand.Uint32() | 1
	}
	if o.BeaconEvery <= 0 {
		o.BeaconEvery = 250 * time.Millisecond
	}
}

// lineTime is how long n bytes take on a line at baud with 8N1 framing.
func lineTime(n, baud int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(baud)
}

// SerialResult is what a loopback or peer check measured.
type SerialResult struct {
	Port string `json:"port"`
	Baud int    `json:"baud"`
	Mode string `json:"mode"` // "loopback" or "peer"
	// Latency covers the stop-and-wait probes.
	Latency       Summary `json:"latency"`
	BytesSent     uint64  `json:"bytes_sent"`
	BytesReceived uint64  `json:"bytes_received"`
	FramesDecoded uint64  `json:"frames_decoded"`
	// CorruptFrames counts delimited blocks that failed COBS or a CRC, plus
	// answers whose payload differed from what was sent.
	CorruptFrames uint64 `json:"corrupt_frames"`
	// ByteErrors counts bytes that belonged to no valid frame, plus payload
	// bytes that came back different.
	ByteErrors uint64 `json:"byte_errors"`
	// Signature scores how much undecodable input looks like a baud
	// mismatch (see byteStats.signature).
	Signature float64 `json:"baud_signature"`
	// Throughput is the payload rate of a burst of probes, bytes/s one way;
	// LineRate is what the baud allows (baud/10).
	Throughput float64 `json:"throughput_bytes_per_s"`
	LineRate   float64 `json:"line_rate_bytes_per_s"`
	// OwnProbesBack counts our own probes received unchanged in peer mode:
	// the port is looped back instead of cabled to a listener.
	OwnProbesBack int `json:"own_probes_back,omitempty"`
	// Far is the listener's view, from its beacons (peer mode).
	Far *FarView `json:"far,omitempty"`
}

// FarView is what the listener says it received from us.
type FarView struct {
	Baud      int    `json:"baud"`
	Bytes     uint64 `json:"bytes"`
	Frames    uint64 `json:"frames"`
	BadFrames uint64 `json:"bad_frames"`
}

func (f FarView) marshal() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(f.Baud))
	b = binary.BigEndian.AppendUint64(b, f.Bytes)
	b = binary.BigEndian.AppendUint64(b, f.Frames)
	return binary.BigEndian.AppendUint64(b, f.BadFrames)
}

func unmarshalFarView(b []byte) (FarView, bool) {
	if len(b) != 28 {
		return FarView{}, false
	}
	return FarView{
		Baud:      int(binary.BigEndian.Uint32(b)),
		Bytes:     binary.BigEndian.Uint64(b[4:]),
		Frames:    binary.BigEndian.Uint64(b[12:]),
		BadFrames: binary.BigEndian.Uint64(b[20:]),
	}, true
}

// lineReader reads a port on its own goroutine and hands decoded frames to
// the caller. Counters are guarded by mu.
type lineReader struct {
	mu     sync.Mutex
	d      deframer
	err    error
	frames chan frame
	stop   chan struct{}
	done   chan struct{}
}

func startReader(p io.Reader) *lineReader {
	r := &lineReader{frames: make(chan frame, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	go r.run(p)
	return r
}

func (r *lineReader) run(p io.Reader) {
	defer close(r.done)
	buf := make([]byte, 4096)
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		n, err := p.Read(buf)
		if n > 0 {
			r.mu.Lock()
			r.d.feed(buf[:n], func(f frame) {
				f.Payload = slices.Clone(f.Payload)
				select {
				case r.frames <- f:
				default: // caller too slow: the frame counts as lost
				}
			})
			r.mu.Unlock()
		}
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
	}
}

// close stops the reader and waits for it (at most one read timeout).
func (r *lineReader) close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

func (r *lineReader) snapshot() (deframer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.d
	d.fr = nil // the counters only: the reader goes on using the byte layer
	return d, r.err
}

// errPortGone wraps a read error that ended a check.
func portGone(name string, err error) Check {
	return Check{Name: "port", OK: false, Detail: fmt.Sprintf("%s: read failed: %v", name, err),
		Hint: "cable/adapter: the port went away (USB adapter unplugged?)"}
}
