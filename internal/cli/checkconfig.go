package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/failover-ha/failover/daemon/config"
)

func checkConfigCmd() *command {
	return &command{
		name:  "check-config",
		args:  "FILE",
		short: "validate a failoverd config file without running it",
		long: `Loads FILE exactly as failoverd does and reports every problem at once, one
per line as file:line: key: what is wrong (unknown keys, bad durations,
deadtime not above 2 x interval, a VIP that is a host address, peers missing
from a path, a key file that is missing, malformed or readable by others,
...). Exits 0 if the file is valid, 2 if it is not.

A valid file is summed up, followed by its effective timers, each with
where its value came from: the [timers] preset (fast, lan or wan; lan when
the file names none), the file, or a rule ("3 x deadtime": startup follows
a deadtime the file gives).`,
		examples: []string{
			"failover check-config /etc/failover/failover.toml",
			"failover check-config --json failover.toml.example",
		},
		run: func(ctx context.Context, r *runner, args []string) error {
			c := r.find("check-config")
			fs := r.flags(c)
			fs.BoolVar(&r.json, "json", r.json, "print JSON")
			pos, err := r.parseN(c, fs, args, 1, 1)
			if err != nil {
				return err
			}
			file := pos[0]
			cfg, err := config.Load(file)
			if err == nil {
				err = config.CheckKeyFile(file, cfg)
			}
			if err != nil {
				problems := configProblems(err)
				if r.json {
					r.printJSON(CheckResult{File: file, Problems: problems})
				} else {
					for _, p := range problems {
						fmt.Fprintln(r.env.Stdout, p.Text)
					}
					n := len(problems)
					fmt.Fprintf(r.env.Stderr, "%s: %d problem%s\n", file, n, plural(n))
				}
				return silentExit(ExitUsage)
			}
			if r.json {
				return r.printJSON(CheckResult{File: file, OK: true, Node: cfg.Node, Preset: cfg.Preset, Timers: cfg.TimerSettings()})
			}
			fmt.Fprintf(r.env.Stdout, "%s: ok (node %s, %d peer%s, %d path%s, %d service%s)\n", file, cfg.Node,
				len(cfg.Peers), plural(len(cfg.Peers)), len(cfg.Paths), plural(len(cfg.Paths)),
				len(cfg.Services), plural(len(cfg.Services)))
			printTimers(r.env.Stdout, cfg)
			return nil
		},
	}
}

// CheckResult is check-config's JSON answer.
type CheckResult struct {
	File     string          `json:"file"`
	OK       bool            `json:"ok"`
	Node     string          `json:"node,omitempty"`
	Problems []ConfigProblem `json:"problems,omitempty"`
	// Preset and Timers: a valid file's [timers] preset and its effective
	// timers, each with where its value came from.
	Preset string                `json:"preset,omitempty"`
	Timers []config.TimerSetting `json:"timers,omitempty"`
}

// printTimers writes cfg's effective timers, one a line, with their origin.
func printTimers(w io.Writer, cfg *config.Config) {
	fmt.Fprintf(w, "timers (preset %s):\n", cfg.Preset)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, ts := range cfg.TimerSettings() {
		from := ts.From
		if ts.Service != "" {
			from += " (service " + ts.Service + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", ts.Key, ts.Value, from)
	}
	tw.Flush()
}

// ConfigProblem is one problem of a config file.
type ConfigProblem struct {
	Text string `json:"text"` // file:line: key: what
	Line int    `json:"line,omitempty"`
	Key  string `json:"key,omitempty"`
	What string `json:"what,omitempty"`
}

// configProblems flattens LoadConfig's joined error into its problems.
func configProblems(err error) []ConfigProblem {
	var out []ConfigProblem
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var p *config.Problem
		if errors.As(e, &p) {
			out = append(out, ConfigProblem{Text: p.Error(), Line: p.Line, Key: p.Key, What: p.What})
			return
		}
		for _, line := range strings.Split(e.Error(), "\n") {
			out = append(out, ConfigProblem{Text: line})
		}
	}
	walk(err)
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
