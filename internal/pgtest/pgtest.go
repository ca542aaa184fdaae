// Package pgtest gives tests a real PostgreSQL: the server named by DATABASE_URL when it is set,
// or else a throw-away cluster started from initdb and pg_ctl on PATH in a temporary directory,
// listening only on a unix socket there. Every test gets its own database, dropped afterwards.
//
// When running as root (as CI does) the cluster runs as the "postgres" user, because initdb
// refuses root. Without PostgreSQL the tests skip, except under CI=true, where that is a failure.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running PostgreSQL server a test may stop and start (the fault tests do).
type Cluster struct {
	// AdminURL connects as a superuser to the maintenance database.
	AdminURL string
	// SocketDir is the unix socket directory of a private cluster.
	SocketDir string
	// TCPPort is the TLS port on 127.0.0.1 when the cluster was started with TLS.
	TCPPort int
	dir     string // data directory; empty for an external server
	cred    *syscall.Credential
	log     string
}

var (
	shared    *Cluster
	sharedErr error
	once      sync.Once
)

// Main runs a test binary's tests and stops the cluster they shared. Use it from TestMain.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if shared != nil {
		shared.stop()
		os.RemoveAll(filepath.Dir(shared.dir))
	}
	os.Exit(code)
}

// Shared returns the cluster for this test binary, starting it on first use.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv("DATABASE_URL"); u != "" {
			shared = &Cluster{AdminURL: u}
			return
		}
		shared, sharedErr = Start()
	})
	if sharedErr != nil {
		unavailable(t, sharedErr)
	}
	return shared
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is required under CI=true: %v", err)
	}
	t.Skipf("no PostgreSQL (set DATABASE_URL or put initdb and pg_ctl on PATH): %v", err)
}

// URL returns the connection string of a new, empty database for this test, dropped when the
// test ends.
func URL(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	name := "catalog_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return WithDatabase(c.AdminURL, name)
}

// WithDatabase returns connString pointing at database name.
func WithDatabase(connString, name string) string {
	u, err := url.Parse(connString)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	// keyword/value form
	return connString + " dbname=" + name
}

// Exec runs one statement as the superuser on the maintenance database.
func (c *Cluster) Exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.AdminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Options shape a private cluster.
type Options struct {
	// CommitDurably turns synchronous_commit back on, so a commit is in the WAL before it is
	// acknowledged and survives an immediate (crash) stop. Tests that stop the server need it;
	// the others run faster without it. fsync stays off: the machine does not crash, only the
	// server.
	CommitDurably bool
	// TLS, when set, also listens on 127.0.0.1 (port TCPPort) with TLS from these PEM files.
	TLS *TLSFiles
}

// TLSFiles are a server certificate and key in PEM.
type TLSFiles struct {
	CertPEM, KeyPEM []byte
}

// Start initialises and starts a private cluster in a new temporary directory.
func Start() (*Cluster, error) { return StartWith(Options{}) }

