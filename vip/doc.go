// Package vip keeps one floating address (a VIP) on one interface: add it,
// refresh it, announce it, probe for another owner, and remove exactly it.
//
// # Manager
//
// Manager is the small interface the daemon codes against. Linux implements
// it with netlink (github.com/vishvananda/netlink) on a *netlink.Handle, ARP
// (github.com/mdlayher/arp) for IPv4 and NDP (github.com/mdlayher/ndp) for
// IPv6; package viptest has a recording fake. Linux also implements Cleaner
// (start-up removal of a stale copy) and Watcher (duplicate-address alarm).
// Carrier changes are watched by transport.WatchLinks. On other platforms NewLinux returns ErrUnsupported.
//
// # Guarantees
//
//   - Ensure is idempotent (RTM_NEWADDR with NLM_F_REPLACE) and restarts the
//     kernel lifetime of the address. With Config.Lifetime > 0 the address
//     carries valid_lft = preferred_lft = Lifetime, so an owner that dies or
//     hangs loses it without anyone's help. The kernel checks IPv4
//     lifetimes on whole-second ticks: an unrefreshed address with Lifetime
//     L is gone after L−20 ms to L+1 s, plus workqueue delay on a busy
//     machine (measured for L=2 s: 2.01–2.92 s quiet, up to 3.011 s at
//     load average 17). The owner must call Ensure every
//     Config.EnsureEvery (Lifetime/4).
//   - Release and Cleanup remove exactly our address: same IP and same
//     prefix length (the kernel allows only one such address per
//     interface; its label is not compared). They never touch another
//     address; NewLinux refuses a VIP equal to one of the host's own
//     addresses or whose prefix covers one. An absent address is not an
//     error. Release also stops running Announce calls first, so no
//     gratuitous ARP for the address leaves after Release returns.
//   - Announce sends both gratuitous ARP forms (request and reply) per
//     round, AnnounceCount rounds AnnounceInterval apart, the first at
//     once. Each round first makes sure the address is ours: after this
//     manager's own successful Ensure it is trusted to be until Release or
//     Cleanup (no netlink dump on the takeover path); otherwise the kernel
//     is asked. The first round fails with ErrNotPresent if it is not ours,
//     a later one ends the call quietly. Announce blocks for
//     (AnnounceCount-1)*AnnounceInterval: run it on its own goroutine if the
//     caller's loop must not wait. Release (and Close) stop it: it then
//     returns nil; the caller's ctx ending makes it return ctx.Err().
//   - Probe sends an RFC 5227 ARP probe (sender IP 0.0.0.0) and returns the
//     MAC of another host answering for the VIP within ProbeWindow, or nil.
//
// # Prefix length and secondary addresses
//
// A VIP is a /32 (/128) by default: an independent address with no subnet
// route of its own, which the kernel never ties to the primary. A VIP with
// the subnet's prefix (198.18.1.100/24 beside 198.18.1.1/24) is added as a
// *secondary* of the primary address, and Linux deletes all secondaries
// together with their primary unless net.ipv4.conf.<if>.promote_secondaries
// is 1 — an operator removing or renumbering the host's address would take
// the VIP down with it (and, if the VIP were added first and became the
// primary, releasing it would take the host's own address down). When Ensure
// sees that the VIP will be a secondary, it writes 1 to
// /proc/sys/net/ipv4/conf/<if>/promote_secondaries in the manager's
// namespace once. A prefix that covers the host's address with another
// length (198.18.1.100/16 beside 198.18.1.1/24) is refused.
//
// IPv6 VIPs are added with IFA_F_NODAD (another host's copy is exactly what
// DAD would find; ownership is decided by the quorum and Probe) and have no
// labels.
//
// # Namespaces and privileges
//
// Netlink calls go through the given handle. Packet sockets, the link
// subscription and /proc/sys writes are opened in the namespace given by
// WithNetNS (on a locked thread that is then discarded), else in the
// caller's. Adding and removing addresses needs CAP_NET_ADMIN, ARP and NDP
// sockets need CAP_NET_RAW; permission errors name the missing capability.
// Errors read "vip: <op> <vip> on <if>: …" and wrap the cause.
//
// # Concurrency
//
// Linux is safe for concurrent use. Ensure, Release and Cleanup are
// serialised by a mutex, and announcement rounds never overlap Release.
// Present, Probe and Watch use their own sockets and may run
// at the same time. Announce shares one send-only ARP socket per manager
// (closing an AF_PACKET socket costs 7–15 ms); Close releases it and is
// idempotent. The package has no package-level mutable state and starts no
// goroutine that outlives a call.
//
// # Measured (lab, kernel 6.18)
//
// Ensure+Announce ≈170–210 µs, Ensure refresh ≈60–230 µs, Release ≈100–340
// µs (the upper ends on a loaded machine); a client's neighbor entry follows
// a move in p50 0.2–0.8 ms, p99 1.8–10 ms; an unrefreshed 2 s VIP is gone
// after 2.0–3.0 s. Details in docs/design.md,
// section "VIP lifetime and announce".
package vip
