package web

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/failover-ha/failover/daemon/client"
)

// StatusFunc fetches a daemon's status. It must honour ctx.
type StatusFunc func(ctx context.Context) (*client.Status, error)

// Collector is a prometheus.Collector that reads one status snapshot per
// scrape and turns it into the failover_ metrics (docs/metrics.md). It keeps
// no counters of its own: every figure is the daemon's, so a scrape shows
// exactly what `failover status --json` would.
type Collector struct {
	status  StatusFunc
	timeout time.Duration
	build   buildInfo
}

type buildInfo struct{ version, revision, goVersion string }

// NewCollector returns a collector reading status; each scrape waits at
// most timeout for it (0 means 2s).
func NewCollector(status StatusFunc, timeout time.Duration) *Collector {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Collector{status: status, timeout: timeout, build: readBuild()}
}

func readBuild() buildInfo {
	b := buildInfo{version: "(devel)", goVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				b.revision = s.Value
			}
		}
	}
	return b
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("failover_"+name, help, labels, nil)
}

// The metrics, beside what they count. Labels: node, peer, path, service,
// state, check, hook.
var (
	mUp        = desc("up", "1 if the daemon answered the status request of this scrape, else 0.")
	mBuildInfo = desc("build_info", "Always 1; the labels say what is running.", "version", "revision", "goversion")
	mNodeInfo  = desc("node_info", "Always 1; the node and cluster this daemon is.", "node", "cluster")
	mStartTime = desc("start_time_seconds", "When the daemon started, unix seconds.")
	mMismatch  = desc("config_mismatches", "Config or timing mismatches with peers now.")
	mAlarms    = desc("alarms", "Alarms kept in status (the most recent ones).")

	mPeerUp    = desc("peer_up", "1 if the peer is alive or degraded (heard on some path), else 0.", "peer")
	mPeerState = desc("peer_state", "1 for the peer's current verdict, 0 for the others.", "peer", "state")

	mPeerPathUp    = desc("peer_path_up", "1 if the path to the peer is up or suspect, 0 if down.", "peer", "path")
	mPeerPathState = desc("peer_path_state", "1 for the path's current state, 0 for the others.", "peer", "path", "state")
	mPeerPathLoss  = desc("peer_path_loss_ratio", "Recent fraction of the peer's expected frames not heard on the path, 0..1.", "peer", "path")
	mPeerPathAge   = desc("peer_path_last_heard_seconds", "Seconds since the peer was last heard on the path (absent if never).", "peer", "path")

	mPathOpen      = desc("path_open", "1 if our path is open.", "path", "kind")
	mPathCarrier   = desc("path_carrier", "1 if our path has carrier (link up, port open).", "path")
	mPathRTT       = desc("path_rtt_seconds", "Last heartbeat round trip on the path (absent until measured).", "path")
	mPathJitter    = desc("path_jitter_seconds", "Smoothed round-trip variation on the path (RFC 3550).", "path")
	mPathSent      = desc("path_frames_sent_total", "Frames sent on the path.", "path")
	mPathRecv      = desc("path_frames_received_total", "Frames received on the path, before any check.", "path")
	mPathBytesSent = desc("path_bytes_sent_total", "Bytes sent on the path.", "path")
	mPathBytesRecv = desc("path_bytes_received_total", "Bytes received on the path.", "path")
	mPathSendErr   = desc("path_send_errors_total", "Sends that failed on the path.", "path")
	mPathAuthFail  = desc("path_auth_failures_total", "Frames that failed authentication on the path.", "path")
	mPathBad       = desc("path_bad_frames_total", "Frames rejected as unauthenticated, malformed or of another version.", "path")
	mPathReplays   = desc("path_replays_total", "Frames rejected by the replay guard on the path.", "path")
	mPathForeign   = desc("path_foreign_frames_total", "Frames of another cluster heard on the path.", "path")

	mSvcState       = desc("service_state", "1 for the service's current state here, 0 for the others.", "service", "state")
	mSvcOwner       = desc("service_owner", "1 for the node holding the service as this node sees it, 0 for the others.", "service", "node")
	mSvcPresent     = desc("service_vip_present", "1 if the service's VIP is on our interface now.", "service")
	mSvcPriority    = desc("service_priority", "Our priority for the service, lowered by failing weight checks.", "service")
	mSvcDrop        = desc("service_priority_drop", "How much failing weight checks lower our priority for the service.", "service")
	mSvcTransitions = desc("service_transitions_total", "State changes of the service here, by new state and kind of reason.", "service", "to", "reason")
	mSvcOutage      = desc("service_last_outage_seconds", "How long nobody held the service the last time, as this node saw it (0 if never).", "service")
	mSvcOutageEnd   = desc("service_last_outage_end_timestamp_seconds", "When that outage ended, unix seconds (absent if never).", "service")

	mCheckUp       = desc("check_up", "1 if the check is healthy after rise and fall, else 0.", "service", "check", "kind")
	mCheckLast     = desc("check_last_result", "1 if the check's last run passed, else 0.", "service", "check")
	mCheckDuration = desc("check_duration_seconds", "How long the check's last run took.", "service", "check")
	mCheckRuns     = desc("check_runs_total", "Runs of the check.", "service", "check")
	mCheckFailures = desc("check_failures_total", "Runs of the check that failed.", "service", "check")

	mHookRuns     = desc("hook_runs_total", "Runs of a notify hook.", "service", "hook")
	mHookFailures = desc("hook_failures_total", "Runs of a notify hook that failed (non-zero exit, not started, killed).", "service", "hook")
	mHookTimeouts = desc("hook_timeouts_total", "Runs of a notify hook killed at the timeout.", "service", "hook")
	mHookDuration = desc("hook_last_duration_seconds", "How long the hook's last run took.", "service", "hook")
	mHookExit     = desc("hook_last_exit_code", "The hook's last exit code (-1: not started or killed).", "service", "hook")
	mHookQueued   = desc("hook_queue_length", "State changes waiting for their hooks.")
	mHookDropped  = desc("hook_dropped_total", "State changes whose hooks were dropped: the queue was full.")
	mFIFOLines    = desc("notify_fifo_lines_total", "Lines written to notify_fifo.")
	mFIFODropped  = desc("notify_fifo_dropped_total", "Lines not written to notify_fifo (no reader, or it did not keep up).")
)

