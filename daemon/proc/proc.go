package proc

import (
	"bytes"
	"context"
	"os/exec"
	"sync"
	"time"
)

// KillGrace is how long Wait waits for the output pipes after the group
// was killed (a grandchild that kept them open must not hang the caller).
const KillGrace = 200 * time.Millisecond

// Command is exec.CommandContext(ctx, argv[0], argv[1:]...) with env added
// to the environment, stdout and stderr collected in the returned Output
// (the first max bytes), and the process in a group of its own that is
// killed when ctx ends.
func Command(ctx context.Context, argv, env []string, max int) (*exec.Cmd, *Output) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(cmd.Environ(), env...)
	out := &Output{max: max}
	cmd.Stdout, cmd.Stderr = out, out
	ownGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = KillGrace
	return cmd, out
}

// Output keeps the first max bytes written to it.
type Output struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if room := o.max - o.b.Len(); room > 0 {
		o.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
