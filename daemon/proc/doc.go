// Package proc runs the operator's commands for the daemon's leaves (health
// checks, notify hooks): Command makes an exec.Cmd that leads its own
// process group, so that cancelling its context kills the whole tree it
// started (not only the first process), and collects its combined output up
// to a cap. It has no package-level mutable state; an Output is safe for
// the two goroutines exec.Cmd copies stdout and stderr with.
package proc