var allDescs = []*prometheus.Desc{
	mUp, mBuildInfo, mNodeInfo, mStartTime, mMismatch, mAlarms,
	mPeerUp, mPeerState, mPeerPathUp, mPeerPathState, mPeerPathLoss, mPeerPathAge,
	mPathOpen, mPathCarrier, mPathRTT, mPathJitter, mPathSent, mPathRecv, mPathBytesSent, mPathBytesRecv,
	mPathSendErr, mPathAuthFail, mPathBad, mPathReplays, mPathForeign,
	mSvcState, mSvcOwner, mSvcPresent, mSvcPriority, mSvcDrop, mSvcTransitions, mSvcOutage, mSvcOutageEnd,
	mCheckUp, mCheckLast, mCheckDuration, mCheckRuns, mCheckFailures,
	mHookRuns, mHookFailures, mHookTimeouts, mHookDuration, mHookExit, mHookQueued, mHookDropped, mFIFOLines, mFIFODropped,
}

// The states each one-hot gauge has a series for.
var (
	serviceStates = []string{"up", "recover", "fail", "indoubt", "reclaim"}
	peerStates    = []string{"unknown", "alive", "degraded", "dead"}
	pathStates    = []string{"up", "suspect", "down"}
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(mBuildInfo, 1, c.build.version, c.build.revision, c.build.goVersion)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil || st == nil {
		gauge(mUp, 0)
		return
	}
	gauge(mUp, 1)
	gauge(mNodeInfo, 1, st.Node, st.Cluster)
	if !st.Started.IsZero() {
		gauge(mStartTime, unix(st.Started))
	}
	gauge(mMismatch, float64(len(st.Mismatch)))
	gauge(mAlarms, float64(len(st.Alarms)))

	for _, p := range st.Peers {
		gauge(mPeerUp, bool01(p.State == "alive" || p.State == "degraded"), p.Name)
		for _, s := range peerStates {
			gauge(mPeerState, bool01(p.State == s), p.Name, s)
		}
		for _, pp := range p.Paths {
			gauge(mPeerPathUp, bool01(pp.State != "down"), p.Name, pp.Path)
			for _, s := range pathStates {
				gauge(mPeerPathState, bool01(pp.State == s), p.Name, pp.Path, s)
			}
			gauge(mPeerPathLoss, pp.Loss/100, p.Name, pp.Path)
			if !pp.LastHeard.IsZero() {
				gauge(mPeerPathAge, seconds(pp.Age), p.Name, pp.Path)
			}
		}
	}
	for _, p := range st.Paths {
		gauge(mPathOpen, bool01(p.Open), p.Name, p.Kind)
		gauge(mPathCarrier, bool01(p.Carrier), p.Name)
		if p.RTT > 0 {
			gauge(mPathRTT, seconds(p.RTT), p.Name)
			gauge(mPathJitter, seconds(p.Jitter), p.Name)
		}
		counter(mPathSent, p.Sent, p.Name)
		counter(mPathRecv, p.Received, p.Name)
		counter(mPathBytesSent, p.BytesSent, p.Name)
		counter(mPathBytesRecv, p.BytesRecv, p.Name)
		counter(mPathSendErr, p.SendErr, p.Name)
		counter(mPathAuthFail, p.AuthFail, p.Name)
		counter(mPathBad, p.BadAuth, p.Name)
		counter(mPathReplays, p.Replayed, p.Name)
		counter(mPathForeign, p.Foreign, p.Name)
	}
	for _, s := range st.Services {
		for _, state := range serviceStates {
			gauge(mSvcState, bool01(s.State == state), s.Name, state)
		}
		nodes := map[string]bool{st.Node: true}
		for n := range s.Nodes {
			nodes[n] = true
		}
		if s.Owner != "" {
			nodes[s.Owner] = true
		}
		for n := range nodes {
			gauge(mSvcOwner, bool01(s.Owner == n), s.Name, n)
		}
		gauge(mSvcPresent, bool01(s.Present), s.Name)
		gauge(mSvcPriority, float64(s.Priority), s.Name)
		gauge(mSvcDrop, float64(s.Drop), s.Name)
		for _, t := range s.Transitions {
			counter(mSvcTransitions, t.Count, s.Name, t.To, t.Reason)
		}
		gauge(mSvcOutage, seconds(s.LastOutage), s.Name)
		if !s.LastOutageAt.IsZero() {
			gauge(mSvcOutageEnd, unix(s.LastOutageAt), s.Name)
		}
		for _, k := range s.Checks {
			gauge(mCheckUp, bool01(k.OK), s.Name, k.Name, k.Kind)
			if k.Runs > 0 {
				gauge(mCheckLast, bool01(k.LastOK), s.Name, k.Name)
				gauge(mCheckDuration, seconds(k.Duration), s.Name, k.Name)
			}
			counter(mCheckRuns, k.Runs, s.Name, k.Name)
			counter(mCheckFailures, k.Failures, s.Name, k.Name)
		}
	}
	if h := st.Hooks; h != nil {
		for _, hs := range h.Stats {
			counter(mHookRuns, hs.Runs, hs.Service, hs.Hook)
			counter(mHookFailures, hs.Failed, hs.Service, hs.Hook)
			counter(mHookTimeouts, hs.TimedOut, hs.Service, hs.Hook)
			gauge(mHookDuration, seconds(hs.Last.Duration), hs.Service, hs.Hook)
			gauge(mHookExit, float64(hs.Last.Exit), hs.Service, hs.Hook)
		}
		gauge(mHookQueued, float64(h.Queued))
		counter(mHookDropped, h.Dropped)
		if h.FIFO != "" {
			counter(mFIFOLines, h.FIFOLines)
			counter(mFIFODropped, h.FIFODropped)
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func seconds(d client.Duration) float64 { return time.Duration(d).Seconds() }

func unix(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
