package logbuf_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/logbuf"
)

// sink records each write to it, as a pipe to the log driver would see them.
type sink struct {
	mu     sync.Mutex
	writes []string
	fail   error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *sink) all() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.writes, ""), len(s.writes)
}

func TestLinesArriveInOrderInFewWrites(t *testing.T) {
	var out sink
	w := logbuf.New(&out, 1024, time.Hour)
	var want strings.Builder
	for i := range 100 {
		line := fmt.Sprintf("line %03d\n", i) // 9 bytes: 113 fit in a buffer
		want.WriteString(line)
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got, n := out.all(); n != 0 || got != "" {
		t.Fatalf("%d writes before the buffer filled or the interval passed", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, n := out.all()
	if got != want.String() || n != 1 {
		t.Errorf("after Close: %d writes of %q, want one of every line in order", n, got)
	}
	// After Close, writes go straight through.
	w.Write([]byte("late\n"))
	if got, n := out.all(); n != 2 || !strings.HasSuffix(got, "late\n") {
		t.Errorf("a write after Close: %d writes, %q", n, got)
	}
}

// A full buffer is written before the line that does not fit; a line as large as the buffer is
// written whole, after what was buffered; no write splits a line.
func TestFullBufferAndLargeLines(t *testing.T) {
	var out sink
	w := logbuf.New(&out, 16, time.Hour)
	for _, line := range []string{"aaaaaa\n", "bbbbbb\n", "cccccc\n", strings.Repeat("L", 20) + "\n", "dd\n"} {
		w.Write([]byte(line))
	}
	w.Close()
	want := []string{"aaaaaa\nbbbbbb\n", "cccccc\n", strings.Repeat("L", 20) + "\n", "dd\n"}
	if fmt.Sprint(out.writes) != fmt.Sprint(want) {
		t.Errorf("writes %q, want %q", out.writes, want)
	}
}

// A line waits at most about the interval: it is written without another write or a Close.
func TestIntervalFlushes(t *testing.T) {
	var out sink
	w := logbuf.New(&out, 1<<20, 10*time.Millisecond)
	defer w.Close()
	w.Write([]byte("one\n"))
	deadline := time.Now().Add(5 * time.Second) // a generous bound, not a speed target
	waitFor(t, &out, "one\n", deadline, "a buffered line was not written within 5 s of a 10 ms interval")
	w.Write([]byte("two\n")) // the timer is armed again by the next line
	waitFor(t, &out, "one\ntwo\n", deadline, "the second line was not written: the interval was not armed again")
}

// waitFor polls out until it holds want, and fails with msg once deadline has passed.
func waitFor(t *testing.T, out *sink, want string, deadline time.Time, msg string) {
	t.Helper()
	for {
		if got, _ := out.all(); got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}

// Lines from many goroutines (slog serialises its own, but the EMF writer shares the Writer)
// arrive whole, each once.
func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	var out sink
	w := logbuf.New(&out, 256, time.Millisecond)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(w, "writer %d line %d %s\n", g, i, strings.Repeat("x", i%40))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := out.all()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var g, i int
		var pad string
		if n, _ := fmt.Sscanf(l, "writer %d line %d %s", &g, &i, &pad); n < 2 || seen[l] {
			t.Fatalf("line %q torn or repeated", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("%d lines arrived, want %d", len(seen), writers*lines)
	}
}

// A failed write to out is not swallowed: Close reports it.
func TestWriteErrorsReported(t *testing.T) {
	out := sink{fail: errors.New("pipe closed")}
	w := logbuf.New(&out, 1024, time.Hour)
	w.Write([]byte("lost\n"))
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "pipe closed") {
		t.Errorf("Close = %v, want the write's error", err)
	}
}

// BenchmarkRequestLog: a request's log line through slog's JSON handler to a file, written at
// once (as before) or through a Writer. Compare ns/op in one run.
func BenchmarkRequestLog(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "logbuf"}[buffered], func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var out interface {
				Write([]byte) (int, error)
			} = f
			var w *logbuf.Writer
			if buffered {
				w = logbuf.New(f, logbuf.DefaultSize, logbuf.DefaultInterval)
				out = w
			}
			log := slog.New(slog.NewJSONHandler(out, nil))
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(b.Context(), slog.LevelInfo, "request", slog.String("request_id", "fe74ff3f1f121eb7a3b16b74"),
					slog.String("method", "GET"), slog.String("route", "GET /products/{id}"), slog.String("path", "/products/0193"),
					slog.Int("status", 200), slog.Int64("bytes", 4714), slog.Float64("duration_ms", 0.042), slog.String("actor", ""))
			}
			if w != nil {
				w.Close()
			}
		})
	}
}
