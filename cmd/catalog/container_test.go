package main

import (
	"debug/elf"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestContainerBinary checks what the image relies on without a Docker engine: the binary built
// as the Dockerfile builds it is static, runs as the distroless nonroot user (65532) with the
// root directory unwritable to it, and answers its own health check.
func TestContainerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "catalog")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test-1.2.3", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (program header %v)", p.Type)
		}
	}
	f.Close()
	st, _ := os.Stat(bin)
	t.Logf("static binary: %.1f MB", float64(st.Size())/(1<<20))

	if out, err := exec.Command(bin, "version").Output(); err != nil || string(out) != "catalog test-1.2.3\n" {
		t.Fatalf("version: %q %v", out, err)
	}

	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root")
	}
	const uid = 65532
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	os.Chown(data, uid, uid)
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is private to root
	port := freePort(t)
	env := []string{"PORT=" + strconv.Itoa(port), "DATA_DIR=" + data, "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=5s", "METRICS_PORT=0"}
	asNonroot := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}

	// The root directory is not writable for the user: a write there fails, so the service may
	// only write to its data directory.
	if err := os.WriteFile("/.catalog-write-probe", nil, 0o600); err == nil {
		os.Remove("/.catalog-write-probe")
		check := exec.Command("sh", "-c", "touch /.catalog-nonroot-probe")
		check.SysProcAttr = asNonroot
		if check.Run() == nil {
			os.Remove("/.catalog-nonroot-probe")
			t.Fatal("uid 65532 can write to /: the test cannot show the service runs without it")
		}
	}

	srv := exec.Command(bin, "serve")
	srv.Dir = "/"
	srv.Env = env
	srv.SysProcAttr = asNonroot
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the non-root server did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	hc := exec.Command(bin, "healthcheck")
	hc.Env = env
	hc.SysProcAttr = asNonroot
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck as the container runs it: %v %s", err, out)
	}
	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10s of SIGTERM")
	}
	if err := hc.Run(); err == nil {
		t.Fatal("healthcheck succeeded with the server stopped")
	}
}
