package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// reexecEnv marks the child Main started, so it never re-executes again.
const reexecEnv = "FAILOVER_LAB_USERNS"

// mainErr is why Main could not enter a user namespace; set once by Main
// before any test runs.
var mainErr error

// Main is for TestMain. As root it runs the tests as they are. Otherwise it
// re-executes the test binary with the same arguments in new user, network
// and mount namespaces where it is root (uid and gid map 0 to the caller)
// and exits with the child's status. If that is impossible it runs the
// tests here, and Available reports why so privileged tests skip.
func Main(m *testing.M) {
	if os.Getenv(reexecEnv) != "" {
		// The re-executed child: its new network namespace has only lo,
		// down. Bring it up so tests that use 127.0.0.1 run as they do as
		// root in the host's namespace.
		if err := loopbackUp(); err != nil {
			fmt.Fprintf(os.Stderr, "lab: bringing up lo in the user namespace: %v\n", err)
		}
		os.Exit(m.Run())
	}
	if os.Geteuid() == 0 {
		os.Exit(m.Run())
	}
	code, err := reexec()
	if err == nil {
		os.Exit(code)
	}
	mainErr = fmt.Errorf("lab: not root and cannot re-run in a user namespace: %w", err)
	os.Exit(m.Run())
}

func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(lo)
}

func reexec() (int, error) {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), reexecEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	// The terminal sends SIGINT to the whole group; the child handles it.
	// Keep this process alive until the child is done.
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

var probe = sync.OnceValue(func() error {
	ns, err := newNS()
	if err != nil {
		return err
	}
	ns.Close()
	return nil
})

// Available reports whether a lab can be built here: nil, or why not (for
// t.Skip).
func Available() error {
	if mainErr != nil {
		return mainErr
	}
	return probe()
}

// Require skips t with the reason when no lab can be built here. It never
// skips as root.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Geteuid() == 0 && os.Getenv(reexecEnv) == "" {
			t.Fatalf("running as root but %v", err)
		}
		t.Skip(err)
	}
}

// waitDead waits until process pid has exited (is a zombie or gone) without
// reaping it, for at most d.
func waitDead(pid int, d time.Duration) {
	done := make(chan struct{})
	go func() {
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err != unix.EINTR {
				break
			}
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}
