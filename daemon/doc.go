// Package daemon is failoverd's shell around the pure decision core: it loads
// the configuration, opens the heartbeat paths, manages the virtual IPs and
// serves the control API, all under one Daemon.Run.
//
// # Configuration
//
// The config is package daemon/config: it is loaded, validated and turned
// into the core's terms there; the daemon takes a *config.Config.
//
// # Run
//
// Run starts, in the original's order, the state (core and control socket),
// the address service (one vip manager per service; a stale copy of a VIP left
// by a crashed run is removed and reported), then the peers (every path; one
// that fails to open is logged and the others run) and the link watcher.
//
// The shell is split by what each part talks to: session.go holds the loop,
// its timers, step/do (the core's actions carried out), reload and close;
// heartbeat.go the paths (open, read, beat, seal, send, heard, link events);
// address.go the VIP work (add, announce, refresh, release, probe, duplicate
// watch). Its parts with no knowledge of the session are leaf subpackages:
// config, client (the control API), snmp (traps) and web (the status page).
//
// One goroutine, the loop, owns the quorum.Core. It selects over admitted
// frames from the path readers, carrier events, probe results, control API
// requests, SIGHUP reloads, ctx and one timer set to the earliest of the next
// heartbeat, Core.NextDeadline and the VIP refresh times, so a deadtime
// expires within the timer's precision rather than on a coarse tick. The
// timer is a timerfd on Linux (a runtime timer sleeps in whole milliseconds
// and wakes twice) and is not re-armed for an unchanged instant. Frames
// are authenticated and replay-checked in the reader goroutines
// (transport.Gate); our own frames are dropped in the loop, which feeds every
// queued frame to the core before it sleeps again. One heartbeat tick sends
// on every path; a tick due within half an interval goes out as soon as a
// peer's frame has been read, so that the send shares the read's wake-up
// and the two nodes settle in phase (the next tick is then due interval +
// interval/8 later, behind the peer's next frame). Actions are
// carried out in order: AddVIP = Ensure, one gratuitous ARP pair at once and
// the rest in the background; RemoveVIP = Release; Probe runs on its own
// goroutine and comes back as quorum.Probed; Send seals one control frame and
// sends it on every path at once. While we own a VIP, Ensure runs every
// lifetime/4 and Announce every announce_refresh.
//
// Cancelling ctx is a planned hand-over: the core's Shutdown actions run
// (release, then tell the peers), the loop waits up to 300ms for the peer's
// Ack, any VIP still held is released, and Run returns nil. A reload that
// changes only log settings applies at once; any other valid change restarts
// the core and paths while the VIPs we hold stay in place (the new core gets
// them as quorum.Inherited: it keeps them once it has heard the peers, or
// says to drop them; unclaimed, they are released after its startup listen
// and two deadtimes). A VIP an earlier run left on the NIC (a daemon killed
// and started again before the address's lifetime ran out) is treated the
// same way: kept, refreshed, and reported to the core. An invalid file is
// logged and the running config kept.
//
// # SNMP traps
//
// With [snmp] trap_targets set, every StateChanged, PeerChanged and Alarm
// action is also queued as an SNMPv2c or SNMPv3 notification of FAILOVER-MIB
// (package daemon/snmp). The loop only queues; one sender goroutine, started
// by Run and kept across reloads, sends. A full queue drops the trap (counted
// and logged), so a slow receiver never delays the core. The default
// enterprise arc is a placeholder, and the log says so at start.
//
// # Health checks, hooks and metrics
//
// Each session runs the config's [[service.check]] tables (package
// daemon/check) off the loop; only verdict changes reach it. Per service the
// loop sums the service NIC's carrier and the failing fail checks into one
// quorum.Health and the failing weight checks' weights into one
// quorum.Weight. Every StateChanged is queued to the notify hooks and FIFO
// (package daemon/notify; one runner started by Run, kept across reloads,
// never blocking the loop) and counted by kind of reason; the last time
// nobody held a service, as this node saw it, is kept for status. With
// metrics_listen set, Run listens there before any session starts (a port
// in use makes Run fail naming the key) and serves daemon/web's read-only
// handler: the status page, /status.json and /metrics.
//
// # Control API
//
// The API (routes and types in package client) is served on a unix socket,
// mode 0600, removed at exit; a stale socket from a crashed daemon is
// replaced, a live one makes Run fail with "another failoverd is running".
// status_listen adds a read-only TCP listener whose requests must carry an
// HMAC under the cluster key.
//
// # systemd
//
// Run first checks the process's effective capabilities: without
// CAP_NET_ADMIN (the VIP) or CAP_NET_RAW (gratuitous ARP, probes, pinning UDP
// paths to their NIC) it fails at once with ErrMissingCapability naming the
// missing one, instead of failing at the first takeover. Under a service
// manager ($NOTIFY_SOCKET, Type=notify) the loop sends READY=1 once the
// first full evaluation is done (paths open, startup listen over, every
// service up, recover or fail; at most 5s after the listen if a service
// stays undecided), STATUS= with the service and peer states on each change,
// STOPPING=1 when the hand-over starts, and WATCHDOG=1 from its own turn at
// most every half $WATCHDOG_USEC: a wedged loop stops pinging and systemd
// restarts the daemon, while the VIP's kernel lifetime removes the address.
// JournalHandler and UnderJournal give failoverd a log the journal reads
// ("<N>" priority prefixes, no time stamp of its own).
//
// # Scheduling
//
// Before anything else, Run puts every thread of the process on SCHED_RR at
// realtime_priority (0: the normal scheduler), with reset-on-fork so that
// checks and hooks start at the normal policy; a goroutine owned by Run sets
// the threads the Go runtime starts later, once a second. A process already
// realtime (systemd's CPUSchedulingPolicy) is kept as it is. When the kernel
// refuses (no CAP_SYS_NICE, a user namespace, a seccomp filter) Run logs one
// warning and carries on. A changed realtime_priority applies at the next
// start.
//
// # Concurrency and platforms
//
// A Daemon is run once; its API handlers reach the core only through the
// loop. The package has no package-level mutable state; the logger, level and
// network access come in through Options; the systemd sockets come from the
// environment systemd sets ($NOTIFY_SOCKET, $WATCHDOG_USEC, $JOURNAL_STREAM). Linux-only code is in _linux.go
// files; elsewhere Run fails with a clear error.
package daemon
