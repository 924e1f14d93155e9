package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const nftTable = "fo_lab"

// port looks up host's nic and says what is wrong if there is none.
func (l *Lab) port(host, nic string) (port, error) {
	h := l.Host(host)
	if h == nil {
		return port{}, fmt.Errorf("lab: no host %q", host)
	}
	if _, ok := h.nics[nic]; !ok {
		return port{}, fmt.Errorf("lab: host %s has no NIC %q (has %v)", host, nic, h.NICs())
	}
	return port{host, nic}, nil
}

// Pull takes the switch side of host's nic down: the host sees NO-CARRIER.
func (l *Lab) Pull(host, nic string) error {
	p, err := l.port(host, nic)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pulled[p] = true
	return l.applyLink(p)
}

// Plug undoes Pull (a frozen host's NICs stay down until Thaw).
func (l *Lab) Plug(host, nic string) error {
	p, err := l.port(host, nic)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pulled, p)
	return l.applyLink(p)
}

// applyLink sets the switch-side veth of p up or down from the lab's state.
// l.mu must be held.
func (l *Lab) applyLink(p port) error {
	if l.closed {
		return errors.New("lab: closed")
	}
	link, err := l.sw.nl.LinkByName(p.swName())
	if err != nil {
		return fmt.Errorf("lab: %s %s: finding switch port %s: %w", p.host, p.nic, p.swName(), err)
	}
	if l.pulled[p] || l.frozen[p.host] {
		err = l.sw.nl.LinkSetDown(link)
	} else {
		err = l.sw.nl.LinkSetUp(link)
	}
	if err != nil {
		return fmt.Errorf("lab: %s %s: setting switch port %s: %w", p.host, p.nic, p.swName(), err)
	}
	return nil
}

// AdminDown sets host's nic administratively down inside the host (ip link
// set dev NIC down, as ifdown, a driver reset or a network manager does):
// the host loses IFF_UP and carrier, sockets bound to the NIC see
// ENETDOWN, and the switch side loses carrier too. The NIC keeps its
// addresses. AdminUp undoes it.
func (l *Lab) AdminDown(host, nic string) error { return l.setAdmin(host, nic, true) }

// AdminUp sets host's nic administratively up again (ip link set dev NIC
// up); carrier returns unless the NIC is also pulled or the host frozen.
func (l *Lab) AdminUp(host, nic string) error { return l.setAdmin(host, nic, false) }

func (l *Lab) setAdmin(host, nic string, down bool) error {
	p, err := l.port(host, nic)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab: closed")
	}
	if down {
		l.admin[p] = true
	} else {
		delete(l.admin, p)
	}
	return l.applyAdmin(p)
}

// applyAdmin sets the host side of p up or down from the lab's state. l.mu
// must be held.
func (l *Lab) applyAdmin(p port) error {
	h := l.Host(p.host)
	link, err := h.nl.LinkByName(p.nic)
	if err != nil {
		return fmt.Errorf("lab: %s %s: finding the NIC: %w", p.host, p.nic, err)
	}
	if l.admin[p] {
		err = h.nl.LinkSetDown(link)
	} else {
		err = h.nl.LinkSetUp(link)
	}
	if err != nil {
		return fmt.Errorf("lab: %s %s: setting it admin up/down: %w", p.host, p.nic, err)
	}
	return nil
}

// Drop silently drops frames of host's nic in the switch, in direction dir.
// The link stays up. It replaces any earlier Drop on that NIC.
func (l *Lab) Drop(host, nic string, dir Direction) error {
	p, err := l.port(host, nic)
	if err != nil {
		return err
	}
	if dir < DirBoth || dir > DirFromHost {
		return fmt.Errorf("lab: drop on %s %s: unknown direction %v", host, nic, dir)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drops[p] = dir
	return l.applyNft()
}

// Loss drops percent% of frames of host's nic at random in the switch, in
// each direction independently. Loss 0 removes it.
func (l *Lab) Loss(host, nic string, percent int) error {
	p, err := l.port(host, nic)
	if err != nil {
		return err
	}
	if percent < 0 || percent > 100 {
		return fmt.Errorf("lab: loss on %s %s: percent %d not in 0..100", host, nic, percent)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if percent == 0 {
		delete(l.loss, p)
	} else {
		l.loss[p] = percent
	}
	return l.applyNft()
}

// applyNft replaces the lab's bridge table in the switch namespace with one
// holding the current drops and losses, in one transaction. l.mu must be held.
func (l *Lab) applyNft() error {
	if l.closed {
		return errors.New("lab: closed")
	}
	if l.nft == nil {
		c, err := nftables.New(nftables.WithNetNSFd(int(l.sw.ns)))
		if err != nil {
			return fmt.Errorf("lab: nftables: %w", err)
		}
		l.nft = c
	}
	c := l.nft
	t := &nftables.Table{Name: nftTable, Family: nftables.TableFamilyBridge}
	if l.nftUsed {
		c.DelTable(t)
	}
	if len(l.drops) == 0 && len(l.loss) == 0 {
		if err := c.Flush(); err != nil {
			return fmt.Errorf("lab: nftables: removing table %s: %w", nftTable, err)
		}
		l.nftUsed = false
		return nil
	}
	c.AddTable(t)
	policy := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{
		Name:     "forward",
		Table:    t,
		Type:     nftables.ChainTypeFilter,
		Hooknum:  nftables.ChainHookForward,
		Priority: nftables.ChainPriorityFilter,
		Policy:   &policy,
	})
	rule := func(exprs ...expr.Any) {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: append(exprs, &expr.Verdict{Kind: expr.VerdictDrop})})
	}
	for _, p := range sortedPorts(l.drops) {
		dir := l.drops[p]
		if dir == DirBoth || dir == DirFromHost {
			rule(ifname(expr.MetaKeyIIFNAME, p.swName())...)
		}
		if dir == DirBoth || dir == DirToHost {
			rule(ifname(expr.MetaKeyOIFNAME, p.swName())...)
		}
	}
	for _, p := range sortedPorts(l.loss) {
		pct := l.loss[p]
		for _, key := range []expr.MetaKey{expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME} {
			rule(append(ifname(key, p.swName()), random(pct)...)...)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("lab: nftables: writing table %s in the switch: %w", nftTable, err)
	}
	l.nftUsed = true
	return nil
}

