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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
