package rig

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/failover-ha/failover/internal/lab"
)

// The faults of the drill's scenarios: each is done to the settled owner
// (h1) unless it says otherwise, held, and healed.

// inject does the scenario's fault, holds it and heals it; it returns when
// the fault was healed.
func (d *drillRun) inject(ctx context.Context) (time.Time, error) {
	l := d.rg.Lab
	cable := l.Cable(drillOwner, drillBackup)
	short := d.hold(5*time.Second, time.Second)
	both := func(f func(nic string) error) error {
		return errors.Join(f("eth0"), f("eth1"))
	}
	simple := func(what string, do, undo func() error) (time.Time, error) {
		if err := do(); err != nil {
			return time.Time{}, err
		}
		if err := d.holdFor(ctx, short, what); err != nil {
			return time.Time{}, err
		}
		err := undo()
		return time.Now(), err
	}
	switch d.sc.Name {
	case "power-pull":
		d.sampler.Ignore(drillOwner, true) // behind pulled cables while frozen
		if err := l.Freeze(drillOwner); err != nil {
			return time.Time{}, err
		}
		if err := d.holdFor(ctx, d.pastLifetime(), "h1 frozen (power pull)"); err != nil {
			return time.Time{}, err
		}
		// Power off means the address is gone: wait until the kernel has
		// dropped it (bounded), as a rebooted host has none.
		err := d.wait(ctx, "h1's VIP expired while it is frozen", func(context.Context) (bool, string) {
			p, err := d.rg.Present(drillOwner, drillSvc)
			return err == nil && !p, "h1 still has the VIP"
		})
		if err != nil {
			return time.Time{}, err
		}
		err = l.Thaw(drillOwner)
		d.sampler.Ignore(drillOwner, false)
		d.ev.ResumedAt = time.Now()
		d.say("power back for h1")
		return d.ev.ResumedAt, err
	case "cable-eth0", "cable-eth1":
		nic := strings.TrimPrefix(d.sc.Name, "cable-")
		return simple("h1's "+nic+" cable pulled",
			func() error { return l.Pull(drillOwner, nic) }, func() error { return l.Plug(drillOwner, nic) })
	case "both-nics":
		return simple("h1's eth0 and eth1 cables pulled",
			func() error { return both(func(n string) error { return l.Pull(drillOwner, n) }) },
			func() error { return both(func(n string) error { return l.Plug(drillOwner, n) }) })
	case "serial-cut":
		return simple("serial adapters hung up", cable.Hangup, cable.Heal)
	case "silent-serial":
		return simple("serial cable silent", cable.Cut, cable.Heal)
	case "silent-eth0", "silent-eth1":
		nic := strings.TrimPrefix(d.sc.Name, "silent-")
		return simple("the switch drops h1's "+nic,
			func() error { return l.Drop(drillOwner, nic, lab.DirBoth) }, l.Heal)
	case "one-way":
		return simple("the switch drops frames to h1 on eth0 and eth1",
			func() error { return both(func(n string) error { return l.Drop(drillOwner, n, lab.DirToHost) }) }, l.Heal)
	case "loss-30":
		return simple("30% loss on h1's eth0 and eth1",
			func() error { return both(func(n string) error { return l.Loss(drillOwner, n, 30) }) },
			func() error { return both(func(n string) error { return l.Loss(drillOwner, n, 0) }) })
	case "cpu-hog":
		return d.cpuHog(ctx)
	case "kill-owner", "kill-backup":
		host := drillOwner
		h := d.pastLifetime()
		if d.sc.Name == "kill-backup" {
			host, h = drillBackup, short
		}
		if err := d.kill(ctx, host, syscall.SIGKILL); err != nil {
			return time.Time{}, err
		}
		if err := d.holdFor(ctx, h, "failoverd in "+host+" killed"); err != nil {
			return time.Time{}, err
		}
		_, err := d.rg.StartDaemon(host)
		d.say("failoverd in %s restarted", host)
		return time.Now(), err
	case "boot-together":
		// Stop the backup first, then the owner, so that the owner has
		// nobody to hand over to: two SIGTERMs at once would make the owner
		// hand to a backup that is itself about to stop (a move before the
		// boot this scenario is about). Booted hosts start without the VIP.
		t0 := time.Now()
		for _, h := range []string{drillBackup, drillOwner} {
			if err := d.rg.Signal(h, syscall.SIGTERM); err != nil {
				return time.Time{}, err
			}
			if err := d.waitExit(ctx, h); err != nil {
				return time.Time{}, err
			}
		}
		d.say("both daemons stopped; starting both at once")
		_, err1 := d.rg.StartDaemon(drillOwner)
		_, err2 := d.rg.StartDaemon(drillBackup)
		started := time.Now()
		// Nobody may claim before the startup listen is over.
		d.ev.NoEligible = append(d.ev.NoEligible, Span{From: t0, To: started.Add(d.cfg.Timers.Startup)})
		return started, errors.Join(err1, err2)
	case "flap-eth0":
		return d.flap(ctx)
	case "admin-down-up":
		return simple("h1's eth0 admin down",
			func() error { return l.AdminDown(drillOwner, "eth0") }, func() error { return l.AdminUp(drillOwner, "eth0") })
	case "stall":
		if err := d.rg.Signal(drillOwner, syscall.SIGSTOP); err != nil {
			return time.Time{}, err
		}
		if err := d.holdFor(ctx, d.pastLifetime(), "failoverd in h1 stopped (SIGSTOP)"); err != nil {
			d.rg.Signal(drillOwner, syscall.SIGCONT)
			return time.Time{}, err
		}
		err := d.rg.Signal(drillOwner, syscall.SIGCONT)
		d.ev.ResumedAt = time.Now()
		d.say("failoverd in h1 continued (SIGCONT)")
		return d.ev.ResumedAt, err
	}
	return time.Time{}, fmt.Errorf("no injection for scenario %q", d.sc.Name)
}

