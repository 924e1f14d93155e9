package hwtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit statuses of the hwtest command.
const (
	ExitOK     = 0 // every check passed
	ExitFailed = 1 // a check failed
	ExitUsage  = 2 // bad usage, bad config, a port or NIC that cannot be opened
)

const usageTop = `hwtest checks every cable and NIC of a failover cluster before it goes live.

Usage:
  hwtest serial list                          serial ports present (USB adapters with VID:PID)
  hwtest serial loopback --port DEV           port with a loopback plug (TX→RX)
  hwtest serial peer --port DEV --listen      far end of a cable test: echo probes
  hwtest serial peer --port DEV               near end: null-modem, loss, latency, throughput, baud
  hwtest nic --config failover.toml           every UDP path: link, multicast, unicast, VIPs
  hwtest nic --config failover.toml --listen  answer the probes of hwtest nic on the peers

Every report has --json. Exit status: 0 every check passed, 1 a check failed,
2 bad usage or config. Run "hwtest COMMAND --help" for the options.
`

// Command runs the hwtest command line (args without the program name) and
// returns the exit status. Reports go to stdout, progress and errors to
// stderr.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageTop)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usageTop)
		return ExitOK
	case "serial":
		if len(args) < 2 {
			fmt.Fprint(stderr, "hwtest serial: name a subcommand: list, loopback or peer\n")
			return ExitUsage
		}
		switch args[1] {
		case "list":
			return serialList(args[2:], stdout, stderr)
		case "loopback":
			return serialCmd(ctx, "loopback", args[2:], stdout, stderr)
		case "peer":
			return serialCmd(ctx, "peer", args[2:], stdout, stderr)
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usageTop)
			return ExitOK
		}
		fmt.Fprintf(stderr, "hwtest serial: unknown subcommand %q: use list, loopback or peer\n", args[1])
		return ExitUsage
	case "nic":
		return nicCmd(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "hwtest: unknown command %q: use serial or nic (hwtest --help)\n", args[0])
	return ExitUsage
}

func newFlags(name, about string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: %s\n\n%s\nOptions:\n", name, about)
		// parse discards the flag package's own output; the options go to stdout.
		out := fs.Output()
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	return fs
}

// parse returns -1 to go on, or the exit status.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {} // Parse calls it on every error; print it for --help only
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see --help)\n", cmdName(fs), err)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (see --help)\n", cmdName(fs), fs.Arg(0))
		return ExitUsage
	}
	return -1
}

// cmdName is the command part of fs's usage line ("hwtest nic" of
// "hwtest nic --config FILE [--listen] [options]").
func cmdName(fs *flag.FlagSet) string {
	var words []string
	for _, w := range strings.Fields(fs.Name()) {
		if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") {
			break
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

func emit(r *Report, asJSON bool, stdout io.Writer) int {
	if asJSON {
		r.WriteJSON(stdout)
	} else {
		r.WriteText(stdout)
	}
	return r.ExitCode()
}

func serialList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("hwtest serial list [--json] [--also DEV,...]",
		"Lists the serial ports present, with the USB adapter's VID:PID and serial number\nwhere the system knows them. Fails when there is none.", stdout)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	also := fs.String("also", "", "comma-separated extra device paths to list (ptys, symlinks)")
	if rc := parse(fs, args, stderr); rc >= 0 {
		return rc
	}
	var extra []string
	if *also != "" {
		extra = strings.Split(*also, ",")
	}
	r, err := ListPorts(extra...)
	if err != nil {
		fmt.Fprintf(stderr, "hwtest serial list: %v\n", err)
		return ExitFailed
	}
	return emit(r, *asJSON, stdout)
}

func serialCmd(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) int {
	about := map[string]string{
		"loopback": `Checks one port fitted with a loopback plug (TX wired to RX, pins 2-3 on a DB9).
Sends --count patterned, numbered, CRC-checked probe frames one at a time and
reports byte errors, lost frames, round-trip latency p50/p99 and jitter, then
a burst for throughput, and a timer recommendation for this line.`,
		"peer": `A cable test between two hosts. On one host run
    hwtest serial peer --port DEV --listen
and on the other
    hwtest serial peer --port DEV
The listener echoes every probe and announces itself four times a second.
The initiator proves the cable crosses TX and RX (silence means a straight
cable, an unplugged cable or no listener), measures loss, latency and
throughput, and recognises the garbage a baud mismatch produces. Both ends
must use the same --baud.`,
	}[mode]
	fs := newFlags("hwtest serial "+mode+" --port DEV [options]", about, stdout)
	port := fs.String("port", "", "serial device, e.g. /dev/ttyS0 or /dev/ttyUSB0 (required)")
	baud := fs.Int("baud", 115200, "line speed; both ends must match")
	count := fs.Int("count", 100, "probes for loss and latency")
	payload := fs.Int("payload", 64, "payload bytes per probe (max 512)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var listen *bool
	var duration *time.Duration
	if mode == "peer" {
		listen = fs.Bool("listen", false, "be the far end: echo probes until interrupted")
		duration = fs.Duration("duration", 0, "with --listen: stop after this long (0: until interrupted)")
	}
	if rc := parse(fs, args, stderr); rc >= 0 {
		return rc
	}
	if *port == "" {
		fmt.Fprintf(stderr, "hwtest serial %s: no port: pass --port DEVICE (see `hwtest serial list`)\n", mode)
		return ExitUsage
	}
	if *count < 1 || *payload < 1 || *payload > maxPayload {
		fmt.Fprintf(stderr, "hwtest serial %s: --count must be ≥ 1 and --payload 1..%d\n", mode, maxPayload)
		return ExitUsage
	}
	p, err := OpenSerial(*port, *baud)
	if err != nil {
		fmt.Fprintf(stderr, "hwtest serial %s: %v\n", mode, err)
		return ExitUsage
	}
	defer p.Close()
	o := SerialOptions{Port: *port, Baud: *baud, Count: *count, Payload: *payload, Progress: stderr}
	switch {
	case mode == "loopback":
		return emit(Loopback(ctx, p, o), *asJSON, stdout)
	case *listen:
		if *duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *duration)
			defer cancel()
		}
		fmt.Fprintf(stderr, "hwtest serial peer: listening on %s at %d baud; interrupt to stop\n", *port, *baud)
		if err := Listen(ctx, p, o); err != nil {
			fmt.Fprintf(stderr, "hwtest serial peer --listen: %v\n", err)
			return ExitFailed
		}
		return ExitOK
	}
	return emit(Peer(ctx, p, o), *asJSON, stdout)
}

func nicCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("hwtest nic --config FILE [--listen] [options]",
		`For each UDP [[path]] of failover.toml: link, carrier, addresses and MTU
(netlink); multicast and unicast probes to every peer on that NIC only
(socket bound to the NIC, group joined there, TTL 1) with loss, RTT p50/p99
and jitter; and an ARP probe of each VIP, which must not answer yet. Ends
with a recommended interval and deadtime.

The peers must run "hwtest nic --listen --config THEIR.toml", which answers
the probes on UDP --probe-port. A running failoverd does not answer hwtest
probes in this version: run the listener beside it (the ports differ).`, stdout)
	config := fs.String("config", "", "failover.toml of this host (required)")
	listen := fs.Bool("listen", false, "answer probes from hwtest nic on the peers, until interrupted")
	count := fs.Int("count", 50, "probes per path and peer")
	interval := fs.Duration("interval", 100*time.Millisecond, "time between probes")
	wait := fs.Duration("wait", time.Second, "wait for late answers after the last probe")
	port := fs.Int("probe-port", DefaultProbePort, "UDP port of the probes (the same on every host)")
	maxLoss := fs.Float64("max-loss", 1, "loss in percent above which a path fails")
	duration := fs.Duration("duration", 0, "with --listen: stop after this long (0: until interrupted)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if rc := parse(fs, args, stderr); rc >= 0 {
		return rc
	}
	if *config == "" {
		fmt.Fprint(stderr, "hwtest nic: no config: pass --config failover.toml\n")
		return ExitUsage
	}
	if *count < 1 || *interval <= 0 || *port < 1 || *port > 65535 || *maxLoss <= 0 {
		fmt.Fprint(stderr, "hwtest nic: --count ≥ 1, --interval > 0, --probe-port 1..65535 and --max-loss > 0 please\n")
		return ExitUsage
	}
	cfg, err := LoadNICConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "hwtest nic: %v\n", err)
		return ExitUsage
	}
	o := NICOptions{Count: *count, Interval: *interval, Wait: *wait, ProbePort: *port, MaxLossPct: *maxLoss, Progress: stderr}
	if *listen {
		r, err := OpenResponder(*cfg, o)
		if err != nil {
			fmt.Fprintf(stderr, "hwtest nic --listen: %v\n", err)
			return ExitUsage
		}
		defer r.Close()
		if *duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *duration)
			defer cancel()
		}
		fmt.Fprintf(stderr, "hwtest nic: answering probes on UDP port %d on %d path(s); interrupt to stop\n", *port, len(cfg.Paths))
		if err := r.Run(ctx); err != nil {
			fmt.Fprintf(stderr, "hwtest nic --listen: %v\n", err)
			return ExitFailed
		}
		return ExitOK
	}
	p, err := OpenProber(*cfg, o)
	if err != nil {
		fmt.Fprintf(stderr, "hwtest nic: %v\n", err)
		return ExitUsage
	}
	defer p.Close()
	return emit(p.Run(ctx), *asJSON, stdout)
}
