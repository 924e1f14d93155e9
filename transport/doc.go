// Package transport carries authenticated heartbeats between failover nodes
// over every configured path at once.
//
// It defines the heartbeat Frame and its wire format (MarshalBinary,
// UnmarshalBinary; docs/design.md, "Wire format"), with an optional
// trailing timer section (Frame.Timers) that costs no byte when absent, the Sealer that adds and
// checks an HMAC-SHA256 tag under a shared key from a Keyring, the
// ReplayGuard that drops replayed frames per (peer, path), per-path Counters,
// and the Path interface that each medium implements: subpackage udp (one
// socket pinned to one NIC) and subpackage serial (one RS-232 line). On Linux
// WatchLinks reports carrier changes per NIC from netlink.
//
// Guarantees:
//   - No byte sequence makes UnmarshalBinary or Sealer.Open panic or allocate
//     more than a small multiple of MaxFrameLen; every count and length on the
//     wire is bounded (MaxViews, MaxServices, MaxNameLen, MaxSvcLen).
//   - A frame reaches the caller of Gate.Admit only if it belongs to the
//     Sealer's cluster, carries a valid tag under an accepted key (unless the
//     Sealer was built with Unauthenticated) and is not a replay on that path.
//     Rejections wrap ErrMalformed, ErrVersion, ErrCluster, ErrAuth or
//     ErrReplay and are counted.
//   - The decision of what a frame means is not made here: this package does
//     not filter our own node's frames, judge peers or keep timers.
//
// Concurrency: Frame values are plain data. Keyring is immutable; Sealer,
// ReplayGuard, Gate and Counters are safe for concurrent use. A Path is safe
// for one concurrent sender and one concurrent receiver; its Close is
// idempotent and unblocks Recv, which then returns ErrClosed. The package has
// no package-level mutable state.
package transport
