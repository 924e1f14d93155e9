//go:build !linux

package cli

import (
	"context"
	"errors"
)

var errLabLinux = errors.New("failover lab runs on Linux only (network namespaces)")

func labUp(ctx context.Context, r *runner, c *command, args []string) error    { return errLabLinux }
func labDemo(ctx context.Context, r *runner, c *command, args []string) error  { return errLabLinux }
func labBench(ctx context.Context, r *runner, c *command, args []string) error { return errLabLinux }
func labDrill(ctx context.Context, r *runner, c *command, args []string) error { return errLabLinux }
func labScale(ctx context.Context, r *runner, c *command, args []string) error { return errLabLinux }
func labSweep(ctx context.Context, r *runner, c *command, args []string) error { return errLabLinux }
