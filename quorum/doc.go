// Package quorum is the pure decision core of failover: it decides whether
// each peer is alive and what each service (each virtual IP) does next.
//
// The core never touches a socket, a clock, a goroutine, a logger or a
// random source. The shell feeds it events (Heard, Link, Health, Weight,
// Command, Probed, Shutdown, Stalled, Inherited, Tick), each carrying its
// own time,
// through Core.Step,
// and carries out the actions Step returns, in order. The results of those
// actions come back as events (a Probe as Probed). Replaying the same events
// gives the same actions, which is how every scenario in testdata is tested.
//
// # Guarantees
//
//   - A peer is dead only when every configured path to it is down. A path
//     is down after its deadtime without a frame, or at once when our
//     carrier on it is lost (Link{Up: false}). With PathSpec.Floor > 0 the
//     deadtime adapts to the path's observed inter-arrival times (phi
//     accrual), never below Floor nor above Deadtime.
//   - Losing our own end of a path (carrier, a serial port) is no evidence
//     about the peer: the peer is dead no sooner than its path's deadtime
//     after it was last heard on the path we lost.
//   - A Heard that reached the core more than its path's deadtime after it
//     was received (Heard.Received) is rejected (ErrTooOld); a frame's
//     liveness time is when it was received.
//   - After Stalled (the shell was away longer than a deadtime) every claim
//     is dropped at once (RemoveVIP, then recover) and nothing is claimed
//     before every peer has been heard again on each path (at most a
//     deadtime); a service returns only by reclaim, or indoubt and probe.
//   - With Config.Damping, a path that went down Damping.Flaps times within
//     Damping.Period is held down (flapping) until it has been stable for
//     the period; its changes meanwhile are not reported. A held link still
//     proves its peer alive while it carries frames. A service NIC counts
//     as back only after Damping.Settle of carrier, and never while it
//     flaps.
//   - Suspicion is judged against the interval the sender actually uses
//     (the median gap), when that is longer than the configured one.
//   - If carrier is lost on every one of our paths we are isolated and claim
//     nothing.
//   - A node claims a service only when no live peer advertises it up, it
//     is the highest-ranked eligible node it can see (priority, then the
//     smaller name), the startup listen is over (Config.Startup, or once
//     every peer has been heard), the indoubt hold has passed (at least the
//     longest path interval, whatever IndoubtHold says) and a Probe found
//     nobody answering for the address.
//   - An address an earlier run of ours left on the NIC (Inherited: a
//     daemon killed and started again, a reload) is kept while we listen;
//     nobody can have claimed it cleanly while it answered their probes.
//     It is dropped (RemoveVIP) as soon as a live peer advertises the
//     service up or we may not run it; once the listen is over it is kept
//     (up, no hold, no probe), as if the daemon had never stopped: a
//     better-ranked node asks for it back as failback says. It never stays
//     on two nodes that hear each other.
//   - A node ranks itself by its configured priority lowered by Weight (its
//     failing weight checks), never below 0, and advertises that; it ranks
//     a peer by what the peer advertises, never above what it configured
//     for it. Only the best-ranked node reclaims from a holder it outranks.
//   - Planned hand-over (operator fail, unhealthy service, shutdown) and
//     reclaim are hand-offs: the holder emits RemoveVIP before it sends
//     CtlRelease, and the taker emits AddVIP only on receiving it. The
//     addresses never overlap while a path works.
//   - Two holders that hear each other resolve it at once: the lower-ranked
//     one (or the one the other cannot hear) yields, with an Alarm.
//   - Step never panics on input; a rejected event (see the Err variables)
//     leaves the state unchanged.
//
// Path names are assumed symmetric: our path "eth0" to a peer is the peer's
// "eth0" to us. One-way loss is read from the peer's Views on that basis.
//
// Control messages may arrive more than once (the shell sends them on every
// path); they are deduplicated by the sender's Ref within its epoch.
//
// Config mismatches (Status.Mismatches, one Alarm per distinct set): the
// interval travels in every frame; while a peer's fingerprint differs from
// ours, Advert.SendTimers asks the shell to send Config.Timers, and the
// peer's (Heard.Timers) name each differing timer. The "fingerprint" entry
// is kept only when nothing named explains the difference.
//
// A PeerChanged with From == To reports a peer restart (a new epoch); a
// PathChanged with From == To reports one-way loss starting or ending (one
// Alarm per episode when it starts, after it has lasted a deadtime).
//
// # Concurrency
//
// A Core is not safe for concurrent use. The shell serialises every call
// (Step, Advert, Status, NextDeadline), typically from one loop goroutine.
package quorum
