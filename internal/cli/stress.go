package cli

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

func stressCmd() *command {
	return &command{
		name:   "stress",
		short:  "load the control API with requests and report latency (the original's failstress)",
		common: true,
		long: `Sends -n GET /v1/ping requests to the daemon, -c at a time, and reports the
latency percentiles (p50, p90, p99, max), the rate and the errors. The daemon
keeps its heartbeats going meanwhile: run "failover watch" on the peer to see
that the load does not disturb them.`,
		examples: []string{"failover stress", "failover stress -n 10000 -c 16", "failover stress --json"},
		run: func(ctx context.Context, r *runner, args []string) error {
			c := r.find("stress")
			fs := r.flags(c)
			n := fs.Int("n", 1000, "number of requests")
			conc := fs.Int("c", 4, "requests in flight at once")
			if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
				return err
			}
			if *n < 1 || *conc < 1 {
				return usageErrorf("failover stress: -n and -c must be at least 1")
			}
			cl, err := r.dial()
			if err != nil {
				return err
			}
			defer cl.Close()
			// One request first: a daemon that is not running is one plain
			// line, not a thousand errors.
			if _, err := cl.Ping(ctx); err != nil {
				return err
			}
			res := stress(ctx, *n, *conc, func(ctx context.Context) error {
				_, err := cl.Ping(ctx)
				return err
			})
			if r.json {
				if err := r.printJSON(res); err != nil {
					return err
				}
			} else {
				fmt.Fprint(r.env.Stdout, res.String())
			}
			if res.Errors > 0 {
				return silentExit(ExitFailure)
			}
			return nil
		},
	}
}

// StressResult is what stress measured.
type StressResult struct {
	Requests    int     `json:"requests"`
	Concurrency int     `json:"concurrency"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Elapsed     string  `json:"elapsed"`
	PerSecond   float64 `json:"per_second"`
	P50         string  `json:"p50"`
	P90         string  `json:"p90"`
	P99         string  `json:"p99"`
	Max         string  `json:"max"`
}

func (s StressResult) String() string {
	out := fmt.Sprintf("%d requests, %d at a time, in %s (%.0f/s)\nlatency p50 %s  p90 %s  p99 %s  max %s\nerrors: %d\n",
		s.Requests, s.Concurrency, s.Elapsed, s.PerSecond, s.P50, s.P90, s.P99, s.Max, s.Errors)
	if s.FirstError != "" {
		out += "first error: " + s.FirstError + "\n"
	}
	return out
}

// stress runs do n times, conc at a time, and summarises the latencies.
func stress(ctx context.Context, n, conc int, do func(context.Context) error) StressResult {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := do(ctx)
				lat[i] = time.Since(t)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, plainError(err))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	done := min(int(next.Load()), n)
	lat = lat[:done]
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res := StressResult{
		Requests:    done,
		Concurrency: conc,
		Errors:      int(errs.Load()),
		Elapsed:     roundDur(elapsed),
		PerSecond:   float64(done) / elapsed.Seconds(),
		P50:         roundDur(percentile(lat, 50)),
		P90:         roundDur(percentile(lat, 90)),
		P99:         roundDur(percentile(lat, 99)),
		Max:         roundDur(percentile(lat, 100)),
	}
	if e, ok := firstErr.Load().(string); ok {
		res.FirstError = e
	}
	return res
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := (p*len(sorted) + 99) / 100
	k = max(1, min(k, len(sorted)))
	return sorted[k-1]
}
