package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/failover-ha/failover/internal/lab"
	"github.com/failover-ha/failover/internal/rig"
)

// labPreflight says plainly why no lab can run here.
func labPreflight() error {
	if os.Geteuid() != 0 {
		return errors.New("failover lab needs root (it creates network namespaces and moves addresses): run it with sudo")
	}
	if err := lab.Available(); err != nil {
		return fmt.Errorf("failover lab: cannot build a rack here: %w", err)
	}
	return nil
}

// findFailoverd returns the daemon binary the lab runs: flagPath, or
// failoverd beside this executable, or one built with "go build" into dir.
func (r *runner) findFailoverd(ctx context.Context, flagPath, dir string) (string, error) {
	if flagPath != "" {
		if _, err := os.Stat(flagPath); err != nil {
			return "", fmt.Errorf("failover lab: --failoverd: %w", err)
		}
		return flagPath, nil
	}
	exe, err := r.env.executable()
	if err == nil {
		p := filepath.Join(filepath.Dir(exe), "failoverd")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			r.say("using %s (beside this executable)", p)
			return p, nil
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("failover lab: no failoverd beside this executable and no go tool to build one: build it with \"go build -o DIR ./cmd/...\" and run DIR/failover, or pass --failoverd PATH")
	}
	out := filepath.Join(dir, "failoverd")
	wd, _ := os.Getwd()
	r.say("no failoverd beside this executable: building it: go build -o %s ./cmd/failoverd (in %s)", out, wd)
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/failover-ha/failover/cmd/failoverd")
	cmd.Stderr = r.env.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("failover lab: building failoverd failed (%v): run from the source tree, or pass --failoverd PATH", err)
	}
	r.say("built failoverd in %s", time.Since(t0).Round(100*time.Millisecond))
	return out, nil
}

// measuringFailoverd is findFailoverd for the commands whose stdout carries
// their results (bench, drill, scale, sweep): it narrates on stderr.
func (r *runner) measuringFailoverd(ctx context.Context, flagPath, dir string) (string, error) {
	quiet := *r
	quiet.env.Stdout = r.env.Stderr
	return quiet.findFailoverd(ctx, flagPath, dir)
}

