package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failover-ha/failover/daemon/client"
	"github.com/failover-ha/failover/quorum"
	"github.com/google/go-cmp/cmp"
)

type fakeBackend struct {
	mu  sync.Mutex
	ops []string
}

func (f *fakeBackend) Node() string { return "n1" }

func (f *fakeBackend) Status(ctx context.Context) (*client.Status, error) {
	return &client.Status{Node: "n1", Cluster: "c", Services: []client.Service{{Name: "web", State: "up"}}}, nil
}

func (f *fakeBackend) Command(ctx context.Context, service string, op quorum.Op) (*client.Service, error) {
	if service != "web" {
		return nil, errUnknownService
	}
	f.mu.Lock()
	f.ops = append(f.ops, service+" "+map[quorum.Op]string{quorum.OpFail: "fail", quorum.OpRecover: "recover"}[op])
	f.mu.Unlock()
	return &client.Service{Name: service, State: "fail"}, nil
}

func startControl(t *testing.T) (*fakeBackend, *slog.LevelVar, *client.Client, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "f.sock")
	l, err := listenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBackend{}
	lv := new(slog.LevelVar)
	s := &controlServer{b: fb, level: lv, log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewUnstartedServer(s.handler())
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return fb, lv, c, sock
}

func TestControlAPI(t *testing.T) {
	fb, lv, c, _ := startControl(t)
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Node != "n1" || len(st.Services) != 1 || st.LogLevel != "info" {
		t.Errorf("status = %+v", st)
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fail(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recover(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fail(ctx, "nope"); !errors.Is(err, client.ErrUnknownService) {
		t.Errorf("Fail(nope) = %v, want ErrUnknownService", err)
	}
	if diff := cmp.Diff([]string{"web fail", "web recover"}, fb.ops); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	got, err := c.SetLogLevel(ctx, "debug")
	if err != nil || got != "debug" || lv.Level() != slog.LevelDebug {
		t.Errorf("SetLogLevel(debug) = %q, %v; level %v", got, err, lv.Level())
	}
	var ae *client.APIError
	if _, err := c.SetLogLevel(ctx, "loud"); !errors.As(err, &ae) || ae.Code != http.StatusBadRequest {
		t.Errorf("SetLogLevel(loud) = %v, want 400", err)
	}
}

func TestControlSocketLiveAndStale(t *testing.T) {
	_, _, _, sock := startControl(t)
	if _, err := listenUnix(sock); !errors.Is(err, errAnotherDaemon) {
		t.Fatalf("second listen on a live socket: %v, want errAnotherDaemon", err)
	}

	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l2, err := listenUnix(stale)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
}

func TestControlRemoteAuth(t *testing.T) {
	key := []byte("cluster key")
	s := &controlServer{b: &fakeBackend{}, level: new(slog.LevelVar), log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(s.remoteHandler(func() []byte { return key }, time.Now))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	good, _ := client.Dial(addr, client.WithKey(key))
	if st, err := good.Status(ctx); err != nil || st.Node != "n1" {
		t.Fatalf("remote status with the right key: %v", err)
	}
	var ae *client.APIError
	if _, err := good.Fail(ctx, "web"); !errors.As(err, &ae) || ae.Code != http.StatusForbidden {
		t.Errorf("remote fail: %v, want 403 (read-only)", err)
	}
	bad, _ := client.Dial(addr, client.WithKey([]byte("wrong")))
	if _, err := bad.Status(ctx); !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized {
		t.Errorf("remote status with a wrong key: %v, want 401", err)
	}
}
