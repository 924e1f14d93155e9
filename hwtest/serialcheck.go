package hwtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/failover-ha/failover/transport"
)

// Loopback checks a port fitted with a loopback plug (TX wired to RX): every
// probe must come back unchanged. It does not close p.
func Loopback(ctx context.Context, p Port, o SerialOptions) *Report {
	o.defaults()
	res, far, gone := probeLine(ctx, p, o, "loopback", typeProbe)
	r := &Report{Command: "serial loopback", Serial: &res}
	r.Checks = diagnoseSerial(res, far, o)
	if gone != nil {
		r.Checks = append(r.Checks, portGone(o.Port, gone))
	}
	r.Recommendation = serialRecommendation(res)
	return r.Finish()
}

// Peer checks a cable to a far end that runs Listen: it proves the cable
// crosses TX and RX, and measures loss, latency and throughput. It does not
// close p.
func Peer(ctx context.Context, p Port, o SerialOptions) *Report {
	o.defaults()
	res, far, gone := probeLine(ctx, p, o, "peer", typeEcho)
	r := &Report{Command: "serial peer", Serial: &res}
	r.Checks = diagnoseSerial(res, far, o)
	if gone != nil {
		r.Checks = append(r.Checks, portGone(o.Port, gone))
	}
	r.Recommendation = serialRecommendation(res)
	return r.Finish()
}

func serialRecommendation(res SerialResult) *Recommendation {
	if res.Latency.Received == 0 {
		return nil
	}
	// The daemon sends on a serial path as often as its largest frame fits
	// on the line (transport.SerialInterval): 217 bytes sealed for two
	// nodes with short names; more peers or services need a longer one.
	minIv := transport.SerialWireTime(res.Baud, 217)
	rec := Recommend([]PathSample{{Name: res.Port, Sent: res.Latency.Sent, Lost: res.Latency.Lost,
		P50: res.Latency.P50, P99: res.Latency.P99, Jitter: res.Latency.Jitter, MinInterval: minIv}}, DefaultPolicy())
	rec.Notes = append(rec.Notes, "serial line alone; run `hwtest nic` for the NIC paths, the daemon declares a peer dead only when every path is silent")
	return &rec
}

// unansweredStop is how many probes in a row may go unanswered, with nothing
// answered before, until the check gives up early.
const unansweredStop = 8

