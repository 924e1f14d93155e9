package notify

// fifoState is the FIFO writer's counters, guarded by Runner.mu. The file
// descriptor itself is owned by the fifoLoop goroutine.
type fifoState struct {
	reset   bool   // the path changed: reopen
	lines   uint64 // lines written
	dropped uint64 // lines not written
	err     string // the last error, "" once a line went through
}

// fifoLoop writes queued lines until stop is closed, then what is left.
func (r *Runner) fifoLoop(stop <-chan struct{}) {
	w := &fifoWriter{fd: -1}
	defer w.close()
	for {
		select {
		case <-stop:
			r.writeLines(w)
			return
		case <-r.lines.wake:
			r.writeLines(w)
		}
	}
}

func (r *Runner) writeLines(w *fifoWriter) {
	for {
		line, ok := r.lines.pop()
		if !ok {
			return
		}
		r.mu.Lock()
		path, reset := r.cfg.FIFO, r.fifo.reset
		r.fifo.reset = false
		r.mu.Unlock()
		if reset {
			w.close()
		}
		if path == "" {
			continue
		}
		err := w.write(path, line)
		r.mu.Lock()
		if err != nil {
			r.fifo.dropped++
			msg := err.Error()
			if msg != r.fifo.err {
				// Once per distinct error: a FIFO nobody reads would
				// otherwise log on every change.
				r.log.Warn("notify fifo: line dropped", "fifo", path, "reason", msg)
			}
			r.fifo.err = msg
		} else {
			r.fifo.lines++
			r.fifo.err = ""
		}
		r.mu.Unlock()
	}
}
