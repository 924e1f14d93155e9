// Package rig runs a virtual failover cluster on one Linux machine: a rack
// from internal/lab, a real failoverd in every host with a generated config
// and key, a UDP echo responder in every host and a prober in the client
// namespace that sends to the VIP every 10 ms and records which host
// answered. The failover lab commands, the demo and the end-to-end tests are
// built on it.
//
// The drill (RunDrill, "failover lab drill") runs a matrix of faults
// (DrillScenarios) on a fresh rig per run, observed by the prober, an ARP
// observer in the client (WatchARP) and the Sampler of both hosts' address
// lists; Judge turns what they recorded into verdicts (split brain, false
// failover, orphan, moves, reclaim, settled) with the evidence in words.
// Judge is pure: it reads no clock and no socket.
//
// RunScale measures cost and detection time at several cluster sizes (one
// service per node, ScaleServices); PlotScale and PlotTradeoff draw PNG
// plots with gonum.org/v1/plot.
//
// RunBench is the measuring side ("failover lab bench"): it runs fault
// scenarios (BenchScenarios) on a two-host cluster, measures the outage the
// client saw and the stages of each takeover (Stages) from the daemons' JSON
// logs and the probes, and summarises the runs with nearest-rank
// percentiles (Summarize). A run that could not be measured is recorded with
// its reason and never counted as a number.
//
// A Rig is safe for concurrent use. Close stops every process it started
// and removes the rack and its files; it is idempotent. RunBench builds and
// closes its own Rig.
//
// RunSweep measures the power pull and the drill at several timer settings
// (SweepPoint) and recommends one (SweepReport.Best).
//
// Probe, Prober, Dist, Summarize, the log parsers (ParseLog, Mark,
// FindStages; ParseLogLine, DeadAt), the verdicts (Judge), the scale figures
// (ScaleRow, GrowthOf), the sweep's report and the plots are portable;
// everything that builds a rack is Linux only.
package rig