func sortedPorts[V any](m map[port]V) []port {
	ps := make([]port, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b port) int {
		if a.host != b.host {
			if a.host < b.host {
				return -1
			}
			return 1
		}
		if a.nic < b.nic {
			return -1
		} else if a.nic > b.nic {
			return 1
		}
		return 0
	})
	return ps
}

// ifname matches meta iifname/oifname == name.
func ifname(key expr.MetaKey, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

// random matches "numgen random mod 100 < pct". The generator writes a host
// endian word and cmp compares bytes, hence the conversion to big endian.
func random(pct int) []expr.Any {
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(uint32(pct))},
	}
}

// Freeze simulates a power loss of host: SIGSTOP to every process started
// there, every NIC pulled, every cable to it cut. The NICs and cables go
// only once every thread of those processes has stopped (a signal is
// delivered asynchronously), so a frozen daemon never sees its own cables
// go.
func (l *Lab) Freeze(host string) error { return l.setFrozen(host, true) }

// Thaw undoes Freeze; faults set separately (Pull, Cut, ...) remain.
func (l *Lab) Thaw(host string) error { return l.setFrozen(host, false) }

func (l *Lab) setFrozen(host string, on bool) error {
	h := l.Host(host)
	if h == nil {
		return fmt.Errorf("lab: no host %q", host)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab: closed")
	}
	var errs []error
	if on {
		l.frozen[host] = true
		errs = append(errs, h.signalAll(syscall.SIGSTOP))
		errs = append(errs, h.waitStopped(5*time.Second))
	} else {
		delete(l.frozen, host)
	}
	for _, nic := range h.NICs() {
		errs = append(errs, l.applyLink(port{host, nic}))
	}
	for _, c := range l.cables {
		if c.a.host == host || c.b.host == host {
			c.setFrozen(l.frozen[c.a.host] || l.frozen[c.b.host])
		}
	}
	if !on {
		// Power comes back with the links up: the processes continue only
		// once the host sees carrier again on every NIC not otherwise
		// pulled or set down.
		for _, nic := range h.NICs() {
			if p := (port{host, nic}); !l.pulled[p] && !l.admin[p] {
				errs = append(errs, h.waitOperUp(nic, 5*time.Second))
			}
		}
		errs = append(errs, h.signalAll(syscall.SIGCONT))
	}
	return errors.Join(errs...)
}

// waitOperUp waits until nic is operationally up in h, for at most d.
func (h *Host) waitOperUp(nic string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		l, err := h.nl.LinkByName(nic)
		if err == nil && l.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %s %s: not up %v after its port came back (%v)", h.name, nic, d, err)
		}
		time.Sleep(100 * time.Microsecond) // polls the kernel's link state
	}
}

// Heal undoes every fault: plugs, sets admin up and thaws every host, removes drops and
// losses, and heals every cable (new ptys behind the same paths after a
// hangup).
func (l *Lab) Heal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab: closed")
	}
	var errs []error
	frozen := l.frozen
	admin := l.admin
	clear(l.pulled)
	l.frozen = map[string]bool{}
	l.admin = map[port]bool{}
	clear(l.drops)
	clear(l.loss)
	for _, h := range l.allHosts() {
		for _, nic := range h.NICs() {
			p := port{h.name, nic}
			errs = append(errs, l.applyLink(p))
			if admin[p] {
				errs = append(errs, l.applyAdmin(p))
			}
		}
	}
	errs = append(errs, l.applyNft())
	for _, c := range l.cables {
		c.setFrozen(false)
		errs = append(errs, c.Heal())
	}
	for name := range frozen {
		errs = append(errs, l.Host(name).signalAll(syscall.SIGCONT))
	}
	return errors.Join(errs...)
}

// waitStopped waits until every thread of every process started in h is
// stopped (state T in /proc), or gone, for at most d.
func (h *Host) waitStopped(d time.Duration) error {
	h.mu.Lock()
	var pids []int
	for _, c := range h.procs {
		pids = append(pids, c.Process.Pid)
	}
	h.mu.Unlock()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for !stopped(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("lab: %s: process %d not stopped %v after SIGSTOP", h.name, pid, d)
			}
			time.Sleep(100 * time.Microsecond) // polls /proc; the kernel offers no wait for a stop of a non-child
		}
	}
	return nil
}

// stopped reports whether every thread of pid is stopped (or the process
// is gone or a zombie).
func stopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return true
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited
		}
		// "pid (comm) S ...": the state follows the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) {
			continue
		}
		switch s[i+2] {
		case 'T', 't', 'Z', 'X':
		default:
			return false
		}
	}
	return true
}
