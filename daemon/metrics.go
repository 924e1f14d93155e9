package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/failover-ha/failover/daemon/config"
	"github.com/failover-ha/failover/daemon/web"
)

// startMetrics listens on metrics_listen, inside the daemon's network
// namespace, and serves package web's read-only handler there (/, the
// status page; /status.json; /metrics) until ctx ends. A port that cannot
// be had is an error naming the key: Run refuses to start with it.
func (d *Daemon) startMetrics(ctx context.Context, wg *sync.WaitGroup, cfg *config.Config, nw *Net) error {
	var ln net.Listener
	err := nw.inside(func() error {
		var err error
		ln, err = net.Listen("tcp", cfg.MetricsListen)
		return err
	})
	if err != nil {
		return fmt.Errorf("metrics_listen %s: %w", cfg.MetricsListen, err)
	}
	h := web.NewHandler(web.HandlerOptions{Status: d.Status, Source: ln.Addr().String(), Logger: d.log})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := serveHTTP(ctx, ln, h, d.log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics listener failed", "metrics_listen", cfg.MetricsListen, "err", err)
		}
	}()
	d.log.Info("metrics and status page listening", "metrics_listen", ln.Addr().String())
	return nil
}
