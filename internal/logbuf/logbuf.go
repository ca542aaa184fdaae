// Package logbuf batches the service's log lines into fewer writes. Every request logs a line,
// and each line was a write system call to stdout: under hot reads from the read cache, about a
// tenth of a request's CPU went to writing its log line. A Writer collects lines and writes them
// together when its buffer fills, or Interval after the first line still unwritten, so a line
// reaches the log driver at most Interval late; a process killed outright loses at most that.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Defaults for the service: 32 KiB is about 130 request lines, so under load a write carries
// that many; 100 ms is how late a line may reach the log driver when traffic is light.
const (
	DefaultSize     = 32 << 10
	DefaultInterval = 100 * time.Millisecond
)

// Writer buffers whole writes (slog writes a line per call) and writes them to out in order,
// never splitting one. It is the only writer of out: lines written together to a pipe by two
// writers could interleave. Safe for concurrent use.
type Writer struct {
	out      io.Writer
	size     int
	interval time.Duration

	mu     sync.Mutex
	buf    []byte
	timer  *time.Timer // flushes Interval after the first unwritten line
	armed  bool
	closed bool
	err    error // the first write to out that failed
}

// New returns a Writer to out with a buffer of size bytes, flushed at most interval after a
// line enters it.
func New(out io.Writer, size int, interval time.Duration) *Writer {
	w := &Writer{out: out, size: size, interval: interval, buf: make([]byte, 0, size)}
	w.timer = time.AfterFunc(time.Hour, w.tick)
	w.timer.Stop()
	return w
}

// Write buffers p, writing out what is buffered first when p does not fit. A p as large as the
// buffer is written at once, after what was buffered. An error is that of the write to out that
// failed, now or in an earlier flush; what failed to be written is dropped.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > w.size {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) >= w.size {
		n, err := w.out.Write(p)
		w.record(err)
		return n, err
	}
	w.buf = append(w.buf, p...)
	if !w.armed {
		w.armed = true
		w.timer.Reset(w.interval)
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

// Close flushes and stops batching: later writes go straight to out. It returns the first
// error any write to out met, so a log that could not be written is not lost silently.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.timer.Stop()
	w.flushLocked() // its error, if any, is w.err's or after it
	return w.err
}

func (w *Writer) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.armed {
		w.timer.Stop()
		w.armed = false
	}
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	w.record(err)
	return err
}

func (w *Writer) record(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}
