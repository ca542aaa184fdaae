package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Binary is cmd/catalog built as the Dockerfile builds it, once per bench run, for every
// measurement that runs it as a process. The zero value is ready to use; Close removes it.
type Binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary on first use and returns where it is.
func (b *Binary) Path(ctx context.Context) (string, error) {
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "catalog-bin"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "catalog")
		// The package path, not ./cmd/catalog, so it builds from any directory of the module
		// (tests run in their package's directory).
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", b.path, "github.com/acme/catalog/cmd/catalog")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build the catalog binary (run inside the module): %v: %s", err, out)
		}
	})
	return b.path, b.err
}

// Close removes the built binary.
func (b *Binary) Close() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// process is the catalog binary running as a child process.
type process struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	log  string // file holding its stdout and stderr
	done chan struct{}
	err  error // what Wait returned, once done is closed
}

// startProcess runs bin with args, its output going to logPath. The child sees only PATH,
// TMPDIR and vars: no DATABASE_URL, AWS profile or other setting of the bench's own
// environment leaks into what is being measured.
func startProcess(bin, logPath string, port int, vars map[string]string, args ...string) (*process, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = processEnv(vars)
	if port != 0 {
		cmd.Env = append(cmd.Env, "PORT="+strconv.Itoa(port))
	}
	// Several instances run at once: each takes a free metrics port. The bench's clients all
	// come from 127.0.0.1, so the rate limits stay on (their cost is measured) but far above
	// what the load generator sends.
	for k, v := range map[string]string{"METRICS_PORT": "0", "RATE_LIMIT_PER_IP": "1000000/s:1000000", "RATE_LIMIT_PER_KEY": "1000000/s:1000000"} {
		if _, set := vars[k]; !set {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func processEnv(vars map[string]string) []string {
	var env []string
	for _, k := range []string{"PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// runProcess runs bin with args to completion (a subcommand such as seed).
func runProcess(ctx context.Context, bin string, vars map[string]string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = processEnv(vars)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("catalog %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ready waits until the process answers /ready with 200, failing if it exits first.
func (p *process) ready(ctx context.Context, within time.Duration) error {
	readyCtx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-readyCtx.Done():
		}
	}()
	if waitReady(readyCtx, p.base) {
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("the catalog process exited (%v) before it was ready:\n%s", p.err, p.logTail())
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("the catalog process was not ready within %s:\n%s", within, p.logTail())
}

// stop sends SIGTERM, as ECS does, and waits up to grace for the process to exit before
// killing it. It returns the exit status: nil for a clean exit.
func (p *process) stop(grace time.Duration) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("still running %s after SIGTERM; killed", grace)
	}
}

// logTail returns the end of the process's output, for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	const most = 2000
	if len(b) > most {
		b = b[len(b)-most:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// ProcessFigures are measured on the real binary, as a separate process.
type ProcessFigures struct {
	BinaryBytes  int64
	StartToReady time.Duration // best of several starts on an already-migrated database
	IdleRSSKB    int64
	LoadedRSSKB  int64 // peak after a burst of reads
}

// MeasureProcess starts the binary at bin against databaseURL (already migrated) or an empty
// SQLite directory, and measures start-up time to /ready and resident memory idle and after
// load.
func MeasureProcess(ctx context.Context, bin, databaseURL string, runs int) (ProcessFigures, error) {
	var f ProcessFigures
	st, err := os.Stat(bin)
	if err != nil {
		return f, err
	}
	f.BinaryBytes = st.Size()
	dir, err := os.MkdirTemp("", "catalog-proc")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(dir)

	vars := map[string]string{"LOG_LEVEL": "warn", "SEED_SAMPLE": "false", "DATA_DIR": filepath.Join(dir, "data")}
	if databaseURL != "" {
		vars["DATABASE_URL"] = databaseURL
	}
	for i := range runs + 1 {
		port, err := freePort()
		if err != nil {
			return f, err
		}
		start := time.Now()
		p, err := startProcess(bin, filepath.Join(dir, "catalog.log"), port, vars, "serve")
		if err != nil {
			return f, err
		}
		err = p.ready(ctx, 30*time.Second)
		elapsed := time.Since(start)
		if err != nil {
			p.stop(time.Second)
			return f, err
		}
		// The first run migrates an empty SQLite store; the others start on a migrated one.
		if i > 0 && (f.StartToReady == 0 || elapsed < f.StartToReady) {
			f.StartToReady = elapsed
		}
		if i == runs {
			time.Sleep(time.Second)
			f.IdleRSSKB = rssKB(p.cmd.Process.Pid, "VmRSS:")
			client := &http.Client{}
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if resp, err := client.Get(p.base + "/products?limit=20"); err == nil {
					resp.Body.Close()
				}
			}
			f.LoadedRSSKB = rssKB(p.cmd.Process.Pid, "VmHWM:")
		}
		if err := p.stop(10 * time.Second); err != nil {
			return f, fmt.Errorf("stop the catalog process: %w", err)
		}
	}
	return f, ctx.Err()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls base's /ready until it answers 200 or ctx ends.
func waitReady(ctx context.Context, base string) bool {
	client := &http.Client{Timeout: time.Second}
	for ctx.Err() == nil {
		if code, _ := status(ctx, client, base+"/ready"); code == http.StatusOK {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Millisecond):
		}
	}
	return false
}

// status GETs u and returns the status code (0 when there was no answer).
func status(ctx context.Context, client *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func rssKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
