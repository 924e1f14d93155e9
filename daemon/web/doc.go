// Package web renders a daemon's status as a self-contained HTML
// page that reloads itself, like the page the original Failover's
// "failmon -h" wrote every minute.
//
// The page has no external assets (styles are inline, no scripts, no
// images) and every value from the daemon goes through html/template's
// contextual escaping, so node, service and reason texts cannot inject
// markup. WriteFile replaces the file atomically (temporary file in the same
// directory, then rename), so a web server serving it never shows half a
// page.
//
// The functions keep no state and are safe for concurrent use; two
// WriteFile calls on the same path race only in which page ends up there.
package web