// probeLine runs the latency and throughput phases. want is the frame type
// that counts as an answer.
func probeLine(ctx context.Context, p Port, o SerialOptions, mode string, want frameType) (SerialResult, *FarView, error) {
	res := SerialResult{Port: o.Port, Baud: o.Baud, Mode: mode, LineRate: float64(o.Baud) / 10}
	lr := startReader(p)
	defer lr.close()
	var far *FarView
	var rtts []time.Duration
	var corrupt, badBytes uint64
	var sent uint64
	handle := func(f frame, seq uint32, payload []byte) bool {
		if f.Type == typeBeacon {
			if v, ok := unmarshalFarView(f.Payload); ok {
				far = &v
			}
			return false
		}
		if f.Type == typeProbe && want != typeProbe && f.Session == o.Session {
			res.OwnProbesBack++
			return false
		}
		if f.Type != want || f.Session != o.Session || f.Seq != seq {
			return false
		}
		if !bytes.Equal(f.Payload, payload) {
			corrupt++
			badBytes += diffBytes(f.Payload, payload)
		}
		return true
	}
	lastProgress := time.Now()
	probes := 0
	for seq := uint32(1); seq <= uint32(o.Count); seq++ {
		if ctx.Err() != nil {
			break
		}
		payload := pattern(seq, o.Payload)
		wire := encodeSerial(frame{Type: typeProbe, Session: o.Session, Seq: seq, SentAt: time.Now().UnixNano(), Payload: payload})
		start := time.Now()
		if _, err := p.Write(wire); err != nil {
			return res, far, fmt.Errorf("write: %w", err)
		}
		sent += uint64(len(wire))
		probes++
		timer := time.NewTimer(o.Timeout)
	wait:
		for {
			select {
			case f := <-lr.frames:
				if handle(f, seq, payload) {
					rtts = append(rtts, time.Since(start))
					break wait
				}
			case <-timer.C:
				break wait
			case <-lr.done:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
		timer.Stop()
		if _, err := lr.snapshot(); err != nil {
			break
		}
		if len(rtts) == 0 && probes >= unansweredStop {
			progress(o.Progress, "serial %s %s: %d probes unanswered, giving up early\n", mode, o.Port, probes)
			break
		}
		if time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			progress(o.Progress, "serial %s %s: %d/%d probes, %d answered\n", mode, o.Port, probes, o.Count, len(rtts))
		}
	}
	res.Latency = summarize(probes, rtts)

	// Throughput: a burst of back-to-back probes, answers counted as they come.
	if len(rtts) > 0 && ctx.Err() == nil {
		n := min(o.Count, 32)
		var burst []byte
		payloads := map[uint32][]byte{}
		for i := range n {
			seq := uint32(o.Count + 1 + i)
			payloads[seq] = pattern(seq, o.Payload)
			burst = append(burst, encodeSerial(frame{Type: typeProbe, Session: o.Session, Seq: seq, Payload: payloads[seq]})...)
		}
		frameLen := len(burst) / n
		start := time.Now()
		if _, err := p.Write(burst); err == nil {
			sent += uint64(len(burst))
			got := 0
			var last time.Time
			timer := time.NewTimer(2*lineTime(len(burst), o.Baud) + time.Second)
		collect:
			for got < n {
				select {
				case f := <-lr.frames:
					if pl, ok := payloads[f.Seq]; ok && handle(f, f.Seq, pl) {
						delete(payloads, f.Seq)
						got++
						last = time.Now()
					}
				case <-timer.C:
					break collect
				case <-lr.done:
					break collect
				case <-ctx.Done():
					break collect
				}
			}
			timer.Stop()
			if got > 0 {
				res.Throughput = float64(got*frameLen) / last.Sub(start).Seconds()
			}
		}
	}
	// Beacons keep coming while we measured; wait for one sent after the
	// measurement so the far end's counters are complete.
	if far != nil && ctx.Err() == nil {
		prev := *far
		timer := time.NewTimer(3 * time.Duration(max(o.BeaconEvery, 250*time.Millisecond)))
	fresh:
		for {
			select {
			case f := <-lr.frames:
				handle(f, 0, nil)
				if *far != prev {
					break fresh
				}
			case <-timer.C:
				break fresh
			case <-lr.done:
				break fresh
			case <-ctx.Done():
				break fresh
			}
		}
		timer.Stop()
	}
	d, err := lr.snapshot()
	res.BytesSent = sent
	res.BytesReceived = d.Bytes
	res.FramesDecoded = d.Frames
	res.CorruptFrames = d.BadFrames + corrupt
	res.ByteErrors = d.JunkBytes + badBytes
	res.Signature = d.Stats.signature()
	res.Far = far
	if err == nil || ctx.Err() != nil {
		return res, far, nil
	}
	return res, far, err
}

func diffBytes(a, b []byte) uint64 {
	n := uint64(max(len(a), len(b)) - min(len(a), len(b)))
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// diagnoseSerial turns a measurement into checks. It is pure.
func diagnoseSerial(res SerialResult, far *FarView, o SerialOptions) []Check {
	var cs []Check
	answer := Check{Name: "answer"}
	switch {
	case res.Latency.Received > 0:
		answer.OK = true
		if res.Mode == "peer" {
			answer.Detail = fmt.Sprintf("the far end answered on %s: TX and RX are crossed (null-modem)", res.Port)
		} else {
			answer.Detail = fmt.Sprintf("probes come back on %s", res.Port)
		}
	case res.BytesReceived == 0 && res.Mode == "peer":
		answer.Detail = "no answer: is this a null-modem cable? (a straight cable connects TX to TX)"
		answer.Hint = "cable: use a null-modem (crossed) cable; check it is plugged in at both ends and that the far end runs `hwtest serial peer --listen`"
	case res.BytesReceived == 0:
		answer.Detail = "nothing comes back: is the loopback plug (TX→RX, pins 2–3 on DB9) fitted?"
		answer.Hint = "cable: fit a loopback plug on " + res.Port + ", or check the port is the one the plug is on"
	case res.FramesDecoded == 0 && res.Signature >= baudSignatureMin:
		answer.Detail = fmt.Sprintf("bytes arrive but none decode: baud mismatch? this end uses %d (%d bytes received, baud signature %.2f)",
			res.Baud, res.BytesReceived, res.Signature)
		answer.Hint = "baud: both ends must use the same --baud (and the same rate in failover.toml)"
	case res.FramesDecoded == 0:
		answer.Detail = fmt.Sprintf("bytes arrive but none decode (%d bytes, baud signature %.2f: looks like noise, not a baud mismatch)",
			res.BytesReceived, res.Signature)
		answer.Hint = "cable: noise or a bad adapter; check nothing else writes to the far port"
	case res.OwnProbesBack > 0:
		answer.Detail = fmt.Sprintf("our own probes come back (%d): %s has a loopback plug, or the far end echoes at the tty level", res.OwnProbesBack, res.Port)
		answer.Hint = "cable: remove the loopback plug and connect the null-modem cable, or use `hwtest serial loopback` to test the port alone"
	case res.Mode == "loopback" && far != nil:
		answer.Detail = "a listener answers instead of a loopback plug: this port is cabled to a peer"
		answer.Hint = "cable: use `hwtest serial peer` for a cable between two hosts"
	case far != nil && far.Bytes == 0:
		answer.Detail = "the far end is there (its beacons arrive) but hears nothing from us: our TX does not reach its RX"
		answer.Hint = "cable: one wire of the pair is broken or the cable is wired TX→TX on one side only"
	case far != nil && far.Frames == 0:
		answer.Detail = fmt.Sprintf("the far end receives our bytes but decodes none: baud mismatch? this end uses %d, the far end %d", res.Baud, far.Baud)
		answer.Hint = "baud: both ends must use the same --baud"
	default:
		answer.Detail = fmt.Sprintf("frames arrive on %s but none answers our probes", res.Port)
		answer.Hint = "cable: another program may be talking on the far port"
	}
	cs = append(cs, answer)
	if !answer.OK {
		return cs
	}
	loss := Check{Name: "loss", OK: res.Latency.Lost == 0, Detail: fmtSummary(res.Latency)}
	if !loss.OK {
		loss.Hint = "cable/adapter: a serial line should lose nothing; check the cable, the adapter (try another), and the baud"
	}
	errs := Check{Name: "errors", OK: res.CorruptFrames == 0 && res.ByteErrors == 0,
		Detail: fmt.Sprintf("%d byte errors, %d corrupt frames in %d bytes received", res.ByteErrors, res.CorruptFrames, res.BytesReceived)}
	if !errs.OK {
		errs.Hint = "cable: bytes are damaged on the line (shielding, length, grounding) or the adapter is flaky; a lower baud may help"
	}
	cs = append(cs, loss, errs)
	tp := Check{Name: "throughput", OK: true}
	switch {
	case res.Throughput == 0:
		tp.Detail = "not measured"
	case res.Throughput > 1.5*res.LineRate:
		tp.Detail = fmt.Sprintf("%.0f bytes/s, more than %d baud allows (%.0f bytes/s): a virtual port (pty) that ignores baud?",
			res.Throughput, res.Baud, res.LineRate)
	default:
		tp.Detail = fmt.Sprintf("%.0f bytes/s of %.0f bytes/s the line allows at %d baud (%.0f%%)",
			res.Throughput, res.LineRate, res.Baud, 100*res.Throughput/res.LineRate)
	}
	cs = append(cs, tp)
	return cs
}

func writeSerial(b *strings.Builder, s *SerialResult) {
	fmt.Fprintf(b, "\nserial %s %s at %d baud: %s\n", s.Mode, s.Port, s.Baud, fmtSummary(s.Latency))
	fmt.Fprintf(b, "  bytes sent %d, received %d; frames decoded %d, corrupt %d; byte errors %d\n",
		s.BytesSent, s.BytesReceived, s.FramesDecoded, s.CorruptFrames, s.ByteErrors)
	if s.Far != nil {
		fmt.Fprintf(b, "  far end (%d baud) received %d bytes, %d frames, %d corrupt\n", s.Far.Baud, s.Far.Bytes, s.Far.Frames, s.Far.BadFrames)
	}
}

// Listen answers a peer check on the far end of a cable: it echoes every
// probe and sends a beacon with its receive counters every BeaconEvery, so
// the initiator can tell a silent cable from one that garbles. It returns
// nil when ctx ends and the read error if the port fails. It does not close p.
func Listen(ctx context.Context, p Port, o SerialOptions) error {
	o.defaults()
	lr := startReader(p)
	defer lr.close()
	tick := time.NewTicker(o.BeaconEvery)
	defer tick.Stop()
	sessions := map[uint32]int{}
	lastReport := time.Now()
	beacon := func() (deframer, error) {
		d, _ := lr.snapshot()
		v := FarView{Baud: o.Baud, Bytes: d.Bytes, Frames: d.Frames, BadFrames: d.BadFrames}
		if _, err := p.Write(encodeSerial(frame{Type: typeBeacon, Payload: v.marshal()})); err != nil {
			return d, fmt.Errorf("%s: write: %w", o.Port, err)
		}
		return d, nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-lr.done:
			_, err := lr.snapshot()
			return fmt.Errorf("%s: %w", o.Port, err)
		case f := <-lr.frames:
			if f.Type != typeProbe {
				continue
			}
			f.Type = typeEcho
			if _, err := p.Write(encodeSerial(f)); err != nil {
				return fmt.Errorf("%s: write: %w", o.Port, err)
			}
			if sessions[f.Session] == 0 {
				// A new initiator: tell it at once what we hear.
				progress(o.Progress, "serial listen %s: answering probes of session %08x\n", o.Port, f.Session)
				if _, err := beacon(); err != nil {
					return err
				}
			}
			sessions[f.Session]++
		case <-tick.C:
			d, err := beacon()
			if err != nil {
				return err
			}
			if time.Since(lastReport) >= 5*time.Second {
				lastReport = time.Now()
				progress(o.Progress, "serial listen %s: %d bytes, %d frames, %d corrupt\n", o.Port, d.Bytes, d.Frames, d.BadFrames)
			}
		}
	}
}
