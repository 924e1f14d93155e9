//go:build !linux

package transport

import (
	"context"
	"fmt"
	"runtime"
)

type nsHandle = int

// WatchLinks is Linux only; elsewhere it fails at once.
func WatchLinks(ctx context.Context, paths map[string]string, fn func(LinkEvent), opts ...WatchOption) error {
	return fmt.Errorf("transport: link watch: unsupported platform %s", runtime.GOOS)
}
