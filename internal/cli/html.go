package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/daemon/web"
)

// minRefresh is the shortest --refresh of an HTML page: browsers reload in
// whole seconds.
const minRefresh = time.Second

// writeHTML writes the status page for st, or a page saying why there is
// none when err is set.
func writeHTML(r *runner, path string, refresh time.Duration, st *client.Status, err error) error {
	opts := web.Options{Refresh: refresh, Generated: time.Now(), Source: r.target()}
	if err != nil {
		opts.Error = plainError(err)
		st = nil
	}
	return web.WriteFile(path, st, opts)
}

// watchHTML rewrites the page at path every refresh until ctx ends (the
// original's "failmon -h"). An unreachable daemon is written on the page
// and told once on stderr; a page that cannot be written ends the watch.
func watchHTML(ctx context.Context, r *runner, cl *client.Client, path string, refresh time.Duration) error {
	t := time.NewTicker(refresh)
	defer t.Stop()
	down := false
	for {
		st, err := cl.Status(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !down {
			fmt.Fprintf(r.env.Stderr, "failover watch: %s (the page says so; retrying)\n", plainError(err))
		} else if err == nil && down {
			fmt.Fprintln(r.env.Stderr, "failover watch: failoverd answers again")
		}
		down = err != nil
		if werr := writeHTML(r, path, refresh, st, err); werr != nil {
			return werr
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
