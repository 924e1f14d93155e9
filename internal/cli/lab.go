package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/failover-ha/failover/internal/rig"
)

// DefaultLabSocket is where "failover lab up" serves the lab's control API.
const DefaultLabSocket = "/run/failover-lab.sock"

// DefaultLabSocketDir holds the lab daemons' control sockets (<host>.sock).
const DefaultLabSocketDir = "/run/failover-lab"

func labCmd() *command {
	return &command{
		name:  "lab",
		args:  "up|status|crash|thaw|cut|plug|heal|down|demo|bench|drill|scale|sweep ...",
		short: "a virtual cluster on this machine: up, status, crash, thaw, cut, plug, heal, down, demo, bench, drill, scale, sweep",
		long: `Runs a virtual cluster on this Linux machine (needs root: network
namespaces): hosts h1..hN, each with eth0 (198.18.1.N) and eth1 (198.18.2.N),
a null-modem serial cable between neighbours, a real failoverd in each host,
and a client (198.18.1.250) that probes the VIP 198.18.1.100 every 10 ms and
sees which host answers.

  lab up [--hosts 2] [--serial=true]   run the cluster in the foreground
  lab status                           hosts, daemons, faults, VIP holders
  lab crash HOST                       power pull: freeze HOST (all paths silent)
  lab thaw HOST                        power back
  lab cut HOST eth0|eth1|serial        pull one cable of HOST
  lab plug HOST eth0|eth1|serial       plug it back
  lab heal                             undo every fault
  lab down                             stop "lab up" and remove everything
  lab demo                             a narrated drill; exits 0 only if every step held
  lab bench [--runs N] [--scenario S]  outages per fault, their stages, idle cost
  lab drill [--runs N] [--quick]       the fault matrix with verdicts
                                       (split brain, false failover, orphan)
  lab scale [--nodes 2,4,8,16]         cost and detection time by cluster size
  lab sweep [--points 20ms/80ms,...]    outage, CPU and drill verdicts per timer setting

While "lab up" runs, each host's daemon answers on
/run/failover-lab/HOST.sock, so "failover --socket
/run/failover-lab/h1.sock status" shows h1's view.`,
		examples: []string{
			"sudo failover lab demo",
			"sudo failover lab up            # terminal 1",
			"sudo failover lab crash h1      # terminal 2",
			"sudo failover --socket /run/failover-lab/h2.sock status",
			"sudo failover lab heal && sudo failover lab down",
		},
		run: runLab,
	}
}

// labSub is one "failover lab" subcommand.
type labSub struct {
	name, args, short string
	examples          []string
	hidden            bool
	run               func(ctx context.Context, r *runner, c *command, args []string) error
}

