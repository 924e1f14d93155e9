// Package rig runs a virtual failover cluster on one Linux machine: a rack
// from internal/lab, a real failoverd in every host with a generated config
// and key, a UDP echo responder in every host and a prober in the client
// namespace that sends to the VIP every 10 ms and records which host
// answered. The failover lab commands, the demo and the end-to-end tests are
// built on it.
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
// Probe, Prober, Dist, Summarize, the log parser (ParseLog, Mark,
// FindStages) and the scenario names are portable (the probes only need a
// UDP socket); everything that builds a rack is Linux only.
package rig