// kill signals host's daemon and waits until it exited.
func (d *drillRun) kill(ctx context.Context, host string, sig syscall.Signal) error {
	if err := d.rg.Signal(host, sig); err != nil {
		return err
	}
	return d.waitExit(ctx, host)
}

func (d *drillRun) waitExit(ctx context.Context, host string) error {
	dm := d.rg.Daemon(host)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-dm.Done():
		return nil
	case <-t.C:
		return fmt.Errorf("failoverd in %s still runs 10s after the signal", host)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// cpuHog runs NumCPU busy loops in every host for 60s (5s quick).
func (d *drillRun) cpuHog(ctx context.Context) (time.Time, error) {
	var procs []*exec.Cmd
	stop := func() {
		for _, c := range procs {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		}
	}
	defer stop()
	for _, h := range d.rg.Lab.Hosts() {
		for range runtime.NumCPU() {
			cmd := exec.Command("/bin/sh", "-c", "while :; do :; done")
			if err := h.Start(cmd); err != nil {
				return time.Time{}, err
			}
			procs = append(procs, cmd)
			go cmd.Wait()
		}
	}
	what := fmt.Sprintf("%d busy loops in each host", runtime.NumCPU())
	if err := d.holdFor(ctx, d.hold(60*time.Second, 5*time.Second), what); err != nil {
		return time.Time{}, err
	}
	stop()
	return time.Now(), nil
}

// flap sets h1's eth0 down and up every 200 ms for 10 s (4 s quick).
func (d *drillRun) flap(ctx context.Context) (time.Time, error) {
	l := d.rg.Lab
	dur := 10 * time.Second
	if d.o.Quick {
		dur = 4 * time.Second
	}
	d.say("h1's eth0 admin down/up every 200ms for %s", dur)
	end := time.Now().Add(dur)
	n := 0
	for time.Now().Before(end) {
		if err := l.AdminDown(drillOwner, "eth0"); err != nil {
			return time.Time{}, err
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			l.AdminUp(drillOwner, "eth0")
			return time.Time{}, err
		}
		if err := l.AdminUp(drillOwner, "eth0"); err != nil {
			return time.Time{}, err
		}
		n++
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
	d.say("%d flaps done; eth0 stays up", n)
	return time.Now(), nil
}
