// Package hwtest checks the serial cables and NICs of a failover cluster
// before it goes live, and recommends heartbeat timers from what it measured.
// It is the logic behind the hwtest command (cmd/hwtest is a thin main).
//
// # Serial
//
// Probes are small frames: magic "HT", version, type, a random session id
// (so stale answers of an earlier run are ignored), a sequence number, the
// sender's clock, a payload and a CRC-32; on the line each is framed as the
// daemon's serial transport frames (0x00, COBS with a CRC-32, 0x00; see
// transport/serial), so a receiver resynchronises at the next delimiter
// after any garbage and loses only the damaged frame. The probe payload
// walks through every byte value, 0x00 and 0xFF included.
//
//   - Loopback (a TX→RX plug): stop-and-wait probes give loss, RTT p50/p99
//     and jitter; a burst gives throughput; bytes outside valid frames and
//     payload bytes that came back different are byte errors.
//   - Peer and Listen (the two ends of a cable): the listener echoes probes
//     and sends a beacon with its receive counters at once for each new
//     initiator and every 250 ms. The initiator tells apart: silence (a
//     straight cable connects TX to TX, or the cable is cut or the listener
//     is not running); bytes that never decode with the signature of a baud
//     mismatch (see below); bytes that look like noise; beacons that arrive
//     while the listener hears nothing from us (one wire broken); and the
//     listener hearing our bytes without decoding them.
//
// A baud mismatch is recognised from the byte values it produces. A UART
// sampling faster than the sender sees each bit several times, so bytes come
// out as long runs of equal bits (0xFF, 0xF0, 0x80, 0xFE …); one sampling
// slower misses stop bits, and Linux delivers each framing error as 0x00 in
// raw mode. The signature is the share of bytes with at most one bit edge
// plus the share of 0x00 bytes: about 0.07 for uniform noise, 0.35 or more
// for mismatches of 2× or more. A pty ignores baud, so the lab tests
// simulate the mismatch with uartResample, a model of a 16×-oversampling
// UART receiving at the wrong rate; real hardware has not been tested.
//
// # NICs
//
// For every UDP [[path]] of failover.toml the Prober reads link, carrier,
// addresses and MTU from netlink; opens a socket bound to that NIC
// (SO_BINDTODEVICE) on the probe port, joins the path's multicast group on
// that NIC only and sends multicast with TTL 1 and no loopback; and sends
// numbered probes to the group and to each listed peer address. The
// Responder (hwtest nic --listen) answers unicast probes to the sender and
// multicast probes to the group, so both directions of multicast are tested.
// An unmeasured warm-up lets ARP resolve and switches learn first. Each peer
// gets loss, RTT p50/p99 and jitter per kind; the diagnosis separates a
// missing link, no carrier, silence (listener, firewall, VLAN), multicast
// lost while unicast works (switch multicast, firewall), the reverse, and
// loss above a threshold. Each VIP is ARP-probed on its NIC: an answer, or
// the address on a local NIC, fails the check.
//
// # Recommendation
//
// Recommend is pure. A peer is declared dead only when every path is
// silent, so a false failover needs k heartbeats lost in a row on every
// path. With per-path loss bounds p_i = (lost+3)/(sent+3) (a rough 95 %
// upper bound, so that a clean short run is not taken as zero loss) and
// independent paths, k is the smallest value ≥ 3 with
// (heartbeats per year)·(Π p_i)^k ≤ 1e-6; deadtime = k·interval plus a
// jitter margin of max(p99 − p50) + 4·jitter. The interval is the smallest
// step ≥ 20 ms (the daemon's default) that is at least 5 × p99 RTT, 10 × jitter and, on a serial
// line, twice the time of a 120-byte frame.
//
// # Concurrency and lifetimes
//
// Loopback, Peer, Listen and Prober.Run block until done or until the
// context ends; they start goroutines and wait for them before returning,
// and do not close the ports they are given. OpenProber and OpenResponder
// open every socket in the calling goroutine's network namespace (call them
// from a goroutine locked into a namespace to test one); Run may then be
// called from anywhere. Close is idempotent. Nothing here keeps package
// state; randomness is only the session id, which options can fix.
package hwtest