// narrate prints one progress line with the time on stderr, for the
// commands whose stdout carries their results.
func (r *runner) narrate(format string, args ...any) {
	fmt.Fprintf(r.env.Stderr, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// say prints one narration line with the time.
func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.env.Stdout, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func labUp(ctx context.Context, r *runner, c *command, args []string) error {
	fs, sock := r.labFlags(c)
	hosts := fs.Int("hosts", 2, "number of hosts (2..16), priorities N..1 for h1..hN")
	serial := fs.Bool("serial", true, "join neighbouring hosts with a null-modem cable")
	failoverd := fs.String("failoverd", "", "failoverd `binary` to run (default: beside this executable, else built)")
	sockDir := fs.String("socket-dir", DefaultLabSocketDir, "`directory` for the daemons' control sockets (HOST.sock)")
	verbose := fs.Bool("v", false, "also print the daemons' logs")
	if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
		return err
	}
	if *hosts < 2 || *hosts > lab.MaxHosts {
		return usageErrorf("failover lab up: --hosts %d: a cluster has 2..%d hosts", *hosts, lab.MaxHosts)
	}
	if err := labPreflight(); err != nil {
		return err
	}
	ln, err := listenLabSocket(*sock)
	if err != nil {
		return err
	}
	defer os.Remove(*sock)
	defer ln.Close()

	tmp, err := os.MkdirTemp("", "failover-lab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := r.findFailoverd(ctx, *failoverd, tmp)
	if err != nil {
		return err
	}
	self, err := r.env.executable()
	if err != nil {
		return err
	}
	opts := rig.Options{
		Hosts:     *hosts,
		NoSerial:  !*serial,
		Failoverd: bin,
		Failover:  self,
		Dir:       filepath.Join(tmp, "rack"),
		SocketDir: *sockDir,
		Logf:      r.say,
	}
	if *verbose {
		opts.DaemonLog = r.env.Stdout
	}
	rg, err := rig.New(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		r.say("tearing down: stopping daemons, removing namespaces and %s", tmp)
		if err := rg.Close(); err != nil {
			fmt.Fprintf(r.env.Stderr, "failover lab: cleanup: %v\n", err)
		}
		os.Remove(*sockDir)
	}()

	srv := newLabServer(rg, time.Now())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv.down = cancel
	hs := &http.Server{Handler: srv.handler()}
	go hs.Serve(ln)
	defer func() {
		// Graceful: the "lab down" request that ended us gets its answer.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()

	svc := rg.Services()[0]
	fmt.Fprintf(r.env.Stdout, `
The lab is up. VIP %s (service %q) should settle on h1 in a moment.
From another terminal:
  sudo failover lab status
  sudo failover --socket %s status
  sudo failover --socket %s watch
  sudo failover --socket %s fail %s     # planned hand-over
  sudo failover lab crash h1                # power pull
  sudo failover lab cut h1 eth0             # cable pull
  sudo failover lab heal
  sudo failover lab down                    # or Ctrl-C here
Configs, key and daemon logs: %s

`, svc.VIP.Addr(), svc.Name, rg.Socket("h1"), rg.Socket("h2"), rg.Socket("h1"), svc.Name, rg.Dir())
	srv.follow(ctx, func(e LabOutageEvent, note string) {
		if note != "" {
			r.say("%s", note)
			return
		}
		if e.From == "" {
			r.say("client: %s answered by %s", e.Service, e.To)
			return
		}
		r.say("client: %s answered by %s (was %s) after %s without answer", e.Service, e.To, e.From, e.Outage)
	})
	return nil
}

// listenLabSocket listens on the lab's control socket, refusing if another
// lab answers there and removing a stale file.
func listenLabSocket(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("failover lab: a lab is already running (%s answers): stop it with \"sudo failover lab down\"", path)
	}
	os.Remove(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("failover lab: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("failover lab: control socket: %w", err)
	}
	os.Chmod(path, 0o600)
	return ln, nil
}

// labServer serves the lab's control API for "lab status", "lab crash", ...
type labServer struct {
	rg    *rig.Rig
	start time.Time
	down  func()

	mu      sync.Mutex
	frozen  map[string]bool
	pulled  map[string]bool // "h1 eth0"
	cut     map[string]bool // "h1-h2"
	outages []LabOutageEvent
}

func newLabServer(rg *rig.Rig, start time.Time) *labServer {
	return &labServer{rg: rg, start: start, frozen: map[string]bool{}, pulled: map[string]bool{}, cut: map[string]bool{}}
}

func (s *labServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/lab", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.status(r.Context()))
	})
	mux.HandleFunc("POST /v1/lab/crash/{host}", s.op(func(r *http.Request) (string, error) {
		h := r.PathValue("host")
		if err := s.host(h); err != nil {
			return "", err
		}
		if err := s.rg.Lab.Freeze(h); err != nil {
			return "", err
		}
		s.mu.Lock()
		s.frozen[h] = true
		s.mu.Unlock()
		return fmt.Sprintf("%s: power pulled (processes stopped, every NIC and cable silent); \"failover lab thaw %s\" brings it back", h, h), nil
	}))
	mux.HandleFunc("POST /v1/lab/thaw/{host}", s.op(func(r *http.Request) (string, error) {
		h := r.PathValue("host")
		if err := s.host(h); err != nil {
			return "", err
		}
		if err := s.rg.Lab.Thaw(h); err != nil {
			return "", err
		}
		s.mu.Lock()
		delete(s.frozen, h)
		s.mu.Unlock()
		return h + ": power back", nil
	}))
	mux.HandleFunc("POST /v1/lab/cut/{host}/{path}", s.op(func(r *http.Request) (string, error) {
		return s.cable(r.PathValue("host"), r.PathValue("path"), false)
	}))
	mux.HandleFunc("POST /v1/lab/plug/{host}/{path}", s.op(func(r *http.Request) (string, error) {
		return s.cable(r.PathValue("host"), r.PathValue("path"), true)
	}))
	mux.HandleFunc("POST /v1/lab/heal", s.op(func(r *http.Request) (string, error) {
		if err := s.rg.Lab.Heal(); err != nil {
			return "", err
		}
		s.mu.Lock()
		clear(s.frozen)
		clear(s.pulled)
		clear(s.cut)
		s.mu.Unlock()
		return "healed: every cable plugged, every host thawed", nil
	}))
	mux.HandleFunc("POST /v1/lab/down", s.op(func(r *http.Request) (string, error) {
		s.down()
		return "lab going down: daemons stopped, namespaces and files removed", nil
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such lab request: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

func (s *labServer) host(name string) error {
	if s.rg.Lab.Host(name) == nil || name == "client" {
		return fmt.Errorf("no host %q (hosts are %s)", name, strings.Join(s.rg.Hosts(), ", "))
	}
	return nil
}

// cable pulls or plugs one of host's cables: eth0, eth1, or serial (every
// cable of the host; "serial:h2" for one).
func (s *labServer) cable(host, path string, plug bool) (string, error) {
	if err := s.host(host); err != nil {
		return "", err
	}
	verb := "pulled"
	if plug {
		verb = "plugged back"
	}
	switch {
	case path == "eth0" || path == "eth1":
		var err error
		if plug {
			err = s.rg.Lab.Plug(host, path)
		} else {
			err = s.rg.Lab.Pull(host, path)
		}
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		if plug {
			delete(s.pulled, host+" "+path)
		} else {
			s.pulled[host+" "+path] = true
		}
		s.mu.Unlock()
		return fmt.Sprintf("%s %s: cable %s", host, path, verb), nil
	case path == "serial" || strings.HasPrefix(path, "serial:"):
		peers := s.rg.Hosts()
		if p, ok := strings.CutPrefix(path, "serial:"); ok {
			peers = []string{p}
		}
		var done []string
		for _, p := range peers {
			cb := s.rg.Lab.Cable(host, p)
			if cb == nil {
				continue
			}
			var err error
			if plug {
				err = cb.Heal()
			} else {
				err = cb.Cut()
			}
			if err != nil {
				return "", err
			}
			k := cableKey(host, p)
			s.mu.Lock()
			if plug {
				delete(s.cut, k)
			} else {
				s.cut[k] = true
			}
			s.mu.Unlock()
			done = append(done, k)
		}
		if len(done) == 0 {
			return "", fmt.Errorf("%s has no serial cable (%s)", host, path)
		}
		return fmt.Sprintf("serial cable %s %s", strings.Join(done, ", "), verb), nil
	}
	return "", fmt.Errorf("path %q: want eth0, eth1 or serial", path)
}

func cableKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "-" + b
}

func (s *labServer) op(fn func(r *http.Request) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		done, err := fn(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"done": done})
	}
}

func (s *labServer) status(ctx context.Context) LabStatus {
	st := LabStatus{Dir: s.rg.Dir(), KeyFile: s.rg.KeyFile(), Uptime: time.Since(s.start).Round(time.Second).String()}
	s.mu.Lock()
	for h := range s.frozen {
		st.Faults = append(st.Faults, h+" frozen (power pulled)")
	}
	for k := range s.pulled {
		st.Faults = append(st.Faults, k+" cable pulled")
	}
	for k := range s.cut {
		st.Faults = append(st.Faults, "serial "+k+" cut")
	}
	frozen := maps(s.frozen)
	st.Outages = slices.Clone(s.outages)
	s.mu.Unlock()
	sort.Strings(st.Faults)
	for _, name := range s.rg.Hosts() {
		h := s.rg.Lab.Host(name)
		lh := LabHost{Name: name, Eth0: h.Addr("eth0").String(), Eth1: h.Addr("eth1").String(),
			Socket: s.rg.Socket(name), Config: s.rg.ConfigFile(name), Log: s.rg.LogFile(name), Frozen: frozen[name]}
		for _, p := range s.rg.Hosts() {
			if dev := h.SerialPort(p); dev != "" {
				lh.Serial = append(lh.Serial, p+":"+dev)
			}
		}
		if d := s.rg.Daemon(name); d != nil {
			lh.PID = d.Cmd.Process.Pid
			select {
			case <-d.Done():
				lh.Daemon = "exited"
				if d.Err() != nil {
					lh.Daemon = "exited: " + d.Err().Error()
				}
			default:
				lh.Daemon = "running"
			}
		}
		if lh.Daemon == "running" && !lh.Frozen {
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			ds, err := s.rg.Status(cctx, name)
			cancel()
			if err != nil {
				lh.Daemon = "not answering: " + plainError(err)
			} else {
				lh.States = map[string]string{}
				for _, sv := range ds.Services {
					lh.States[sv.Name] = sv.State
				}
			}
		}
		st.Hosts = append(st.Hosts, lh)
	}
	for _, sv := range s.rg.Services() {
		ls := LabService{Name: sv.Name, VIP: sv.VIP.String()}
		ls.Holders, _ = s.rg.Holders(sv.Name)
		if pr := s.rg.Prober(sv.Name); pr != nil {
			if a, ok := pr.Last(); ok {
				ls.AnsweredBy = a.From
				ls.LastAnswer = roundDur(time.Since(a.At)) + " ago"
			} else {
				ls.LastAnswer = "never"
			}
			ls.Duplicates = pr.Duplicates()
		}
		for i := range st.Hosts {
			if slices.Contains(ls.Holders, st.Hosts[i].Name) {
				st.Hosts[i].Holding = append(st.Hosts[i].Holding, sv.Name)
			}
		}
		st.Services = append(st.Services, ls)
	}
	return st
}

func maps(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// follow watches every service's prober until ctx ends and reports each
// change of the answering host (with the outage the client saw) and each
// start of silence.
func (s *labServer) follow(ctx context.Context, report func(e LabOutageEvent, note string)) {
	type track struct {
		last   rig.Answer
		have   bool
		silent bool
	}
	tr := map[string]*track{}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, sv := range s.rg.Services() {
			pr := s.rg.Prober(sv.Name)
			if pr == nil {
				continue
			}
			k := tr[sv.Name]
			if k == nil {
				k = &track{}
				tr[sv.Name] = k
			}
			for _, a := range pr.AnsweredAfter(k.last.Seq) {
				gap := a.Sent.Sub(k.last.Sent) - rig.ProbeInterval
				if !k.have || a.From != k.last.From || gap > 5*rig.ProbeInterval {
					e := LabOutageEvent{At: a.At, Service: sv.Name, To: a.From}
					if k.have {
						e.From = k.last.From
						e.Outage = fmt.Sprintf("%d ms", gap.Milliseconds())
					}
					s.mu.Lock()
					s.outages = append(s.outages, e)
					if len(s.outages) > 100 {
						s.outages = s.outages[1:]
					}
					s.mu.Unlock()
					report(e, "")
				}
				k.last, k.have, k.silent = a, true, false
			}
			if k.have && !k.silent && time.Since(k.last.At) > 100*time.Millisecond {
				k.silent = true
				report(LabOutageEvent{}, fmt.Sprintf("client: %s gets no answer (last from %s)", sv.Name, k.last.From))
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
