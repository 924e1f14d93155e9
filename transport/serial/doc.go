// Package serial is a heartbeat path over one RS-232 line, and the byte
// framing that carries sealed frames on it: each frame is
// 0x00, COBS(frame || CRC-32), 0x00, so the receiver resynchronises at the
// next delimiter after garbage or a truncated frame and loses at most the
// damaged frame (docs/design.md, "Serial framing").
//
// Guarantees: the Deframer holds at most one encoded frame (preallocated,
// bounded by MaxPayload) whatever the input; Read's (0, nil) is a timeout,
// not end of file; the input buffer is reset after every open, so bytes
// queued while the port was closed are not delivered; when the port fails
// (adapter unplugged, PortClosed) the path reports itself down, reopens the
// device with exponential backoff (50ms doubling to 2s by default) and
// reports itself up again, all through the WithLinkEvents callback. The
// configured name is opened each time, so a /dev/serial/by-id name follows
// an adapter that comes back as another ttyUSBn; and once a second
// (WithFollow) the path checks that the name still leads where it led at
// open, closing and reopening a port whose link moved or went.
//
// The device is opened by an Opener with go.bug.st/serial's Mode. The
// default on Linux, OpenTTY, sets the line up as go.bug.st/serial does (raw,
// 8N1, no flow control, exclusive) but keeps the descriptor non-blocking and
// reads and writes it through the Go runtime's poller with raw system
// calls: an idle line parks the reader goroutine and costs no wake-ups
// (a thread blocked in select(2), as go.bug.st/serial reads, keeps the
// runtime's monitor thread polling; measured in docs/benchmarks.md).
// Elsewhere the default is go.bug.st/serial's Open.
//
// Concurrency: a Path is safe for one concurrent sender and one concurrent
// receiver; it runs one reader goroutine, which also calls the link event
// callback, and one follower goroutine; Close is idempotent, unblocks Recv
// and returns once both have exited. A Send to a peer that stopped reading
// may wait until the line drains (the goroutine waits in the poller; with
// go.bug.st/serial the device is in blocking mode).
package serial
