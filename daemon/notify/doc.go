// Package notify tells the operator's own programs about every service
// state change: it runs hook commands (keepalived's notify scripts) and
// writes one line per change to an optional FIFO (keepalived's
// notify_fifo), for a long-running consumer.
//
// For each change the service's hook runs first, then the global one, with
// the configured argv and FAILOVER_SERVICE, FAILOVER_FROM, FAILOVER_TO,
// FAILOVER_REASON, FAILOVER_VIP and FAILOVER_NODE added to the daemon's
// environment.
//
// # Guarantees
//
//   - Notify never blocks and never waits for a hook: it only queues. A slow
//     or hanging hook therefore never delays a takeover or a release.
//   - Hooks run one at a time, in the order of the changes, on one worker
//     goroutine. Each runs in its own process group; at Config.Timeout the
//     whole group is killed (SIGKILL) and the run is recorded as timed out.
//   - Every run's exit code, duration and first output line are logged and
//     kept for Status (the last RecentRuns runs, and counts per service and
//     hook).
//   - The queue is bounded (Options.QueueLen); when it is full the change
//     is dropped for the hooks, counted and logged, rather than grow
//     without limit behind a hook that always hangs.
//   - The FIFO is opened and written without blocking: with no reader, or a
//     reader that does not keep up, a line is dropped and counted. Each line
//     is written whole, in one write shorter than PIPE_BUF. A missing FIFO
//     is created (mode 0600).
//   - When Run's context ends, what is still queued is run for at most one
//     more Config.Timeout (so the hooks of a planned shutdown's last changes
//     run), then Run returns.
//
// # FIFO lines
//
// Time, node, service, from, to, VIP and the reason as a Go-quoted string:
//
//	2026-01-02T15:04:05.123456789Z h1 web recover up 198.18.1.100/32 "claimed: peer h2 dead"
//
// # Concurrency
//
// A Runner is safe for concurrent use. Run is called once; Notify and
// Status may be called at any time, before, during or after Run.
package notify
