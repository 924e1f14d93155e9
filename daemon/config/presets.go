package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultPreset is the preset whose values apply when [timers] names none;
// Default and DefaultService take their timers from it.
const DefaultPreset = "lan"

// Preset is a named set of timers for one kind of network: `[timers]
// preset = "NAME"`. Each timer a file gives in [timers] (or probe_window in
// a [[service]]) overrides the preset's value.
type Preset struct {
	Name string
	// Use says which clusters it is for, in one line (setup's question,
	// check-config).
	Use    string
	Timers Timers
	// ProbeWindow is the default probe_window of every [[service]].
	ProbeWindow time.Duration
}

// Presets returns the presets, fastest first. This is the one table of
// timer defaults: Default and DefaultService take the lan preset's values.
// Every preset passes validation, with the CPU budget and the serial line
// budget at 115200 baud, for 2 to 16 nodes (TestPresetsValid).
func Presets() []Preset {
	return []Preset{
		{
			Name: "fast",
			Use:  "nodes on one switch, idle hosts: a peer is dead after 60ms of silence",
			Timers: Timers{
				// 67 heartbeats a second per path. 10ms would cost more CPU
				// than transport.CPUBudget from 13 nodes on two NICs and a
				// cable (52ms a second); 15ms stays under it up to 16 nodes
				// (43ms) and still puts four heartbeats in a deadtime.
				Interval: 15 * time.Millisecond,
				// Four missed heartbeats: survives a lost frame and a delay of
				// ~45ms, not a GC pause or a busy switch's queue. A 115200 baud
				// cable sends every 30ms (its 19.4ms frame rounded up to two
				// ticks) and keeps 2.5 x that (75ms), so with a cable fast gains
				// mostly in the tail: lab power pull p50 89ms, p99 91ms against
				// lan's 90/100ms; without one, about 70ms. (Two nodes; more make
				// the frame longer and the cable slower.)
				Deadtime: 60 * time.Millisecond,
				// Fixed: the point is a known, short deadtime; an adaptive one
				// would only be shorter still.
				AdaptiveFloor: 0,
				// 3 x deadtime: a booting node hears a live holder (a dozen
				// heartbeats) before it claims anything.
				Startup: 180 * time.Millisecond,
				// Claim as soon as the owner is dead on every path; the
				// all-paths rule already guards against a single cut.
				IndoubtHold: 0,
				// As lan: flaps come from cables and switch ports, whatever
				// the timers (every 0.1-3s, docs/benchmarks.md, "Flapping").
				Damping: 10 * time.Second,
				// As lan: the third loss within the damping period is a pattern.
				FlapLimit: 3,
				// As lan: longer than the up phase of a flap (150-200ms).
				CarrierSettle: time.Second,
			},
			// Not shortened: a loaded host's ARP answer took up to 16ms in
			// the lab (docs/design.md, VIP figures), and a conflict missed
			// is two owners.
			ProbeWindow: 20 * time.Millisecond,
		},
		{
			Name: "lan",
			Use:  "a LAN, hosts that may be busy: dead after 80ms of silence (the default)",
			Timers: Timers{
				// 50 heartbeats a second per path cost ~7 kB/s; chosen by
				// "failover lab sweep" (docs/benchmarks.md, "Choosing the
				// defaults"): 15ms and 10ms were as free of false failovers
				// but cost more CPU for the same outage (15ms: the cable's
				// 30ms send interval holds its deadtime at 75ms) or more CPU
				// than transport.CPUBudget allows from 13 nodes (10ms).
				Interval: 20 * time.Millisecond,
				// Four missed heartbeats. Measured in the lab (two hosts, two
				// NICs and a cable): power pull p50 90ms, p99 100ms (100ms
				// gave 110/120ms), and no false failover, split brain or
				// orphan in the drill, saturated CPUs included (the daemon
				// runs SCHED_RR: realtime_priority). A peer is dead only when
				// every path agrees, so one slow path is no failover.
				Deadtime: 80 * time.Millisecond,
				// Fixed deadtime unless asked: predictable, and the lab
				// measures it.
				AdaptiveFloor: 0,
				// 3 x deadtime: a booting node must hear a live holder before
				// it claims anything (less once every peer has been heard).
				Startup: 240 * time.Millisecond,
				// Claim as soon as the owner is dead on every path; the
				// all-paths rule already guards against a single cut.
				IndoubtHold: 0,
				// 10s: the flaps of a bad cable or a failing switch port come
				// every 0.1-3s, so three fall within 10s, and a port quiet for
				// 10s has stopped; the service waits that long after the last
				// flap (it is served by the backup meanwhile).
				// docs/benchmarks.md, "Flapping".
				Damping: 10 * time.Second,
				// One loss is a fault, two can be a replug; the third within
				// the damping period is a pattern.
				FlapLimit: 3,
				// 1s: longer than the up phase of the flaps measured
				// (150-200ms), so a flapping service NIC moves the service out
				// once, not back between two flaps; a clean return waits 1s
				// while the backup serves.
				CarrierSettle: time.Second,
			},
			// One ARP round trip on a LAN is well under a millisecond; 20ms
			// covers a loaded host.
			ProbeWindow: 20 * time.Millisecond,
		},
		{
			Name: "wan",
			Use:  "routed or congested links, VMs that pause: dead after 1s of silence",
			Timers: Timers{
				// 5 heartbeats a second per path: queueing on a congested or
				// routed link and a VM's stolen CPU delay frames by tens of
				// ms, small beside 200ms; a tenth of lan's traffic and CPU.
				Interval: 200 * time.Millisecond,
				// Five missed heartbeats, as lan: survives a VM paused for
				// under a second (a snapshot, the last copy of a live
				// migration), a route converging, a burst of loss; a dead peer
				// is found 1s after its last heartbeat.
				Deadtime: time.Second,
				// Fixed: a pause gives no warning in the arrival times, so a
				// deadtime learned on a steady link would cut it short.
				AdaptiveFloor: 0,
				// 3 x deadtime: a booting node hears a live holder before it
				// claims anything.
				Startup: 3 * time.Second,
				// As lan: the all-paths rule guards against a single cut, and
				// a node back from a pause drops its claims (the stall check).
				IndoubtHold: 0,
				// 30s: a path is down only after 1s of silence, and a routed
				// path's flaps (a route converging, a migration) come seconds
				// apart, so three need more than lan's 10s to be seen; a
				// flapping path is held down 30s after its last flap.
				Damping: 30 * time.Second,
				// As lan: the third loss within the damping period is a pattern.
				FlapLimit: 3,
				// As lan: carrier is the host's own NIC; the link's delays do
				// not reach it.
				CarrierSettle: time.Second,
			},
			// A busy hypervisor's virtual switch delays an ARP answer by tens
			// of ms; 100ms is a tenth of the deadtime a takeover waits anyway.
			ProbeWindow: 100 * time.Millisecond,
		},
	}
}

