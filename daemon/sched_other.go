//go:build !linux

package daemon

// startRealtime: realtime_priority is Linux's; elsewhere the daemon keeps
// the normal scheduler.
func (d *Daemon) startRealtime(prio int) (stop func()) {
	if prio > 0 {
		d.log.Info("realtime_priority is not supported on this system; normal scheduling", "realtime_priority", prio)
	}
	return func() {}
}
