// Package web is a daemon's status for browsers and dashboards: a
// self-contained HTML page that reloads itself (like the page the original
// Failover's "failmon -h" wrote every minute), and, in NewHandler, the
// read-only HTTP handler failoverd serves on metrics_listen: "/" the page,
// "/status.json" the `failover status --json` document and "/metrics" the
// Prometheus metrics (docs/metrics.md).
//
// The page has no external assets (styles are inline, no scripts, no
// images) and every value from the daemon goes through html/template's
// contextual escaping, so node, service and reason texts cannot inject
// markup. WriteFile replaces the file atomically (temporary file in the same
// directory, then rename), so a web server serving it never shows half a
// page.
//
// The metrics come from a Collector that reads one client.Status snapshot
// per scrape: the package keeps no counters, so /metrics, /status.json and
// the page always agree with `failover status`. A status the daemon cannot
// give within the timeout is failover_up 0 (the page and JSON answer 503).
// The handler accepts only GET and HEAD.
//
// The functions and the handler keep no state between calls and are safe
// for concurrent use; two WriteFile calls on the same path race only in
// which page ends up there.
package web