// StartWith starts a private cluster shaped by opts. The superuser "postgres" connects without
// a password; every other role must give its password (scram-sha-256), so tests of credentials
// mean something.
func StartWith(opts Options) (*Cluster, error) {
	for _, bin := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not on PATH", bin)
		}
	}
	root, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: filepath.Join(root, "data"), log: filepath.Join(root, "server.log")}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(root)
		return nil, err
	}
	if os.Geteuid() == 0 {
		cred, err := postgresUser()
		if err != nil {
			return fail(err)
		}
		c.cred = cred
		if err := os.Chown(root, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
		// The socket and data live under root; the parent must let the postgres user in.
		os.Chmod(root, 0o755)
	}
	if out, err := c.run("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	settings := []string{
		"listen_addresses = ''",
		"unix_socket_directories = '" + root + "'",
		"max_connections = 300",
		"shared_buffers = 128MB",
		// Durability is not under test here; speed is welcome.
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"log_min_messages = warning",
	}
	if opts.CommitDurably {
		settings = append(settings, "synchronous_commit = on")
	}
	hba := "local all postgres trust\nlocal all all scram-sha-256\n"
	if opts.TLS != nil {
		port, err := freeTCPPort()
		if err != nil {
			return fail(err)
		}
		c.TCPPort = port
		for name, b := range map[string][]byte{"server.crt": opts.TLS.CertPEM, "server.key": opts.TLS.KeyPEM} {
			if err := os.WriteFile(filepath.Join(c.dir, name), b, 0o600); err != nil {
				return fail(err)
			}
			if c.cred != nil {
				os.Chown(filepath.Join(c.dir, name), int(c.cred.Uid), int(c.cred.Gid))
			}
		}
		settings[0] = "listen_addresses = '127.0.0.1'"
		settings = append(settings, fmt.Sprintf("port = %d", port), "ssl = on",
			"ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'")
		hba += "hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all postgres 127.0.0.1/32 trust\n"
	}
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	f.WriteString(strings.Join(settings, "\n") + "\n")
	f.Close()
	if err := os.WriteFile(filepath.Join(c.dir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return fail(err)
	}
	if c.cred != nil {
		os.Chown(filepath.Join(c.dir, "pg_hba.conf"), int(c.cred.Uid), int(c.cred.Gid))
	}
	c.SocketDir = root
	q := url.Values{"host": {root}, "sslmode": {"disable"}}
	if c.TCPPort != 0 {
		q.Set("port", strconv.Itoa(c.TCPPort)) // the socket is named after the port
	}
	c.AdminURL = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres", RawQuery: q.Encode()}).String()
	if err := c.Start(); err != nil {
		return fail(err)
	}
	return c, nil
}

func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Close stops a cluster started with StartWith and removes its files.
func (c *Cluster) Close() {
	c.stop()
	if c.dir != "" {
		os.RemoveAll(filepath.Dir(c.dir))
	}
}

// Dir returns the cluster's directory (socket and log), empty for an external server.
func (c *Cluster) Dir() string {
	if c.dir == "" {
		return ""
	}
	return filepath.Dir(c.dir)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() error {
	if c.dir == "" {
		return fmt.Errorf("an external server (DATABASE_URL) cannot be started by the tests")
	}
	if out, err := c.run("pg_ctl", "-D", c.dir, "-l", c.log, "-w", "-t", "60", "start"); err != nil {
		logText, _ := os.ReadFile(c.log)
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, logText)
	}
	return nil
}

// Stop stops the server, disconnecting every client at once (a crash-like outage).
func (c *Cluster) Stop() error {
	if c.dir == "" {
		return fmt.Errorf("an external server (DATABASE_URL) cannot be stopped by the tests")
	}
	if out, err := c.run("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// External reports whether the server came from DATABASE_URL (and so cannot be stopped).
func (c *Cluster) External() bool { return c.dir == "" }

func (c *Cluster) stop() {
	if c.dir != "" {
		c.run("pg_ctl", "-D", c.dir, "-m", "fast", "-w", "stop")
	}
}

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = os.TempDir()
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(c.dir))
	}
	err := cmd.Run()
	return out.Bytes(), err
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user to run the server: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RoleName returns a new random role name for this test and drops that role, if it exists by
// then, when the test ends: after the databases the test made later, which hold its grants.
func RoleName(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	name := "catalog_role_" + randomHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Exec(ctx, "DROP ROLE IF EXISTS "+name); err != nil {
			t.Logf("drop test role %s: %v", name, err)
		}
	})
	return name
}

// Role creates a login role with a random name and password and the given attributes
// ("CREATEROLE", say), dropped when the test ends. Roles other than postgres log in with their
// password (scram-sha-256 in pg_hba.conf), as on a real server.
func Role(t testing.TB, attributes string) (name, password string) {
	t.Helper()
	name, password = RoleName(t), randomHex(16)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Shared(t).Exec(ctx, "CREATE ROLE "+name+" LOGIN "+attributes+" PASSWORD '"+password+"'"); err != nil {
		t.Fatalf("create test role: %v", err)
	}
	return name, password
}

// URLOwnedBy returns the connection string of a new, empty database owned by owner (as the
// master user owns the database on RDS), connecting as the superuser; dropped when the test ends.
func URLOwnedBy(t testing.TB, owner string) string {
	t.Helper()
	c := Shared(t)
	name := "catalog_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Exec(ctx, "CREATE DATABASE "+name+" OWNER "+owner); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return WithDatabase(c.AdminURL, name)
}

// AsUser returns connString connecting as user with password ("" for none).
func AsUser(connString, user, password string) string {
	u, err := url.Parse(connString)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if password == "" {
			u.User = url.User(user)
		} else {
			u.User = url.UserPassword(user, password)
		}
		return u.String()
	}
	s := connString + " user=" + user
	if password != "" {
		s += " password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password) + "'"
	}
	return s
}
