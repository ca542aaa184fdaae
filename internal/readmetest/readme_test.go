package readmetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// marker, on a line of its own, precedes a ```sh block the test runs.
const marker = "\n<!-- readme-test -->\n"

// key is the README's own example key; the test starts the binary with it, as the README does.
const key = "dev-key-0123456789abcdef"

// blocks returns the marked ```sh blocks of a Markdown document, in order.
func blocks(t *testing.T, doc string) []string {
	t.Helper()
	var out []string
	rest := doc
	for {
		i := strings.Index(rest, marker)
		if i < 0 {
			return out
		}
		rest = strings.TrimLeft(rest[i+len(marker):], " \t\n")
		if !strings.HasPrefix(rest, "```sh\n") {
			t.Fatalf("%s must be followed by a ```sh block, found %.40q", marker, rest)
		}
		rest = rest[len("```sh\n"):]
		end := strings.Index(rest, "\n```")
		if end < 0 {
			t.Fatal("a marked ```sh block is not closed")
		}
		out = append(out, rest[:end+1])
		rest = rest[end:]
	}
}

var (
	curlRE        = regexp.MustCompile(`\bcurl\b[^\n]*`)
	failFlagRE    = regexp.MustCompile(`(^|\s)(-[a-zA-Z]*f[a-zA-Z]*|--fail|--fail-with-body)(\s|$)`)
	statusCheckRE = regexp.MustCompile(`^test "\$\(curl [^\n]*-w '%\{http_code\}'[^\n]*\)" = [1-5][0-9][0-9]$`)
	placeholderRE = regexp.MustCompile(`<[a-z][a-z ]*>`)
	fixedDateRE   = regexp.MustCompile(`\b20[0-9][0-9]-[01][0-9]-[0-3][0-9]`)
)

// lint holds the examples to rules that make running them meaningful: every curl states the
// status it expects (-f for a 2xx, or a test of %{http_code}), no <placeholder> a shell cannot
// fill, no date that will one day be in the past.
func lint(t *testing.T, script string) {
	t.Helper()
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, c := range curlRE.FindAllString(line, -1) {
			if !failFlagRE.MatchString(c) && !statusCheckRE.MatchString(line) {
				t.Errorf("README example %q: a curl must use -f (2xx expected) or be a `test \"$(curl ... -w '%%{http_code}')\" = NNN`", line)
			}
		}
		if m := placeholderRE.FindString(line); m != "" {
			t.Errorf("README example %q: placeholder %s: capture the value in a shell variable instead", line, m)
		}
		if m := fixedDateRE.FindString(line); m != "" {
			t.Errorf("README example %q: fixed date %s: compute it with date -u -d ...", line, m)
		}
	}
}

func TestReadmeExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed to run the README's examples (scripts/test.sh installs jq)", tool)
			}
			t.Skipf("%s is not installed; the README's examples need it", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	bs := blocks(t, string(readme))
	if len(bs) < 2 {
		t.Fatalf("found %d marked blocks in README.md, want the API examples", len(bs))
	}
	script := strings.Join(bs, "\n")
	lint(t, script)

	port := serve(t)
	script = strings.ReplaceAll(script, "localhost:8080", fmt.Sprintf("127.0.0.1:%d", port))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// -x prints each command before it runs, so a failure shows which example broke.
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-x", "-c", script)
	cmd.Env = append(os.Environ(), "KEY="+key)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's examples failed (%v); the last command shown is the one that broke:\n%s", err, out)
	}
	t.Logf("README examples ran:\n%s", out)
}

// serve builds the real binary and starts it on a free port with the README's key and the
// sample catalog, and stops it when the test ends.
func serve(t *testing.T) int {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "catalog")
	build := exec.Command("go", "build", "-o", bin, "github.com/acme/catalog/cmd/catalog")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var logs bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "DATA_DIR="+filepath.Join(dir, "data"),
		"API_KEYS=dev:read,catalog,inventory,checkout:"+key, "METRICS_PORT=0", "LOG_LEVEL=warn", "SEED_SAMPLE=true", "DATABASE_URL=", "DB_HOST=")
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			srv.Process.Kill()
			t.Error("the server did not stop within 30s of SIGTERM")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("the server exited: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", port)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return port
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server was not ready within 60s:\n%s", logs.String())
	return 0
}