// PresetNames returns the presets' names, fastest first.
func PresetNames() []string {
	ps := Presets()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// CheckPreset reports why name is not a preset, naming the valid ones (and
// the one it is a typo of); nil if it is one.
func CheckPreset(name string) error {
	if _, ok := LookupPreset(name); ok {
		return nil
	}
	names := PresetNames()
	msg := fmt.Sprintf("%q is not a preset: want %s", name, orList(names))
	best, bestD := "", 3 // a typo: two edits at most
	for _, n := range names {
		if d := editDistance(strings.ToLower(strings.TrimSpace(name)), n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return errors.New(msg)
}

// orList writes names as "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// TimerSetting is one effective timer and where its value came from.
type TimerSetting struct {
	Key     string `json:"key"`               // "timers.deadtime", "service[0].probe_window"
	Value   string `json:"value"`             // "100ms", "3"
	From    string `json:"from"`              // "preset lan", "file", "3 x deadtime"
	Service string `json:"service,omitempty"` // the service's name, for a service key
}

// TimerSettings lists the effective timers in key order, each with where
// its value came from: the preset, the file, or a rule that derived it from
// another value the file gives.
func (c *Config) TimerSettings() []TimerSetting {
	t := c.Timers
	from := func(key string) string {
		if f, ok := c.From[key]; ok {
			return f
		}
		return "preset " + c.presetName()
	}
	out := []TimerSetting{}
	add := func(key, value string) {
		out = append(out, TimerSetting{Key: key, Value: value, From: from(key)})
	}
	add("timers.interval", t.Interval.String())
	add("timers.deadtime", t.Deadtime.String())
	add("timers.adaptive_floor", t.AdaptiveFloor.String())
	add("timers.startup", t.Startup.String())
	add("timers.indoubt_hold", t.IndoubtHold.String())
	add("timers.damping", t.Damping.String())
	add("timers.flap_limit", fmt.Sprint(t.FlapLimit))
	add("timers.carrier_settle", t.CarrierSettle.String())
	for i, s := range c.Services {
		key := fmt.Sprintf("service[%d].probe_window", i)
		out = append(out, TimerSetting{Key: key, Value: s.ProbeWindow.String(), From: from(key), Service: s.Name})
	}
	return out
}

func (c *Config) presetName() string {
	if c.Preset == "" {
		return DefaultPreset
	}
	return c.Preset
}

// presetOrDefault is the preset called name, or the default one.
func presetOrDefault(name string) Preset {
	if p, ok := LookupPreset(name); ok {
		return p
	}
	p, ok := LookupPreset(DefaultPreset)
	if !ok {
		panic("config: the default preset " + DefaultPreset + " is not in Presets")
	}
	return p
}

// Summary writes the preset's values in one line: "interval 20ms, deadtime
// 100ms, ...", in the order of the keys (failover.toml.example lists them so).
func (p Preset) Summary() string {
	t := p.Timers
	return fmt.Sprintf("interval %s, deadtime %s, adaptive_floor %s, startup %s, indoubt_hold %s, damping %s, flap_limit %d, carrier_settle %s, probe_window %s",
		t.Interval, t.Deadtime, t.AdaptiveFloor, t.Startup, t.IndoubtHold, t.Damping, t.FlapLimit, t.CarrierSettle, p.ProbeWindow)
}
