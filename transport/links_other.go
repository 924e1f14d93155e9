//go:build !linux

package transport

import (
	"context"
	"fmt"
	"runtime"
)

// WatchLinks is Linux only; elsewhere it fails at once.
func WatchLinks(ctx context.Context, paths map[string]string, fn func(LinkEvent), opts ...WatchOption) error {
	return fmt.Errorf("transport: link watch: unsupported platform %s", runtime.GOOS)
}
