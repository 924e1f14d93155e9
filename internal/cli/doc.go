// Package cli implements the failover command: the operator's view of and
// control over failoverd (status, watch, fail, recover, log-level, stress,
// check-config, setup, version) and the virtual cluster on this machine (lab up,
// status, crash, thaw, cut, plug, heal, down, demo, bench).
//
// Main is the whole command; cmd/failover only turns signals into a context
// and calls it. Every talk with a daemon goes through daemon/client; when
// the daemon is not running, every command prints the client's plain
// sentence ("failoverd is not running: cannot reach /run/failover.sock")
// and exits 1. Bad arguments and invalid configs exit 2.
//
// The package holds no global mutable state: each Main call has its own
// flags and output streams, so tests run it concurrently.
package cli
