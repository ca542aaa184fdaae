package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/pgtest"
)

// launch runs the program without waiting for it to become ready.
func launch(t *testing.T, env map[string]string) (in *instance, stderr *syncBuffer) {
	t.Helper()
	port := freePort(t)
	vars := map[string]string{"DATA_DIR": t.TempDir(), "API_KEYS": testKey, "LOG_LEVEL": "info", "METRICS_PORT": "0"}
	for k, v := range env {
		vars[k] = v
	}
	vars["PORT"] = strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	in = &instance{base: fmt.Sprintf("http://127.0.0.1:%d", port), port: port, stop: cancel, done: make(chan int, 1), stdout: &syncBuffer{}}
	stderr = &syncBuffer{}
	go func() {
		in.done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, in.stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-in.done:
			in.done <- code
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop within 30s")
		}
	})
	return in, stderr
}

// answer returns a GET's status, headers and body, or status 0 when nothing answers.
func answer(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func stoppedCluster(t *testing.T) *pgtest.Cluster {
	t.Helper()
	c, err := pgtest.StartWith(pgtest.Options{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true: %v", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	t.Cleanup(c.Close)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStartsBeforeTheDatabase is the first deploy on AWS: the task starts while the Aurora
// writer is still being created. The process must stay up, live but not ready, and begin
// serving once the database comes.
func TestStartsBeforeTheDatabase(t *testing.T) {
	c := stoppedCluster(t)
	in, stderr := launch(t, map[string]string{"DATABASE_URL": c.AdminURL, "DB_STARTUP_TIMEOUT": "2m"})

	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _, _ := answer(t, in.base+"/health"); code == 200 {
			break
		}
		select {
		case code := <-in.done:
			t.Fatalf("the server exited with %d before the database came:\n%s\n%s", code, stderr, in.stdout)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health did not answer 200 within 10s:\n%s", in.stdout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, body := answer(t, in.base+"/ready"); code != 503 {
		t.Fatalf("/ready before the database: %d %s, want 503", code, body)
	}
	code, h, body := answer(t, in.base+"/products")
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(body, &e)
	if code != 503 || h.Get("Retry-After") == "" || e.Error.Code != "unavailable" {
		t.Fatalf("GET /products before the database: %d, Retry-After %q, %s; want 503, a Retry-After and code unavailable", code, h.Get("Retry-After"), body)
	}

	time.Sleep(5 * time.Second)
	select {
	case code := <-in.done:
		t.Fatalf("the server exited with %d while waiting:\n%s\n%s", code, stderr, in.stdout)
	default:
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		if code, _, _ := answer(t, in.base+"/ready"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 60s after the database came:\n%s\n%s", stderr, in.stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	exercise(t, in.base, false)
	logs := in.stdout.String()
	if !strings.Contains(logs, `"attempt":2`) || !strings.Contains(logs, `"next_delay"`) {
		t.Errorf("the retries are not logged with attempt and next delay:\n%s", logs)
	}
	in.stop()
	if code := <-in.done; code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, stderr)
	}
	in.done <- 0
}

// TestGivesUpWhenTheDatabaseNeverComes: after DB_STARTUP_TIMEOUT the process exits non-zero,
// naming the database it waited for and never its password.
func TestGivesUpWhenTheDatabaseNeverComes(t *testing.T) {
	port := freePort(t) // nothing listens there
	start := time.Now()
	in, stderr := launch(t, map[string]string{
		"DATABASE_URL":       fmt.Sprintf("postgres://app:s3cret-pw@127.0.0.1:%d/shopdb?sslmode=disable", port),
		"DB_STARTUP_TIMEOUT": "2s",
	})
	var code int
	select {
	case code = <-in.done:
		in.done <- code
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20s after a 2s start-up timeout")
	}
	elapsed := time.Since(start)
	msg := stderr.String()
	if code == 0 || elapsed < 2*time.Second {
		t.Fatalf("exit %d after %s, want non-zero after the 2s deadline: %s", code, elapsed, msg)
	}
	for _, want := range []string{fmt.Sprintf("127.0.0.1:%d", port), "shopdb", "2s"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not name %q: %s", want, msg)
		}
	}
	if strings.Contains(msg+in.stdout.String(), "s3cret-pw") {
		t.Errorf("the password leaked:\n%s\n%s", msg, in.stdout)
	}
}

// TestStopWhileWaiting: SIGTERM during the wait is a normal shutdown.
func TestStopWhileWaiting(t *testing.T) {
	in, stderr := launch(t, map[string]string{
		"DATABASE_URL": fmt.Sprintf("postgres://app@127.0.0.1:%d/shopdb?sslmode=disable", freePort(t)),
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _, _ := answer(t, in.base+"/health"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health did not answer: %s", stderr)
		}
	}
	time.Sleep(600 * time.Millisecond) // a few attempts in
	in.stop()
	select {
	case code := <-in.done:
		in.done <- code
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM while waiting: %s", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM while waiting for the database did not stop the server within 10s")
	}
}

// TestFailsFastOnWhatRetryingCannotFix: configuration mistakes end the process at once instead
// of after DB_STARTUP_TIMEOUT.
func TestFailsFastOnWhatRetryingCannotFix(t *testing.T) {
	cases := map[string]func(t *testing.T) map[string]string{
		"malformed URL": func(*testing.T) map[string]string {
			return map[string]string{"DATABASE_URL": "postgres://app:s3cret-pw@host:notaport/db"}
		},
		// Without the bundle in this build the bundle is missing; with it, the connection has
		// no TLS to verify: both are configuration, and both are refused at once.
		"RDS CA": func(*testing.T) map[string]string {
			return map[string]string{"DATABASE_URL": "postgres://app:s3cret-pw@127.0.0.1:1/db?sslmode=disable", "DB_SSLROOTCERT": "rds"}
		},
		// A static password the server refuses stays refused; a secret's would be read again.
		"wrong static password": func(t *testing.T) map[string]string {
			c := pgtest.Shared(t)
			role := "startup_app_" + strconv.Itoa(os.Getpid())
			if err := c.Exec(context.Background(), "CREATE ROLE "+role+" LOGIN PASSWORD 'right-password'"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
			u := strings.Replace(pgtest.WithDatabase(c.AdminURL, "postgres"), "postgres@", role+":s3cret-pw@", 1)
			return map[string]string{"DATABASE_URL": u}
		},
		// An applied migration edited since: the schema is not what this binary expects.
		"edited migration": func(t *testing.T) map[string]string {
			url := pgtest.URL(t)
			env := func(k string) string { return map[string]string{"DATABASE_URL": url}[k] }
			if code := run(context.Background(), []string{"migrate"}, env, io.Discard, io.Discard); code != 0 {
				t.Fatalf("migrate exited %d", code)
			}
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"DATABASE_URL": url}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			env := setup(t)
			env["DB_STARTUP_TIMEOUT"] = "1m"
			start := time.Now()
			in, stderr := launch(t, env)
			select {
			case code := <-in.done:
				in.done <- code
				if code == 0 {
					t.Fatalf("exit 0: %s", stderr)
				}
				if strings.Contains(stderr.String()+in.stdout.String(), "s3cret-pw") {
					t.Fatalf("the password leaked:\n%s\n%s", stderr, in.stdout)
				}
				t.Logf("exit %d after %s: %s", code, time.Since(start).Round(time.Millisecond), stderr)
			case <-time.After(15 * time.Second):
				t.Fatalf("still waiting after 15s; want a fast failure:\n%s", in.stdout)
			}
		})
	}
}
