// Command failover is the operator's tool for failoverd: status, live view,
// forced hand-over and return, log level, load test, config check, and a
// virtual cluster on this machine ("failover lab").
//
// Run "failover help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/failover-ha/failover/internal/cli"
)

// version is stamped by the package builder (go run ./packaging):
// -ldflags "-X main.version=1.2.3". Empty means the module version.
var version string

func main() {
	// SIGHUP (terminal closed) and SIGPIPE (output piped to a reader that
	// went away, "failover lab demo | head") stop the command like Ctrl-C,
	// so that a lab is torn down instead of left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Version: version})
	stop()
	os.Exit(code)
}
