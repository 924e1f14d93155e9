package udp

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysIO reads and writes the path's socket with raw recvmsg(2) and
// sendto(2) calls on the non-blocking descriptor, inside the poller's
// RawConn.Read and Write: a call that would block returns EAGAIN and the
// goroutine parks in the poller as with net.UDPConn. The calls bypass the
// runtime's syscall bookkeeping, which wakes the runtime's monitor thread
// (sysmon) from its idle sleep on every system call; for calls that cannot
// block that bookkeeping buys nothing. The message header, address and
// control buffers and the closures are allocated once: Recv and Send do not
// allocate. One receiver and one sender at a time.
type sysIO struct {
	rc syscall.RawConn

	// receive side
	msg   unix.Msghdr
	iov   unix.Iovec
	name  unix.RawSockaddrInet4
	oob   [64]byte
	rn    int
	rerr  syscall.Errno
	rfunc func(fd uintptr) bool

	// send side
	dests []unix.RawSockaddrInet4
	sbuf  []byte
	sdst  *unix.RawSockaddrInet4
	serr  syscall.Errno
	sfunc func(fd uintptr) bool
}

func (p *Path) initIO() error {
	sc, ok := p.raw.(syscall.Conn)
	if !ok {
		return errors.New("socket has no raw descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	s := &p.sys
	s.rc = rc
	for _, d := range p.dests {
		var sa unix.RawSockaddrInet4
		sa.Family = unix.AF_INET
		ap := d.AddrPort()
		sa.Addr = ap.Addr().Unmap().As4()
		port := (*[2]byte)(unsafe.Pointer(&sa.Port))
		port[0], port[1] = byte(ap.Port()>>8), byte(ap.Port())
		s.dests = append(s.dests, sa)
	}
	s.rfunc = func(fd uintptr) bool {
		for {
			s.msg.Name = (*byte)(unsafe.Pointer(&s.name))
			s.msg.Namelen = uint32(unsafe.Sizeof(s.name))
			s.msg.Iov = &s.iov
			s.msg.Iovlen = 1
			s.msg.Control = &s.oob[0]
			s.msg.SetControllen(len(s.oob))
			s.msg.Flags = 0
			r, _, e := unix.RawSyscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.msg)), unix.MSG_DONTWAIT)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait in the poller
			}
			s.rn, s.rerr = int(r), e
			return true
		}
	}
	s.sfunc = func(fd uintptr) bool {
		for {
			_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&s.sbuf[0])), uintptr(len(s.sbuf)),
				unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(s.sdst)), unsafe.Sizeof(*s.sdst))
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			s.serr = e
			return true
		}
	}
	return nil
}

// recvmsg reads one datagram into buf: its length (buf's length when it
// was cut), the interface it came in on (0 if the control message is
// missing) and its source.
func (p *Path) recvmsg(buf []byte) (n, ifIndex int, from netip.AddrPort, err error) {
	s := &p.sys
	s.iov.Base = &buf[0]
	s.iov.SetLen(len(buf))
	if err := s.rc.Read(s.rfunc); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return 0, 0, from, net.ErrClosed
		}
		return 0, 0, from, err
	}
	if s.rerr != 0 {
		return 0, 0, from, s.rerr
	}
	oob := s.oob[:s.msg.Controllen]
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if h.Len < unix.SizeofCmsghdr || int(h.Len) > len(oob) {
			break
		}
		if h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && int(h.Len) >= unix.CmsgLen(unix.SizeofInet4Pktinfo) {
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			ifIndex = int(pi.Ifindex)
		}
		next := unix.CmsgSpace(int(h.Len) - unix.CmsgLen(0))
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	port := (*[2]byte)(unsafe.Pointer(&s.name.Port))
	from = netip.AddrPortFrom(netip.AddrFrom4(s.name.Addr), uint16(port[0])<<8|uint16(port[1]))
	return min(s.rn, len(buf)), ifIndex, from, nil
}

// sendto sends b to destination i.
func (p *Path) sendto(b []byte, i int) error {
	s := &p.sys
	if len(b) == 0 {
		return errors.New("empty datagram")
	}
	s.sbuf, s.sdst = b, &s.dests[i]
	err := s.rc.Write(s.sfunc)
	s.sbuf = nil
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			return net.ErrClosed
		}
		return err
	}
	if s.serr != 0 {
		return s.serr
	}
	return nil
}
