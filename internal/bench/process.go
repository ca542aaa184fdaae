package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ProcessFigures are measured on the real binary, as a separate process.
type ProcessFigures struct {
	BinaryBytes  int64
	StartToReady time.Duration // best of several starts on an already-migrated database
	IdleRSSKB    int64
	LoadedRSSKB  int64 // peak after a burst of reads
}

// MeasureProcess builds cmd/catalog (from the module root, the working directory of `go run`),
// starts it against databaseURL (already migrated) or an empty SQLite directory, and measures
// start-up time to /ready and resident memory idle and after load.
func MeasureProcess(ctx context.Context, databaseURL string, runs int) (ProcessFigures, error) {
	var f ProcessFigures
	dir, err := os.MkdirTemp("", "catalog-proc")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "catalog")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/catalog")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return f, fmt.Errorf("build the binary (run from the repository root): %v: %s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		return f, err
	}
	f.BinaryBytes = st.Size()

	env := append(os.Environ(), "LOG_LEVEL=warn", "SEED_SAMPLE=false", "DATA_DIR="+filepath.Join(dir, "data"))
	if databaseURL != "" {
		env = append(env, "DATABASE_URL="+databaseURL)
	}
	for i := range runs + 1 {
		port, err := freePort()
		if err != nil {
			return f, err
		}
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(env, "PORT="+strconv.Itoa(port))
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return f, err
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		ready := waitReady(base, 30*time.Second)
		elapsed := time.Since(start)
		if !ready {
			cmd.Process.Kill()
			cmd.Wait()
			return f, fmt.Errorf("the binary did not become ready")
		}
		// The first run migrates an empty SQLite store; the others start on a migrated one.
		if i > 0 && (f.StartToReady == 0 || elapsed < f.StartToReady) {
			f.StartToReady = elapsed
		}
		if i == runs {
			time.Sleep(time.Second)
			f.IdleRSSKB = rssKB(cmd.Process.Pid, "VmRSS:")
			client := &http.Client{}
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) {
				if resp, err := client.Get(base + "/products?limit=20"); err == nil {
					resp.Body.Close()
				}
			}
			f.LoadedRSSKB = rssKB(cmd.Process.Pid, "VmHWM:")
		}
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	return f, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(base string, within time.Duration) bool {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(base + "/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
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
