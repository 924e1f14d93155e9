// Package lab builds a virtual rack on one Linux machine, for tests and for
// the "failover lab" demo: hosts h1..hN (1..16) and an optional "client",
// each an anonymous network namespace, wired to a switch namespace whose
// bridges brA and brB (multicast snooping, STP and forward delay off) carry
// eth0 (198.18.1.N/24) and eth1 (198.18.2.N/24); the client is
// 198.18.1.250/24 on brA. Optional null-modem cables join pairs of hosts
// through pty pairs and a relay; each end is a device node (ttyUSBn, a
// symlink to its pty) behind a stable serial/by-id style path, which hosts
// open with go.bug.st/serial.
//
// Faults: Pull/Plug take a NIC's switch port down and up (the host sees
// NO-CARRIER); AdminDown/AdminUp set a NIC down and up inside the host (ip
// link set dev NIC down: no IFF_UP, sockets on it see ENETDOWN); Drop and
// Loss discard frames silently in the switch with an nftables bridge table
// (no nft binary); Cable.Cut, Cable.Hangup (both adapters gone),
// Cable.Unplug/Replug (one end's USB adapter out, then back as another
// ttyUSBn behind the same stable path), Cable.Inject (noise); Freeze stops a
// host's processes (it returns once every thread is stopped), then pulls
// its NICs and cuts its cables; Thaw restores them and continues the
// processes once the NICs are up again. Heal undoes every fault.
//
// Guarantees:
//   - Only addresses in 198.18.0.0/15 are configured and nothing routes out
//     of the namespaces; the host's own network is never touched.
//   - No named namespaces are created. Anonymous namespaces vanish with the
//     last file descriptor or process in them, so even a crashed test leaves
//     none behind. Close kills the processes started with Host.Start (and
//     their process groups), stops relays and removes the cable symlinks and
//     their temp directory. A failed New tears down what it built.
//   - A thread that entered a host namespace is never returned to the Go
//     scheduler: Host.Do runs fn on a fresh locked thread that dies with it.
//
// Concurrency: all methods of Lab, Host and Cable are safe for concurrent
// use. Host.Netlink's handle is shared; netlink.Handle is itself safe for
// concurrent requests.
//
// Privileges: building a lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN in the
// current user namespace. Tests call Main from TestMain: as a normal user it
// re-runs the test binary in a new user namespace where it is root. Tests
// that need a lab call Require, which skips with the reason (Available) when
// no lab can be built, and never skips when running as root.
package lab
