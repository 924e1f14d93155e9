//go:build !linux

package serial

import bugst "go.bug.st/serial"

// OpenTTY is the default Opener: go.bug.st/serial's Open here (on Linux
// it reads through the runtime's poller instead).
func OpenTTY(name string, mode *bugst.Mode) (bugst.Port, error) { return bugst.Open(name, mode) }
