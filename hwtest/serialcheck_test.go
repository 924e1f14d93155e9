package hwtest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

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
