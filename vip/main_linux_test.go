//go:build linux

package vip_test

import (
	"os"
	"testing"

	"github.com/failover-ha/failover/internal/lab"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		// A helper process started by a test inside a lab host: it must
		// stay in the namespace and with the credentials it was given.
		os.Exit(m.Run())
	}
	lab.Main(m)
}
