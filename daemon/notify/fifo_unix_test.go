//go:build unix

package notify

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "failover.fifo")
	r := New(Config{FIFO: path, Timeout: time.Second}, Options{})
	start(t, r)

	// No reader yet: the FIFO is created, the line dropped, nothing blocks.
	r.Notify(change("web", "recover", "up", "no reader"))
	waitFor(t, "the line dropped", func() bool { return r.Status().FIFODropped == 1 })
	if st := r.Status(); st.FIFOError != "no reader" {
		t.Errorf("fifo error %q, want no reader", st.FIFOError)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("fifo not created: %v %v", fi, err)
	}

	// A reader: every line arrives whole and in order.
	f, err := os.OpenFile(path, os.O_RDWR, 0) // RDWR: reads block for data instead of seeing EOF before the writer opens
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(f)
	r.Notify(change("web", "recover", "indoubt", "one"))
	r.Notify(change("web", "indoubt", "up", "two"))
	var got []string
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(got) < 2 {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, line)
	}
	if !strings.Contains(got[0], ` web recover indoubt 198.18.1.100/32 "one"`) || !strings.Contains(got[1], ` web indoubt up 198.18.1.100/32 "two"`) {
		t.Errorf("lines %q", got)
	}

	// A reader that stops reading: the pipe fills, lines are dropped, the
	// writer never blocks (the hooks, and this test, go on).
	before := r.Status().FIFODropped
	long := strings.Repeat("x", 1000)
	for range 200 { // ~200 kB, far more than a pipe holds
		r.Notify(change("web", "up", "recover", long))
	}
	waitFor(t, "lines dropped on a full pipe", func() bool {
		st := r.Status()
		return st.FIFODropped > before && st.FIFOError == "reader does not keep up (pipe full)"
	})
	f.Close()

	// The reader gone: dropped, and a new reader gets the next line.
	r.Notify(change("web", "recover", "up", "nobody"))
	waitFor(t, "every line written or dropped, the reader gone", func() bool {
		st := r.Status()
		return st.FIFOLines+st.FIFODropped == 1+2+200+1 && st.FIFOError == "no reader"
	})
	f, err = os.OpenFile(path, os.O_RDWR, 0) // RDWR: reads block for data instead of seeing EOF before the writer opens
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r.Notify(change("web", "up", "recover", "again"))
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil || !strings.Contains(line, `"again"`) {
		t.Errorf("new reader: %q %v", line, err)
	}
}
