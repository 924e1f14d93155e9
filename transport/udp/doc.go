// Package udp is a heartbeat path over UDP on exactly one NIC: one socket
// bound to the device (SO_BINDTODEVICE), sending to a multicast group joined
// on that NIC only (TTL 1, loopback off, outgoing interface pinned) and/or to
// listed unicast peers. Received datagrams carry the receive time taken at
// the edge, the source and the ifindex from the control message; datagrams
// that arrived on another NIC are dropped and counted.
//
// Send and Recv use raw sendto(2) and recvmsg(2) on the non-blocking
// socket inside the poller (syscall.RawConn), with buffers allocated once:
// they allocate only the received datagram's copy, and they do not wake the
// runtime's monitor thread as the runtime's syscall bookkeeping does on
// every call.
//
// A Path is safe for one concurrent sender and one concurrent receiver;
// Close is idempotent and unblocks Recv. New must run on a thread in the
// network namespace that owns the NIC (the socket stays there afterwards).
// Linux only: elsewhere New returns an "unsupported platform" error.
//
// Errors from New name the path and the reason; Send reports each failed
// destination and still sends to the others. IPv6 is not supported yet.
package udp
