package rig

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CPUStat is the first line of /proc/stat: the time all CPUs spent in each
// state, in clock ticks.
type CPUStat struct {
	Total, Idle, Softirq uint64 // idle includes iowait
}

// ReadCPUStat reads /proc/stat now.
func ReadCPUStat() (CPUStat, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUStat{}, fmt.Errorf("rig: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseCPUStat(line)
}

// parseCPUStat reads the "cpu  user nice system idle iowait irq softirq
// steal ..." line of /proc/stat.
func parseCPUStat(line string) (CPUStat, error) {
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return CPUStat{}, fmt.Errorf("rig: /proc/stat: unexpected first line %q", line)
	}
	var c CPUStat
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return CPUStat{}, fmt.Errorf("rig: /proc/stat: field %d of %q: %w", i+1, line, err)
		}
		if i >= 8 {
			break // guest time is already counted in user
		}
		c.Total += n
		switch i {
		case 3, 4:
			c.Idle += n
		case 6:
			c.Softirq += n
		}
	}
	return c, nil
}

// Busy is the share of all CPUs (percent) that was busy, and the share in
// softirq (the kernel's packet work), from c to d; 0, 0 if no time passed.
func (c CPUStat) Busy(d CPUStat) (busy, softirq float64) {
	total := float64(d.Total - c.Total)
	if d.Total <= c.Total {
		return 0, 0
	}
	return 100 * (total - float64(d.Idle-c.Idle)) / total, 100 * float64(d.Softirq-c.Softirq) / total
}
