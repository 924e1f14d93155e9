package rig

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Lines as failoverd writes them with log_format = "json" (from a power
// pull in the lab, shortened), with noise a log can hold.
const h2Log = `{"time":"2026-12-06T21:14:53.497766172Z","level":"INFO","msg":"peer state","peer":"h1","from":"degraded","to":"alive","reason":"eth0, eth1, serial0 up"}
{"time":"2026-12-06T21:14:53.600000000Z","level":"WARN","msg":"peer state","peer":"h1","from":"degraded","to":"dead","reason":"before the fault"}
not json: a panic trace
{"time":"2026-12-06T21:14:54.863378869Z","level":"WARN","msg":"peer state","peer":"h1","from":"degraded","to":"dead","reason":"eth0, eth1, serial0 silent for 100.012571ms"}
{"time":"2026-12-06T21:14:54.863383869Z","level":"INFO","msg":"service state","service":"web","vip":"198.18.1.100/32","from":"recover","to":"indoubt","reason":"peer h1 dead"}
{"time":"2026-12-06T21:14:54.888453192Z","level":"INFO","msg":"VIP added","service":"web","vip":"198.18.1.100/32","interface":"eth0","took":374000}
{"time":"2026-12-06T21:14:54.888949828Z","level":"INFO","msg":"gratuitous ARP sent","service":"web","vip":"198.18.1.100/32","took":497000}
{"time":"2026-12-06T21:14:54.888000000Z","level":"INFO","msg":"service state","service":"web","vip":"198.18.1.100/32","from":"indoubt","to":"up","reason":"claimed"}
{"time":"2026-12-06T21:14:54.900000000Z","level":"INFO","msg":"service state","service":"db","vip":"198.18.1.101/32","from":"indoubt","to":"up","reason":"claimed"}
{"msg":"no time"}
`

const h1Log = `{"time":"2026-12-06T21:14:55.447024504Z","level":"INFO","msg":"link","path":"eth1","up":false,"reason":"carrier lost"}
{"time":"2026-12-06T21:14:55.447124504Z","level":"INFO","msg":"link","path":"eth0","up":true,"reason":"carrier up"}
{"time":"2026-12-06T21:14:55.447224504Z","level":"INFO","msg":"link","path":"eth0","up":false,"reason":"carrier lost"}
{"time":"2026-12-06T21:14:55.448626594Z","level":"INFO","msg":"control sent","op":"release","service":"web","target":"h2","paths":3}
`

func TestParseLog(t *testing.T) {
	lines, err := ParseLog(strings.NewReader(h2Log))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 8 {
		t.Fatalf("parsed %d lines, want 8 (the non-JSON line and the one without time skipped)", len(lines))
	}
	l := lines[4]
	if l.Msg != "VIP added" || l.Attrs["service"] != "web" || l.Attrs["took"] != float64(374000) || l.Attrs["msg"] != nil {
		t.Errorf("line 4 = %+v", l)
	}
	if want := time.Date(2026, 12, 6, 21, 14, 54, 888453192, time.UTC); !l.Time.Equal(want) {
		t.Errorf("time %s, want %s (nanoseconds kept)", l.Time, want)
	}
}

func TestFindStages(t *testing.T) {
	h1, err := ParseLog(strings.NewReader(h1Log))
	if err != nil {
		t.Fatal(err)
	}
	h2, err := ParseLog(strings.NewReader(h2Log))
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string][]LogLine{"h1": h1, "h2": h2}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, "2026-12-06T"+s+"Z")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	for _, tc := range []struct {
		name        string
		t0          time.Time
		detection   Mark
		want        map[string]time.Duration
		wantMissing []string
	}{{
		name:      "power pull: dead after t0, not the earlier one; up of web only",
		t0:        at("21:14:54.763378869"),
		detection: Mark{Host: "h2", Msgs: []string{"peer state"}, Attrs: map[string]string{"peer": "h1", "to": "dead"}},
		want: map[string]time.Duration{
			StageDetection: 100 * time.Millisecond,
			StageDecision:  us(124621), // the up line is stamped before VIP added, though written after it
			StageAdded:     us(125074), // 888453192 - 763378869 ns, truncated
			StageAnnounced: us(125570), // 888949828
		},
	}, {
		name:      "cable pull: the carrier loss of eth0 on the old owner",
		t0:        at("21:14:55.447000000"),
		detection: Mark{Host: "h1", Msgs: []string{"link"}, Attrs: map[string]string{"path": "eth0", "up": "false"}},
		want:      map[string]time.Duration{StageDetection: us(224)},
		// h2's lines are all before this t0.
		wantMissing: []string{StageDecision, StageAdded, StageAnnounced},
	}, {
		name:        "a mark that matches nothing is missing, not zero",
		t0:          at("21:14:54.763378869"),
		detection:   Mark{Host: "h1", Msgs: []string{"control sent"}, Attrs: map[string]string{"op": "reclaim"}},
		want:        map[string]time.Duration{StageDecision: us(124621), StageAdded: us(125074), StageAnnounced: us(125570)},
		wantMissing: []string{StageDetection},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, missing := FindStages(logs, tc.t0, StageMarks(tc.detection, "web", "h2"))
			for k, v := range got {
				got[k] = v.Truncate(time.Microsecond)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMissing, missing); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkString(t *testing.T) {
	m := Mark{Host: "h2", Msgs: []string{"gratuitous ARP sent", "gratuitous ARP landed"}, Attrs: map[string]string{"to": "dead", "peer": "h1"}}
	if got, want := m.String(), `h2 "gratuitous ARP sent" or "gratuitous ARP landed" peer=h1 to=dead`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}
