// Package check runs a service's health checks and reports their verdicts:
// exec (a command; exit 0 is a pass), tcp (a connect to host:port), http (a
// GET; the status must match and, if asked, the body must contain a
// substring) and ping (an ICMP echo, or an ARP who-has on one NIC: a host
// that cannot reach its gateway is not fit to own the address even with
// carrier, Heartbeat's ipfail case).
//
// Each check has an interval, a timeout, and rise and fall counts. A
// Verdict turns the stream of results into a pass/fail state: the first
// result decides at once; after that it takes Rise passes in a row to turn
// a failing check healthy and Fall failures in a row to turn a healthy one
// failing. Verdict is pure and is tested without a clock.
//
// # Guarantees
//
//   - A Scheduler runs every check on its own goroutine, never on the
//     caller's, and reports only verdict changes (Options.OnChange), in the
//     order they happen for any one check. A check is never run twice at
//     once: the next run starts an interval after the previous one began,
//     or when it ended if it took longer.
//   - A run never lasts past its timeout: an exec check's whole process
//     group is killed (SIGKILL) at the timeout and the run counts as failed
//     ("timed out after 2s"); network checks carry the timeout as their
//     deadline. A command that does not exist, a target that does not
//     answer and a malformed answer are all failures, with the reason in
//     the result's output line.
//   - Status returns a snapshot of every check's verdict, last result,
//     output line and duration; it shares no memory with the scheduler.
//
// Sockets and child processes are made through Options.Inside, so a daemon
// running inside a network namespace probes from there.
//
// # Concurrency
//
// A Scheduler is safe for concurrent use; Run is called once. OnChange is
// called from the checks' goroutines, one call at a time per check but
// possibly concurrently for different checks; it may block, which delays
// only that check.
package check
