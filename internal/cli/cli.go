package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Exit codes of the failover command.
const (
	ExitOK      = 0 // the command did what it was asked
	ExitFailure = 1 // it could not (daemon not running, request refused, a drill step failed)
	ExitUsage   = 2 // bad arguments, or check-config found problems
)

// DefaultSocket is where failoverd serves its control API unless configured
// otherwise.
const DefaultSocket = "/run/failover.sock"

// Env is what the command reads and writes besides its arguments. Tests
// fill it with buffers; main fills it with the process's streams.
type Env struct {
	Stdout, Stderr io.Writer
	// Stdin is where "failover setup" reads its answers; nil means os.Stdin.
	Stdin io.Reader
	// Version, if set, is what "failover version" prints as the version
	// instead of the module version of the build info (the package builder
	// stamps it into cmd/failover).
	Version string
	// Executable is the path of the running failover binary; the lab starts
	// it inside hosts (the responder) and looks for failoverd beside it.
	// Empty means os.Executable.
	Executable string

	// machine, if set, replaces the detection of this host's interfaces and
	// serial ports (tests).
	machine func() (machine, error)
}

func (e Env) executable() (string, error) {
	if e.Executable != "" {
		return e.Executable, nil
	}
	return os.Executable()
}

// exitError carries an exit code through the error path; its message (if
// any) has already been printed, or is printed by Main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf reports bad arguments (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, msg: fmt.Sprintf(format, args...)}
}

// silentExit ends the command with code after it printed its own report.
func silentExit(code int) error { return &exitError{code: code} }

// command is one subcommand.
type command struct {
	name     string
	args     string // shown after the name in the usage line
	short    string // one line for the command list
	long     string // paragraph for --help
	examples []string
	hidden   bool
	// run parses args with fs (already holding the common flags when
	// common is set) and does the work.
	run    func(ctx context.Context, r *runner, args []string) error
	common bool // takes --socket/--host/--key-file/--json/--timeout
}

// runner is one invocation's state: the environment and the common flags.
type runner struct {
	env     Env
	socket  string
	host    string
	keyFile string
	json    bool
	timeout time.Duration
	cmds    []*command
}

func (r *runner) addCommon(fs *flag.FlagSet) {
	fs.StringVar(&r.socket, "socket", r.socket, "`path` of the local daemon's control socket")
	fs.StringVar(&r.host, "host", r.host, "talk to a remote daemon's status listener at `addr` (host:port) instead of the socket")
	fs.StringVar(&r.keyFile, "key-file", r.keyFile, "cluster key `file` for --host (HMAC-authenticated requests)")
	fs.BoolVar(&r.json, "json", r.json, "print JSON for scripts instead of text")
	fs.DurationVar(&r.timeout, "timeout", r.timeout, "give up on a request after this `duration`")
}

// Main runs the failover command with args (without the program name) and
// returns the process exit code. ctx is cancelled on Ctrl-C.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	r := &runner{env: env, socket: DefaultSocket, timeout: 5 * time.Second}
	r.cmds = commands()

	top := flag.NewFlagSet("failover", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	r.addCommon(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			r.topUsage(env.Stdout)
			return ExitOK
		}
		fmt.Fprintf(env.Stderr, "failover: %v\n", err)
		r.topUsage(env.Stderr)
		return ExitUsage
	}
	rest := top.Args()
	if len(rest) == 0 {
		r.topUsage(env.Stderr)
		return ExitUsage
	}
	name := rest[0]
	if name == "help" {
		if len(rest) > 1 {
			if c := r.find(rest[1]); c != nil {
				r.cmdUsage(env.Stdout, c, nil)
				return ExitOK
			}
		}
		r.topUsage(env.Stdout)
		return ExitOK
	}
	c := r.find(name)
	if c == nil {
		fmt.Fprintf(env.Stderr, "failover: unknown command %q\n", name)
		r.topUsage(env.Stderr)
		return ExitUsage
	}
	return r.exit(c.run(ctx, r, rest[1:]))
}

func (r *runner) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(r.env.Stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(r.env.Stderr, plainError(err))
	return ExitFailure
}

func (r *runner) find(name string) *command {
	for _, c := range r.cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// flags makes the FlagSet of command c, with the common flags when c takes
// them. Parse errors and --help print c's usage.
func (r *runner) flags(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("failover "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.common {
		r.addCommon(fs)
	}
	return fs
}

// parse parses args into fs and handles --help and errors the same way for
// every command.
func (r *runner) parse(c *command, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			r.cmdUsage(r.env.Stdout, c, fs)
			return flag.ErrHelp
		}
		return usageErrorf("failover %s: %v (see failover %s --help)", c.name, err, c.name)
	}
	return nil
}

// parseN is parse plus a check of the positional argument count.
func (r *runner) parseN(c *command, fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	if err := r.parse(c, fs, interleave(fs, args)); err != nil {
		return nil, err
	}
	pos := fs.Args()
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		if len(pos) < min {
			return nil, usageErrorf("failover %s: missing argument (usage: failover %s %s)", c.name, c.name, c.args)
		}
		return nil, usageErrorf("failover %s: unexpected argument %q (usage: failover %s %s)", c.name, pos[max], c.name, c.args)
	}
	return pos, nil
}

// interleave moves flags that follow positional arguments in front of them,
// so "failover fail web --json" works as well as "failover fail --json web".
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, append([]string{"--"}, pos...)...)
}

func (r *runner) topUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: failover [--socket PATH | --host ADDR --key-file FILE] COMMAND [ARGS]

failover talks to failoverd, the daemon that keeps virtual IP addresses alive
across hosts, and runs a virtual cluster on this machine for drills.

Commands:
`)
	cmds := make([]*command, 0, len(r.cmds))
	for _, c := range r.cmds {
		if !c.hidden {
			cmds = append(cmds, c)
		}
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, `
Examples:
  failover status
  failover --socket /run/failover-lab/h1.sock status --json
  failover fail web && failover recover web
  sudo failover lab demo

Run "failover COMMAND --help" for a command's flags. When failoverd is not
running, every command says so and exits 1.
`)
}

func (r *runner) cmdUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: failover %s [flags] %s\n\n", c.name, c.args)
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(wrap(c.long, 78)))
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if fs == nil {
		fs = r.flags(c)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// wrap folds text at width on spaces, keeping blank lines. A paragraph
// whose lines are indented (a table, a command) is kept as it is.
func wrap(text string, width int) string {
	var out strings.Builder
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			out.WriteString("\n\n")
		}
		if strings.HasPrefix(para, " ") {
			out.WriteString(para)
			continue
		}
		col := 0
		for j, word := range strings.Fields(para) {
			if j > 0 && col+1+len(word) > width {
				out.WriteString("\n")
				col = 0
			} else if j > 0 {
				out.WriteString(" ")
				col++
			}
			out.WriteString(word)
			col += len(word)
		}
	}
	return out.String()
}

// commands is the table of subcommands, sorted for the listing.
func commands() []*command {
	cs := []*command{
		statusCmd(), watchCmd(), failCmd(), recoverCmd(), logLevelCmd(),
		stressCmd(), checkConfigCmd(), setupCmd(), versionCmd(), labCmd(),
	}
	sort.SliceStable(cs, func(i, j int) bool { return order(cs[i].name) < order(cs[j].name) })
	return cs
}

func order(name string) int {
	for i, n := range []string{"status", "watch", "fail", "recover", "log-level", "stress", "check-config", "setup", "lab", "version"} {
		if n == name {
			return i
		}
	}
	return 100
}
