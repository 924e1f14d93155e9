package hwtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/failover-ha/failover/transport/serial"
	"github.com/google/go-cmp/cmp"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, f := range []frame{
		{Type: typeProbe, Session: 7, Seq: 1, SentAt: 123, Payload: pattern(1, 64)},
		{Type: typeBeacon, Payload: FarView{Baud: 9600, Bytes: 1, Frames: 2, BadFrames: 3}.marshal()},
		{Type: typeNICEcho, Session: 1, Seq: math.MaxUint32, SentAt: -1, Payload: []byte{}},
		{Type: typeEcho, Payload: make([]byte, maxPayload)},
	} {
		var d deframer
		var got []frame
		d.feed(encodeSerial(f), func(g frame) { g.Payload = bytes.Clone(g.Payload); got = append(got, g) })
		if len(got) != 1 {
			t.Fatalf("%v: decoded %d frames", f.Type, len(got))
		}
		if diff := cmp.Diff(f, got[0], cmp.AllowUnexported(frame{}), cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Errorf("%v (-want +got):\n%s", f.Type, diff)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := frame{Type: typeProbe, Seq: 1, Payload: []byte("abc")}.marshal(nil)
	flip := bytes.Clone(good)
	flip[len(flip)-6] ^= 1
	for name, b := range map[string][]byte{
		"empty": nil, "short": good[:10], "truncated": good[:len(good)-1], "crc": flip,
		"magic": append([]byte{'X'}, good[1:]...), "long": append(bytes.Clone(good), 0),
	} {
		if _, err := unmarshalFrame(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Garbage between frames costs only the damaged block: every good frame
// after it is delivered and the junk is counted, byte for byte. A block that
// is well framed but no probe frame (a failover daemon on the line) is
// corrupt too.
func TestDeframerResyncs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var junkBytes uint64
	for i := range 20 {
		stream = append(stream, encodeSerial(frame{Type: typeProbe, Seq: uint32(i), Payload: pattern(uint32(i), 32)})...)
		junk := make([]byte, 1+rng.IntN(40))
		for j := range junk {
			junk[j] = byte(1 + rng.IntN(255))
		}
		stream = append(stream, junk...)
		stream = append(stream, 0)
		junkBytes += uint64(len(junk)) + 1
	}
	foreign := serial.AppendFrame(nil, []byte("not a probe frame"))
	stream = append(stream, foreign...)
	junkBytes += uint64(len(foreign)) - 1 // its leading 0x00 ends the junk before it
	var d deframer
	n := 0
	for len(stream) > 0 { // feed in odd chunks
		k := min(len(stream), 1+rng.IntN(17))
		d.feed(stream[:k], func(frame) { n++ })
		stream = stream[k:]
	}
	if n != 20 || d.Frames != 20 || d.BadFrames != 21 || d.JunkBytes != junkBytes {
		t.Errorf("frames %d/%d bad %d junk %d, want 20/20 bad 21 junk %d", n, d.Frames, d.BadFrames, d.JunkBytes, junkBytes)
	}
}

// The UART model: equal rates are transparent; any mismatch of 2× or more
// garbles every frame, and what arrives scores as a baud mismatch while
// random noise does not.
func TestBaudSignature(t *testing.T) {
	var data []byte
	for i := range 20 {
		data = append(data, encodeSerial(frame{Type: typeProbe, Seq: uint32(i), Payload: pattern(uint32(i), 64)})...)
	}
	if got := uartResample(data, 115200, 115200); !bytes.Equal(got, data) {
		t.Fatal("equal rates changed the bytes")
	}
	for _, c := range []struct{ tx, rx int }{
		{115200, 9600}, {9600, 115200}, {115200, 57600}, {57600, 115200}, {19200, 9600}, {38400, 115200},
	} {
		var d deframer
		d.feed(uartResample(data, c.tx, c.rx), func(frame) {})
		if d.Frames != 0 || d.Bytes == 0 {
			t.Errorf("tx %d rx %d: %d frames decoded from %d bytes, want 0 from > 0", c.tx, c.rx, d.Frames, d.Bytes)
		}
		if s := d.Stats.signature(); s < baudSignatureMin {
			t.Errorf("tx %d rx %d: signature %.2f < %.2f", c.tx, c.rx, s, baudSignatureMin)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	var s byteStats
	s.add(noise)
	if s.signature() >= baudSignatureMin {
		t.Errorf("noise signature %.2f ≥ %.2f", s.signature(), baudSignatureMin)
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		sent int
		rtts []time.Duration
		want Summary
	}{
		{"none", 10, nil, Summary{Sent: 10, Lost: 10, LossPct: 100}},
		{"one", 1, []time.Duration{ms}, Summary{Sent: 1, Received: 1, Min: ms, P50: ms, P99: ms, Max: ms}},
		{"jitter", 4, []time.Duration{1 * ms, 3 * ms, 1 * ms, 3 * ms}, Summary{Sent: 4, Received: 4, Min: ms, P50: ms, P99: 3 * ms, Max: 3 * ms, Jitter: 2 * ms}},
		{"loss", 4, []time.Duration{2 * ms, 4 * ms}, Summary{Sent: 4, Received: 2, Lost: 2, LossPct: 50, Min: 2 * ms, P50: 2 * ms, P99: 4 * ms, Max: 4 * ms, Jitter: 2 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarize(tt.sent, tt.rtts)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecommend(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	healthy := PathSample{Name: "eth0", Sent: 100, P50: 50 * us, P99: 200 * us, Jitter: 20 * us}
	tests := []struct {
		name         string
		paths        []PathSample
		wantInterval time.Duration
		wantK        int
		wantDead     time.Duration
	}{
		// 0/100 lost → bound 3/103; one path alone: 1.58e9 beats a year at
		// 20ms, k = ceil(log(1e-6/1.58e9)/log(0.0291)) = 10; margin
		// 150µs + 80µs rounds up to 10ms.
		{"one healthy path", []PathSample{healthy}, 20 * ms, 10, 210 * ms},
		// Two such paths: p = 0.0291² → k = 5.
		{"two healthy paths", []PathSample{healthy, {Name: "eth1", Sent: 100, P50: 50 * us, P99: 200 * us, Jitter: 20 * us}}, 20 * ms, 5, 110 * ms},
		// 30 % loss beside a clean path: p = 0.0291 × 33/103 → k = 8.
		{"one lossy path", []PathSample{healthy, {Name: "eth1", Sent: 100, Lost: 30, P50: 50 * us, P99: 300 * us, Jitter: 30 * us}}, 20 * ms, 8, 170 * ms},
		// Slow serial line: the medium's floor sets the interval; margin
		// 10ms + 8ms → 20ms.
		{"serial floor", []PathSample{{Name: "ttyS0", Sent: 100, P50: 20 * ms, P99: 30 * ms, Jitter: 2 * ms, MinInterval: 250 * ms}}, 250 * ms, 10, 2520 * ms},
		// High jitter: 5 × p99 = 300ms → the 500ms step; margin 55 + 60 → 120ms.
		{"jittery", []PathSample{{Name: "eth0", Sent: 1000, P50: 5 * ms, P99: 60 * ms, Jitter: 15 * ms}}, 500 * ms, 6, 3000*ms + 120*ms},
		{"dead path ignored", []PathSample{healthy, {Name: "eth1", Sent: 100, Lost: 100}}, 20 * ms, 10, 210 * ms},
		{"nothing usable", []PathSample{{Name: "eth1", Sent: 100, Lost: 100}}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Recommend(tt.paths, DefaultPolicy())
			if r.Interval != tt.wantInterval || r.Misses != tt.wantK || r.Deadtime != tt.wantDead {
				t.Errorf("interval %s k %d deadtime %s, want %s %d %s", r.Interval, r.Misses, r.Deadtime, tt.wantInterval, tt.wantK, tt.wantDead)
			}
			if r.Interval == 0 {
				return
			}
			if r.FalsePerYear > 1e-6 {
				t.Errorf("false failovers %.3g per year > 1e-6", r.FalsePerYear)
			}
			// k-1 would miss the target: k is the smallest.
			if k := r.Misses - 1; k >= 3 && float64(year/r.Interval)*math.Pow(r.LossAll, float64(k)) <= 1e-6 {
				t.Errorf("k=%d would do", k)
			}
			want := "[timers]\ninterval = \"" + r.Interval.String() + "\"\ndeadtime = \"" + r.Deadtime.String() + "\"\n"
			if r.TOML != want {
				t.Errorf("toml %q, want %q", r.TOML, want)
			}
		})
	}
}

func TestAssess(t *testing.T) {
	ms := time.Millisecond
	r := Recommendation{Interval: 20 * ms, Margin: 10 * ms, LossAll: 0.01}
	tests := []struct {
		interval, deadtime time.Duration
		k                  int
		rate               float64
	}{
		{20 * ms, 100 * ms, 4, float64(year/(20*ms)) * 1e-8},
		{20 * ms, 210 * ms, 10, float64(year/(20*ms)) * 1e-20},
		{200 * ms, 1000 * ms, 4, float64(year/(200*ms)) * 1e-8},
		{20 * ms, 10 * ms, 0, math.Inf(1)},
	}
	for _, tt := range tests {
		k, rate := r.Assess(tt.interval, tt.deadtime)
		if k != tt.k || math.Abs(rate-tt.rate) > 1e-9*tt.rate && !math.IsInf(tt.rate, 1) || math.IsInf(tt.rate, 1) != math.IsInf(rate, 1) {
			t.Errorf("Assess(%s, %s) = %d, %g; want %d, %g", tt.interval, tt.deadtime, k, rate, tt.k, tt.rate)
		}
	}
}

func TestDiagnoseSerial(t *testing.T) {
	ok := Summary{Sent: 10, Received: 10, P50: time.Millisecond, P99: time.Millisecond}
	tests := []struct {
		name      string
		res       SerialResult
		far       *FarView
		wantFail  string // name of the failed check ("" = all pass)
		wantWords string
	}{
		{"pass", SerialResult{Mode: "peer", Latency: ok, BytesReceived: 900, Throughput: 5000, LineRate: 11520}, nil, "", "crossed"},
		{"straight cable", SerialResult{Mode: "peer", Baud: 115200, Latency: Summary{Sent: 8}}, nil, "answer", "no answer: is this a null-modem cable? (a straight cable connects TX to TX)"},
		{"no plug", SerialResult{Mode: "loopback", Latency: Summary{Sent: 8}}, nil, "answer", "loopback plug"},
		{"baud", SerialResult{Mode: "peer", Baud: 115200, Latency: Summary{Sent: 8}, BytesReceived: 300, Signature: 1.2}, nil, "answer", "bytes arrive but none decode: baud mismatch? this end uses 115200"},
		{"noise", SerialResult{Mode: "peer", Baud: 115200, Latency: Summary{Sent: 8}, BytesReceived: 300, Signature: 0.07}, nil, "answer", "looks like noise"},
		{"far deaf", SerialResult{Mode: "peer", Latency: Summary{Sent: 8}, BytesReceived: 300, FramesDecoded: 3}, &FarView{Baud: 115200}, "answer", "hears nothing from us"},
		{"far garbled", SerialResult{Mode: "peer", Baud: 115200, Latency: Summary{Sent: 8}, BytesReceived: 300, FramesDecoded: 3}, &FarView{Baud: 9600, Bytes: 50}, "answer", "the far end 9600"},
		{"looped", SerialResult{Mode: "peer", Latency: Summary{Sent: 8}, BytesReceived: 700, FramesDecoded: 8, OwnProbesBack: 8}, nil, "answer", "our own probes come back (8)"},
		{"errors", SerialResult{Mode: "loopback", Latency: ok, BytesReceived: 900, ByteErrors: 17, CorruptFrames: 2}, nil, "errors", "17 byte errors, 2 corrupt frames"},
		{"loss", SerialResult{Mode: "peer", Latency: Summary{Sent: 10, Received: 9, Lost: 1, LossPct: 10}, BytesReceived: 900}, nil, "loss", "10.0% lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := diagnoseSerial(tt.res, tt.far, SerialOptions{})
			var failed []string
			all := ""
			for _, c := range cs {
				all += c.Detail + "\n"
				if !c.OK {
					failed = append(failed, c.Name)
					if c.Hint == "" {
						t.Errorf("%s failed without a hint", c.Name)
					}
				}
			}
			want := []string(nil)
			if tt.wantFail != "" {
				want = []string{tt.wantFail}
			}
			if diff := cmp.Diff(want, failed); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s", diff)
			}
			if !strings.Contains(all, tt.wantWords) {
				t.Errorf("details %q lack %q", all, tt.wantWords)
			}
		})
	}
}

func TestDiagnoseNIC(t *testing.T) {
	link := LinkInfo{Exists: true, Up: true, Carrier: true, OperState: "up", MTU: 1500, Addrs: []string{"198.18.1.1/24"}}
	good := &Summary{Sent: 50, Received: 50}
	dead := &Summary{Sent: 50, Lost: 50, LossPct: 100}
	lossy := &Summary{Sent: 50, Received: 25, Lost: 25, LossPct: 50}
	path := func(l LinkInfo, mc, uc *Summary) PathResult {
		return PathResult{Name: "eth0", Interface: "eth0", Link: l, Group: "239.192.0.1",
			Peers: []PeerResult{{Addr: "198.18.1.2", Listed: true, Multicast: mc, Unicast: uc}}}
	}
	nocarrier := link
	nocarrier.Carrier, nocarrier.OperState = false, "lowerlayerdown"
	tests := []struct {
		name   string
		res    NICResult
		failed []string
		hint   string
	}{
		{"healthy", NICResult{Paths: []PathResult{path(link, good, good)}}, nil, ""},
		{"pulled", NICResult{Paths: []PathResult{path(nocarrier, dead, dead)}}, []string{"link eth0", "path eth0 → 198.18.1.2"}, "cable"},
		{"silent peer", NICResult{Paths: []PathResult{path(link, dead, dead)}}, []string{"path eth0 → 198.18.1.2"}, "firewall"},
		{"multicast only lost", NICResult{Paths: []PathResult{path(link, dead, good)}}, []string{"path eth0 → 198.18.1.2"}, "switch multicast"},
		{"unicast only lost", NICResult{Paths: []PathResult{path(link, good, dead)}}, []string{"path eth0 → 198.18.1.2"}, "firewall"},
		{"lossy", NICResult{Paths: []PathResult{path(link, lossy, good)}}, []string{"path eth0 → 198.18.1.2"}, "cable / NIC / switch"},
		{"no address", NICResult{Paths: []PathResult{path(LinkInfo{Exists: true, Up: true, Carrier: true}, good, good)}}, []string{"link eth0"}, "NIC"},
		{"vip taken", NICResult{VIPs: []VIPResult{{Service: "www", VIP: "198.18.1.100", Interface: "eth0", InUse: true, MAC: "02:00:00:00:00:02"}}}, []string{"vip 198.18.1.100"}, "another host"},
		{"vip free", NICResult{VIPs: []VIPResult{{Service: "www", VIP: "198.18.1.100", Interface: "eth0"}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NICOptions{}
			o.defaults()
			var failed []string
			hints := ""
			for _, c := range diagnoseNIC(tt.res, o) {
				if !c.OK {
					failed = append(failed, c.Name)
					hints += c.Hint + "\n"
				}
			}
			if diff := cmp.Diff(tt.failed, failed); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s", diff)
			}
			if !strings.Contains(hints, tt.hint) {
				t.Errorf("hints %q lack %q", hints, tt.hint)
			}
		})
	}
}

func TestReportFormatting(t *testing.T) {
	rec := Recommend([]PathSample{{Name: "eth0", Sent: 100, P50: time.Millisecond, P99: time.Millisecond}}, DefaultPolicy())
	r := (&Report{Command: "nic", Checks: []Check{
		{Name: "link eth0", OK: true, Detail: "eth0 up"},
		{Name: "path eth1 → 198.18.2.2", Detail: "no answer", Hint: "firewall"},
	}, Recommendation: &rec}).Finish()
	var b strings.Builder
	r.WriteText(&b)
	want := "PASS  link eth0: eth0 up\n" +
		"FAIL  path eth1 → 198.18.2.2: no answer\n" +
		"      look at: firewall\n" +
		"\nrecommendation: interval 20ms, deadtime 200ms (k=10 missed heartbeats + 0s jitter margin)\n"
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("text starts\n%s\nwant\n%s", b.String(), want)
	}
	if !strings.HasSuffix(b.String(), "[timers]\ninterval = \"20ms\"\ndeadtime = \"200ms\"\n\nnic: 1 of 2 checks failed\n") {
		t.Errorf("text ends wrong:\n%s", b.String())
	}
	if r.ExitCode() != 1 {
		t.Errorf("exit %d, want 1", r.ExitCode())
	}
	var j bytes.Buffer
	r.WriteJSON(&j)
	var back struct {
		OK     bool
		Checks []Check
		Rec    struct {
			Misses int    `json:"misses"`
			TOML   string `json:"toml"`
		} `json:"recommendation"`
	}
	if err := json.Unmarshal(j.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.OK || len(back.Checks) != 2 || back.Checks[1].Hint != "firewall" || back.Rec.Misses != 10 || back.Rec.TOML != rec.TOML {
		t.Errorf("json round trip: %+v", back)
	}
}

const goodConfig = `
cluster = "lab"
node = "h1"
insecure_no_auth = true
[timers]
interval = "200ms"
deadtime = "1s"
[[peer]]
name = "h2"
[[path]]
name = "eth0"
kind = "udp"
interface = "eth0"
multicast = "239.192.0.1:7405"
unicast = ["198.18.1.2:7405"]
[[path]]
name = "serial0"
kind = "serial"
device = "/dev/ttyS0"
[[service]]
name = "www"
vip = "198.18.1.100/24"
interface = "eth0"
priority = {h1 = 100, h2 = 50}
`

func TestParseNICConfig(t *testing.T) {
	c, err := ParseNICConfig("f.toml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := &NICConfig{File: "f.toml", Node: "h1", Interval: 200 * time.Millisecond, Deadtime: time.Second,
		Paths: []NICPath{{Name: "eth0", Interface: "eth0", Group: netip.MustParseAddr("239.192.0.1"), Peers: []netip.Addr{netip.MustParseAddr("198.18.1.2")}}},
		VIPs:  []VIPTarget{{Service: "www", VIP: netip.MustParsePrefix("198.18.1.100/24"), Interface: "eth0"}}}
	if diff := cmp.Diff(want, c, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tt := range []struct{ name, in, want string }{
		{"syntax", "node = \n", "f.toml:1"},
		{"group", strings.Replace(goodConfig, "239.192.0.1:7405", "10.0.0.1:7405", 1), "multicast: 10.0.0.1 is not a multicast group"},
		{"serial only", strings.Replace(goodConfig, `kind = "udp"`, `kind = "serial"`+"\ndevice = \"/dev/ttyS1\"", 1), ""},
	} {
		_, err := ParseNICConfig("f.toml", []byte(tt.in))
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want ErrConfig containing %q", tt.name, err, tt.want)
		}
	}
}

func TestCommandUsage(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		args   []string
		code   int
		stream string // "out" or "err"
		want   string
	}{
		{nil, ExitUsage, "err", "Usage:"},
		{[]string{"--help"}, ExitOK, "out", "hwtest serial list"},
		{[]string{"serial", "loopback", "--help"}, ExitOK, "out", "loopback plug"},
		{[]string{"serial", "peer", "--help"}, ExitOK, "out", "--listen"},
		{[]string{"nic", "--help"}, ExitOK, "out", "does not answer hwtest"},
		{[]string{"serial", "list", "--help"}, ExitOK, "out", "VID:PID"},
		{[]string{"serial", "loopback"}, ExitUsage, "err", "no port: pass --port"},
		{[]string{"serial", "peer", "--port", "/dev/hwtest-none"}, ExitUsage, "err", "/dev/hwtest-none does not exist"},
		{[]string{"serial", "peer", "--port", "/dev/null", "--baud", "1234"}, ExitUsage, "err", "unsupported baud 1234"},
		{[]string{"nic"}, ExitUsage, "err", "pass --config"},
		{[]string{"nic", "--config", "/nonexistent.toml"}, ExitUsage, "err", "/nonexistent.toml: no such file or directory: pass --config"},
		{[]string{"nic", "--bogus"}, ExitUsage, "err", "hwtest nic: flag provided but not defined"},
		{[]string{"frob"}, ExitUsage, "err", "unknown command"},
	} {
		var out, errb bytes.Buffer
		code := Command(ctx, tt.args, &out, &errb)
		got := out.String()
		if tt.stream == "err" {
			got = errb.String()
		}
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("%q: exit %d, %s %q; want %d and %q", tt.args, code, tt.stream, got, tt.code, tt.want)
		}
		if tt.code != ExitOK && out.Len() > 0 {
			t.Errorf("%q: a usage error printed %q on stdout", tt.args, out.String())
		}
		if strings.Count(out.String(), "Usage:") > 1 {
			t.Errorf("%q: usage printed more than once: %q", tt.args, out.String())
		}
		if tt.code == ExitOK && len(tt.args) > 1 && !strings.Contains(out.String(), "-json") {
			t.Errorf("%q: help lists no options: %q", tt.args, out.String())
		}
		if tt.stream == "err" && strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 && tt.args != nil {
			t.Errorf("%q: error is not one line: %q", tt.args, errb.String())
		}
	}
}
