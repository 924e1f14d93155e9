package rig

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// The ARP observer's who-has requests carry a sender address of the
// client's subnet that nothing else uses, a different one for each request
// in turn (ARPObserverIPs of them from ARPObserverFirst): a reply is sent
// to the request's sender address, so it names the request it answers
// even when it is read late, and it answers the observer and nobody else
// (the client's own kernel resolves the VIP as 198.18.1.250).
var ARPObserverFirst = netip.MustParseAddr("198.18.1.200")

// ARPObserverIPs is how many sender addresses the observer cycles through.
const ARPObserverIPs = 50

// ARPWatch is the client's view of who claims a VIP at the link layer: it
// sends a who-has for the VIP every period from the client namespace and
// records which MACs answer each request, and every gratuitous ARP
// (request or reply with sender IP = target IP = VIP) with its MAC. Safe
// for concurrent use; Stop ends it.
type ARPWatch struct {
	c      *arp.Client
	vip    netip.Addr
	mac    net.HardwareAddr // the client's
	hosts  map[string]string
	period time.Duration

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	mu     sync.Mutex
	reqs   []ARPRequest
	claims []ARPSeen
	err    error // the first send error
}

// WatchARP starts an ARP observer for svc's VIP on the client's eth0,
// asking every period.
func (r *Rig) WatchARP(svc string, period time.Duration) (*ARPWatch, error) {
	s, ok := r.Service(svc)
	if !ok {
		return nil, fmt.Errorf("rig: arp watch: no service %q", svc)
	}
	if period <= 0 {
		return nil, fmt.Errorf("rig: arp watch: period %s: want more than 0", period)
	}
	w := &ARPWatch{vip: s.VIP.Addr(), hosts: map[string]string{}, period: period, stop: make(chan struct{})}
	for _, h := range r.Lab.Hosts() {
		w.hosts[h.MAC("eth0").String()] = h.Name()
	}
	cl := r.Lab.Client()
	if cl == nil {
		return nil, errors.New("rig: arp watch: the rack has no client")
	}
	err := cl.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		w.mac = ifi.HardwareAddr
		// arp.Dial needs the interface to have an IPv4 address: the
		// client's 198.18.1.250.
		w.c, err = arp.Dial(ifi)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rig: arp watch in the client: %w", err)
	}
	w.wg.Add(2)
	go w.ask()
	go w.read()
	return w, nil
}

// observerIP is the sender address of request n.
func observerIP(n int) netip.Addr {
	a := ARPObserverFirst.As4()
	a[3] += byte(n % ARPObserverIPs)
	return netip.AddrFrom4(a)
}

func (w *ARPWatch) ask() {
	defer w.wg.Done()
	t := time.NewTicker(w.period)
	defer t.Stop()
	for n := 0; ; n++ {
		from := observerIP(n)
		p, err := arp.NewPacket(arp.OperationRequest, w.mac, from, ethernet.Broadcast, w.vip)
		if err != nil {
			w.setErr(err)
			return
		}
		w.mu.Lock()
		w.reqs = append(w.reqs, ARPRequest{At: time.Now(), From: from})
		w.mu.Unlock()
		if err := w.c.WriteTo(p, ethernet.Broadcast); err != nil {
			w.setErr(err)
		}
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
	}
}

func (w *ARPWatch) setErr(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("rig: arp watch: %w", err)
	}
}

func (w *ARPWatch) read() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		w.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		p, _, err := w.c.Read()
		at := time.Now()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if p.SenderIP != w.vip || slices.Equal(p.SenderHardwareAddr, w.mac) {
			continue
		}
		seen := ARPSeen{At: at, MAC: p.SenderHardwareAddr.String()}
		seen.Host = w.hosts[seen.MAC]
		if seen.Host == "" {
			seen.Host = "?"
		}
		w.mu.Lock()
		switch {
		case p.TargetIP == w.vip: // gratuitous: request or reply
			w.claims = append(w.claims, seen)
		case p.Operation == arp.OperationReply:
			// The latest request sent from the address the reply is for.
			for i := len(w.reqs) - 1; i >= 0; i-- {
				if w.reqs[i].From == p.TargetIP {
					w.reqs[i].Answers = append(w.reqs[i].Answers, seen)
					break
				}
			}
		}
		w.mu.Unlock()
	}
}

// Requests returns the requests sent so far with their answers.
func (w *ARPWatch) Requests() []ARPRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.reqs)
}

// Period is the time between two requests.
func (w *ARPWatch) Period() time.Duration { return w.period }

// Stop ends the observer and returns its requests with their answers, the
// claims, and the first send error.
func (w *ARPWatch) Stop() ([]ARPRequest, []ARPSeen, error) {
	w.once.Do(func() {
		close(w.stop)
		w.wg.Wait()
		w.c.Close()
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.reqs), slices.Clone(w.claims), w.err
}