func labSubs() []labSub {
	return []labSub{
		{name: "up", short: "run the virtual cluster in the foreground until Ctrl-C or \"lab down\"",
			examples: []string{"sudo failover lab up", "sudo failover lab up --hosts 3 --serial=false"}, run: labUp},
		{name: "status", short: "show hosts, daemons, faults and where each VIP is",
			examples: []string{"sudo failover lab status", "sudo failover lab status --json"}, run: labStatus},
		{name: "crash", args: "HOST", short: "power pull: freeze HOST's processes and silence all its paths",
			examples: []string{"sudo failover lab crash h1"}, run: labOp("crash", 1)},
		{name: "thaw", args: "HOST", short: "power back for HOST after a crash",
			examples: []string{"sudo failover lab thaw h1"}, run: labOp("thaw", 1)},
		{name: "cut", args: "HOST eth0|eth1|serial", short: "pull one cable of HOST (serial: every cable of HOST)",
			examples: []string{"sudo failover lab cut h1 eth0", "sudo failover lab cut h2 serial"}, run: labOp("cut", 2)},
		{name: "plug", args: "HOST eth0|eth1|serial", short: "plug a cable of HOST back",
			examples: []string{"sudo failover lab plug h1 eth0"}, run: labOp("plug", 2)},
		{name: "heal", short: "undo every fault (cables, freezes)",
			examples: []string{"sudo failover lab heal"}, run: labOp("heal", 0)},
		{name: "down", short: "stop the running \"lab up\" and remove the rack",
			examples: []string{"sudo failover lab down"}, run: labOp("down", 0)},
		{name: "demo", short: "narrated drill: power-pull the master, measure takeover and reclaim",
			examples: []string{"sudo failover lab demo", "go build -o /tmp/fo ./cmd/... && sudo /tmp/fo/failover lab demo"}, run: labDemo},
		{name: "bench", short: "measure client-observed outages and their stages per fault scenario, and idle cost",
			examples: []string{"sudo failover lab bench --runs 10",
				"sudo failover lab bench --runs 1 --scenario power-pull,handover-fail --window 0 --json",
				"sudo failover lab bench --scenario power-pull --interval 10ms --deadtime 50ms --out /tmp/bench.md",
				"sudo failover lab bench --idle --window 20s --json"}, run: labBench},
		{name: "drill", short: "run the fault matrix, each scenario --runs times, and judge every run (split brain, false failover, orphan)",
			examples: []string{"sudo failover lab drill --quick", "sudo failover lab drill --runs 5 --scenario power-pull,stall --json", "sudo failover lab drill --list",
				"sudo failover lab drill --deadtime 300ms --interval 50ms --out /tmp/drill.md"}, run: labDrill},
		{name: "scale", short: "measure per-node cost (CPU, RSS, bytes/s per path) and detection time at several cluster sizes",
			examples: []string{"sudo failover lab scale", "sudo failover lab scale --nodes 2,3 --window 2s --runs 1 --json", "sudo failover lab scale --nodes 2,4,8,16 --out /tmp/scale.md --plot /tmp/scale.png"}, run: labScale},
		{name: "sweep", short: "choose timers from measurement: power-pull outage, idle CPU and the drill's verdicts at several interval/deadtime settings",
			examples: []string{"sudo failover lab sweep", "sudo failover lab sweep --points 20ms/100ms,20ms/80ms --runs 10 --plot /tmp/tradeoff.png", "sudo failover lab sweep --drill none --runs 5 --json"}, run: labSweep},
		{name: "responder", hidden: true, short: "UDP echo answering with the host name (runs inside lab hosts)", run: labResponder},
	}
}

func runLab(ctx context.Context, r *runner, args []string) error {
	c := r.find("lab")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := r.env.Stdout
		if len(args) == 0 {
			w = r.env.Stderr
		}
		r.cmdUsage(w, c, r.flags(c))
		if len(args) == 0 {
			return silentExit(ExitUsage)
		}
		return nil
	}
	for _, s := range labSubs() {
		if s.name == args[0] {
			sc := &command{name: "lab " + s.name, args: s.args, short: s.short, long: strings.ToUpper(s.short[:1]) + s.short[1:] + ".", examples: s.examples}
			if _, ok := labLong[s.name]; ok {
				sc.long = labLong[s.name]
			}
			return s.run(ctx, r, sc, args[1:])
		}
	}
	return usageErrorf("failover lab: unknown subcommand %q: want one of %s", args[0], c.args)
}

