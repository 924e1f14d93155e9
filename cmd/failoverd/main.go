// Command failoverd is the failover daemon: it keeps the configured virtual
// IP addresses alive on exactly one host of the cluster.
//
//	failoverd [--config FILE] [--check]
//
// SIGTERM or SIGINT hands the services over to a peer and exits; SIGHUP
// re-reads the config file. An invalid config exits with status 2 and the
// full list of problems; a missing capability (CAP_NET_ADMIN, CAP_NET_RAW)
// exits with status 3, naming it. Under systemd it speaks sd_notify and logs
// for the journal (see daemon/systemd.go).
//
// failoverd runs its Go code on one processor (GOMAXPROCS=1) unless the
// GOMAXPROCS environment variable says otherwise: the daemon's work is a
// few microseconds per frame, and with a second processor the runtime wakes
// an idle thread whenever a goroutine becomes ready, which more than doubled
// its idle wake-ups in the lab (docs/benchmarks.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/failover-ha/failover/daemon"
	"github.com/failover-ha/failover/daemon/config"
)

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("failoverd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "/etc/failover/failover.toml", "config `file`")
	check := fs.Bool("check", false, "validate the config and exit (0 valid, 2 invalid)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: failoverd [--config FILE] [--check]\n\n"+
			"failoverd keeps the cluster's virtual IPs alive on one host.\n"+
			"SIGTERM hands the services over and exits; SIGHUP reloads the config.\n\n"+
			"Under systemd (Type=notify, see failoverd.service) it sends READY=1 once its\n"+
			"paths are open, the startup listen is over and its services are decided,\n"+
			"STATUS= with the service and peer states, and watchdog pings from its loop\n"+
			"(WatchdogSec=). Under the journal its log lines carry the journal's\n"+
			"priority and no time stamp of their own.\n\n"+
			"Exit status: 0 stopped (services handed over), 1 failed, 2 invalid config,\n"+
			"3 missing capability (it needs CAP_NET_ADMIN and CAP_NET_RAW).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "failoverd: unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return 2
	}
	cfg, err := config.Load(*file)
	if err == nil {
		err = config.CheckKeyFile(*file, cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "failoverd: invalid config:\n%v\n", err)
		return 2
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok (node %s, %d peers, %d paths, %d services)\n",
			*file, cfg.Node, len(cfg.Peers), len(cfg.Paths), len(cfg.Services))
		return 0
	}

	level := new(slog.LevelVar)
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	switch {
	case daemon.UnderJournal(stderr):
		h = daemon.JournalHandler(stderr, cfg.LogFormat == "json", hopts)
	case cfg.LogFormat == "json":
		h = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(h)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()

	d, err := daemon.New(cfg, daemon.Options{Logger: log, Level: level, Reload: reload})
	if err != nil {
		log.Error("failoverd not started", "reason", err.Error())
		return 1
	}
	if err := d.Run(ctx); err != nil {
		if errors.Is(err, daemon.ErrMissingCapability) {
			log.Error("failoverd not started", "reason", err.Error())
			return 3
		}
		log.Error("failoverd stopped", "reason", err.Error())
		return 1
	}
	log.Info("failoverd stopped")
	return 0
}
