//go:build linux

package vip_test

import (
	"testing"

	"github.com/failover-ha/failover/internal/lab"
)

func TestMain(m *testing.M) { lab.Main(m) }
