//go:build unix

package proc

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a new process group, so the whole tree
// it starts can be killed at once.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills cmd's process group.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