var labLong = map[string]string{
	"sweep": `Chooses timers from measurement. For each INTERVAL/DEADTIME setting (--points),
on fresh two-host racks with real failoverd processes: the idle cost of the
settled daemons (--idle window), --runs power pulls of the owner with the
client-observed outage (min, p50, p90, p99, max), then the drill's scenarios
(--drill; by default every scenario in which the owner stays healthy, where a
false failover can happen, plus the power pull and the kill of the owner)
with their verdicts. It prints one row per setting and recommends the
setting with no failed verdict that meets --target-p50/--target-p99 with the
longest interval (least CPU), or, if none does, the clean one with the
lowest p50. --plot writes the trade-off curve as a PNG. Long: about three
minutes per setting with the defaults.`,
	"drill": `Runs the fault matrix on fresh two-host racks (one per run): for each
scenario (--list shows them) and each of --runs runs, it waits until h1 owns
the VIP, starts the observers, injects the fault, holds it, heals it and
waits until h1 owns the VIP again. Observers: the client's probes (UDP every
10 ms), an ARP observer in the client (a who-has every 25 ms, and every
gratuitous ARP), and both hosts' address lists (netlink every 2 ms). Each run
is judged: split brain (two owners at once, seen by any observer), false
failover (the owner moved though it stayed healthy and reachable), orphan (no
holder and no answer for longer than the detection window, deadtime +
max(indoubt_hold, interval) + probe_window + 150 ms, while a
healthy host could serve), moves (at most the scenario's allowance: a
flapping NIC moves the service at most twice), reclaim (a stalled or frozen
owner returns only by reclaim) and settled (back on h1 after the heal).
Timers are failoverd's defaults unless set by the timer flags; they are
checked as failoverd checks its config. Progress goes to stderr, the summary
table (or --json) to stdout; the exit status is 1 if any verdict failed.
Logs of failed runs are kept and named in the report.`,
	"up": `Builds the rack (hosts with eth0, eth1 and serial cables, and a client),
writes a config per host and a cluster key into a temporary directory,
starts a real failoverd in each host and a responder (UDP echo on port 7777
answering with the host's name), and probes the VIP from the client every
10 ms. It prints every change of the VIP's holder as the client sees it, with
the outage in milliseconds. It serves the lab's control socket so that "lab
status", "lab crash", "lab cut", "lab heal" and "lab down" work from another
terminal. Ctrl-C or "lab down" removes everything.

failoverd is taken from beside this executable, or from --failoverd, or
built with "go build" into the temporary directory.`,
	"demo": `Runs the original's power-pull drill on a fresh two-host rack, narrating
each step: start and wait for the VIP on h1; status of both hosts; power-pull
h1 and measure the takeover outage as the client sees it; status; power back
and measure the reclaim; status. Each step prints PASS or FAIL; every wait is
bounded. Exits 0 only if every step held.`,
	"bench": `Measures failover on a fresh two-host rack (h1 priority 2, h2 priority
1, VIP 198.18.1.100 on eth0) with real failoverd processes. A client probes the
VIP over UDP every 10 ms and pings it (ICMP echo) every 10 ms; each run injects
one fault and measures the outage the client saw (the longest stretch without
an answer, minus one probe interval; UDP and ICMP separately) and the stages
of the takeover, each from the fault: detection,
decision (the new owner's core moves to up), address added, first
announcement (gratuitous ARP) and client convergence (its first answer from
the new owner), read from the daemons' JSON logs and the probes.

Scenarios (--scenario, comma-separated, default all):

  power-pull     freeze h1 (power pull) -> h2 takes over when h1 is dead
  cable-pull     pull h1's service NIC cable (eth0) -> h1 releases to h2
  handover-term  SIGTERM h1's failoverd -> planned hand-over to h2
  handover-fail  "failover fail web" on h1 -> planned hand-over to h2
  reclaim        h1 frozen, h2 the owner; thaw h1 -> h1 reclaims

After each run the cluster is put back (thaw, plug, restart, recover) and
settles on h1 before the next; that part is not measured. Each scenario runs
--runs times and reports min, p50, p90, p99 and max (nearest rank: with fewer
than 100 runs the p99 is the max), and p50 and max of each stage. A run in
which the new owner never answered the client within --timeout is reported as
not measured, with the reason, and left out of the figures.

First, unless --window 0, the idle cost of each settled failoverd is sampled
over --window (CPU ms per second, wake-ups per second, RSS, bytes and frames
per second per path), with the load average. --idle measures only that.

Timers: --interval, --deadtime, --adaptive-floor, --indoubt-hold, --startup,
--damping and --preset set the [timers] keys of the generated configs; a value
failoverd would refuse is refused here, before anything is built. A power pull
(and the freeze before a reclaim) silences every path, which failoverd's
damping counts as a flap: from the third within the damping period (10s) on,
a run first waits until the held-down paths are released, since every run
starts with every path alive. --damping 0s turns damping off and runs faster.

Progress goes to stderr, the results to stdout: a table, or JSON with --json;
--out FILE also writes them as Markdown. --gomaxprocs runs the daemons with
that GOMAXPROCS, --no-serial without the serial cable.`,

	"scale": `Measures how the cost of failoverd grows with the cluster: for each size in
--nodes, a fresh rack of N hosts with N services s1..sN (VIPs 198.18.1.101..,
service i preferred by host i, the others in a rotation, so ownership is
symmetric) and serial cables chaining h1-h2-...-hN. Once every service is up
on its preferred host it samples every daemon over --window (CPU ms per
second and % of a core, wake-ups, RSS, bytes and frames per second per path
from the daemons' counters), then freezes h1 --runs times and measures from
the freeze until each other host logs h1 dead (detection) and the client's
longest gap on s1 (outage). It prints a table per size, the traffic per path,
and the growth per peer: bytes out per node divided by N-1, and its ratio to
the first size (1 = linear in the peers). A size whose serial paths
failoverd would refuse at 115200 baud runs without serial, and the report
says so. What does not settle in time (a run whose cluster is not back
home, a size whose daemons keep suspecting each other on a loaded machine)
is reported as a note, not hidden. --interval and --deadtime set the
daemons' timers. --json prints the results for scripts, --out also writes
the Markdown, --plot writes a PNG; --from FILE prints and plots an earlier
--json run again without measuring. Progress goes to stderr.`,
}

