// Command hwtest checks the serial cables and NICs of a failover cluster
// before it goes live. See package hwtest and `hwtest --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/failover-ha/failover/hwtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := hwtest.Command(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