// labFlags makes the flag set of a lab subcommand: --lab-socket and --json.
func (r *runner) labFlags(c *command) (*flag.FlagSet, *string) {
	fs := r.flags(c)
	sock := fs.String("lab-socket", DefaultLabSocket, "the lab's control `socket`")
	fs.BoolVar(&r.json, "json", r.json, "print JSON")
	return fs, sock
}

// labClient talks to a running "lab up".
type labClient struct {
	sock string
	hc   *http.Client
}

// errLabNotRunning is returned when no "lab up" answers.
var errLabNotRunning = errors.New("no lab is running")

func newLabClient(sock string) *labClient {
	return &labClient{sock: sock, hc: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}}
}

func (lc *labClient) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://lab"+path, nil)
	if err != nil {
		return err
	}
	resp, err := lc.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)) {
			return fmt.Errorf("%w: cannot reach %s (start one with \"sudo failover lab up\")", errLabNotRunning, lc.sock)
		}
		return fmt.Errorf("failover lab: %s: %w", lc.sock, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			return errors.New("failover lab: " + eb.Error)
		}
		return fmt.Errorf("failover lab: %s", strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// LabStatus is the answer of the lab's GET /v1/lab.
type LabStatus struct {
	Dir      string           `json:"dir"`
	KeyFile  string           `json:"key_file"`
	Hosts    []LabHost        `json:"hosts"`
	Services []LabService     `json:"services"`
	Faults   []string         `json:"faults"`
	Uptime   string           `json:"uptime"`
	Notes    []string         `json:"notes,omitempty"`
	Outages  []LabOutageEvent `json:"outages,omitempty"`
}

// LabHost is one host of the lab.
type LabHost struct {
	Name    string            `json:"name"`
	Eth0    string            `json:"eth0"`
	Eth1    string            `json:"eth1"`
	Serial  []string          `json:"serial,omitempty"`
	Socket  string            `json:"socket"`
	Config  string            `json:"config"`
	Log     string            `json:"log"`
	PID     int               `json:"pid"`
	Daemon  string            `json:"daemon"` // running | exited: ... | not answering
	Frozen  bool              `json:"frozen"`
	States  map[string]string `json:"states,omitempty"` // service -> state on this host
	Holding []string          `json:"holding,omitempty"`
}

// LabService is one service and where it is.
type LabService struct {
	Name       string   `json:"name"`
	VIP        string   `json:"vip"`
	Holders    []string `json:"holders"` // hosts with the VIP on eth0 (netlink)
	AnsweredBy string   `json:"answered_by"`
	LastAnswer string   `json:"last_answer"` // age of the last answer the client got
	Duplicates int      `json:"duplicates"`  // probes answered by two hosts
}

// LabOutageEvent is a change of the answering host seen by the client.
type LabOutageEvent struct {
	At      time.Time `json:"at"`
	Service string    `json:"service"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Outage  string    `json:"outage"`
}

func labStatus(ctx context.Context, r *runner, c *command, args []string) error {
	fs, sock := r.labFlags(c)
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	var st LabStatus
	if err := newLabClient(*sock).do(ctx, http.MethodGet, "/v1/lab", &st); err != nil {
		return err
	}
	if r.json {
		return r.printJSON(st)
	}
	w := r.env.Stdout
	fmt.Fprintf(w, "lab up %s, files in %s\n\n", st.Uptime, st.Dir)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tETH0\tETH1\tSERIAL\tFAILOVERD\tSTATES\tSOCKET")
	for _, h := range st.Hosts {
		var states []string
		for _, s := range st.Services {
			if v, ok := h.States[s.Name]; ok {
				states = append(states, s.Name+"="+v)
			}
		}
		d := h.Daemon
		if h.PID != 0 {
			d = fmt.Sprintf("%s (pid %d)", d, h.PID)
		}
		if h.Frozen {
			d = "FROZEN " + d
		}
		serial := strings.Join(h.Serial, ",")
		if serial == "" {
			serial = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Eth0, h.Eth1, serial, d, orDash(strings.Join(states, " ")), h.Socket)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tVIP\tHELD BY (netlink)\tCLIENT ANSWERED BY\tLAST ANSWER")
	for _, s := range st.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.VIP, orDash(strings.Join(s.Holders, ",")), orDash(s.AnsweredBy), s.LastAnswer)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(st.Faults) == 0 {
		fmt.Fprintln(w, "faults: none")
	} else {
		fmt.Fprintf(w, "faults: %s\n", strings.Join(st.Faults, "; "))
	}
	if n := len(st.Outages); n > 0 {
		fmt.Fprintln(w, "client saw (newest last):")
		for _, o := range st.Outages[max(0, n-5):] {
			at := o.At.Local().Format("15:04:05.000")
			if o.From == "" {
				fmt.Fprintf(w, "  %s %s: first answer, from %s\n", at, o.Service, o.To)
				continue
			}
			fmt.Fprintf(w, "  %s %s: %s -> %s after %s without answer\n", at, o.Service, o.From, o.To, o.Outage)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func labOp(op string, nargs int) func(ctx context.Context, r *runner, c *command, args []string) error {
	return func(ctx context.Context, r *runner, c *command, args []string) error {
		fs, sock := r.labFlags(c)
		pos, err := r.parseN(c, fs, args, nargs, nargs)
		if err != nil {
			return err
		}
		path := "/v1/lab/" + op
		for _, p := range pos {
			path += "/" + p
		}
		var res struct {
			Done string `json:"done"`
		}
		if err := newLabClient(*sock).do(ctx, http.MethodPost, path, &res); err != nil {
			return err
		}
		if r.json {
			return r.printJSON(res)
		}
		fmt.Fprintln(r.env.Stdout, res.Done)
		return nil
	}
}

func labResponder(ctx context.Context, r *runner, c *command, args []string) error {
	fs := r.flags(c)
	name := fs.String("name", "", "host `name` to answer with")
	port := fs.Int("port", rig.ProbePort, "UDP `port`")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *name == "" {
		*name, _ = os.Hostname()
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{Port: *port})
	if err != nil {
		return fmt.Errorf("failover lab responder: %w", err)
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	return rig.Respond(conn, *name)
}
