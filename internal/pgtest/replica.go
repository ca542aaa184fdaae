package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Replica is a hot standby of a private cluster, streaming its WAL through a physical
// replication slot (so WAL it has not received yet is kept while it is stopped). It is a
// Cluster of its own: its own data directory, socket directory and port; Stop and Start take it
// away and bring it back.
type Replica struct {
	*Cluster
	primary *Cluster
	slot    string
}

// StartReplica starts a streaming replica of the test binary's shared cluster (pg_basebackup
// -R), stopped and removed when the test ends. It skips (fails under CI=true) where there is no
// private cluster to replicate: a DATABASE_URL server is not the tests' to reconfigure.
func StartReplica(t testing.TB) *Replica {
	t.Helper()
	c := Shared(t)
	if c.External() {
		unavailable(t, fmt.Errorf("a replica needs the tests' own cluster, not DATABASE_URL"))
	}
	r, err := c.StartReplica()
	if err != nil {
		t.Fatalf("start replica: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// StartReplica takes a base backup of c and starts it as a hot standby.
func (c *Cluster) StartReplica() (*Replica, error) {
	if c.External() {
		return nil, fmt.Errorf("an external server (DATABASE_URL) cannot be replicated by the tests")
	}
	if err := c.allowReplication(); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "pgreplica")
	if err != nil {
		return nil, err
	}
	r := &Replica{Cluster: &Cluster{dir: filepath.Join(root, "data"), log: filepath.Join(root, "server.log"), cred: c.cred, SocketDir: root},
		primary: c, slot: "replica_" + randomHex(6)}
	fail := func(err error) (*Replica, error) {
		os.RemoveAll(root)
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(root, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fail(err)
		}
		os.Chmod(root, 0o755)
	}
	source := "host=" + c.SocketDir + " user=postgres"
	if c.TCPPort != 0 {
		source += " port=" + strconv.Itoa(c.TCPPort)
	}
	// -R writes primary_conninfo and standby.signal; -C -S make the slot that keeps the WAL.
	if out, err := c.run("pg_basebackup", "-D", r.dir, "-d", source, "-R", "-X", "stream", "-C", "-S", r.slot,
		"-c", "fast", "--no-sync"); err != nil {
		return fail(fmt.Errorf("pg_basebackup: %v: %s", err, out))
	}
	port, err := freeTCPPort()
	if err != nil {
		r.dropSlot()
		return fail(err)
	}
	settings := []string{
		"listen_addresses = ''", // the primary may listen on TCP with TLS; the replica needs neither
		"ssl = off",
		"unix_socket_directories = '" + root + "'",
		fmt.Sprintf("port = %d", port),
		"hot_standby = on",
		// Replies often, so the primary's view of the replica is current in the tests.
		"wal_receiver_status_interval = 1s",
	}
	f, err := os.OpenFile(filepath.Join(r.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		r.dropSlot()
		return fail(err)
	}
	f.WriteString("\n" + strings.Join(settings, "\n") + "\n")
	f.Close()
	r.AdminURL = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {root}, "port": {strconv.Itoa(port)}, "sslmode": {"disable"}}.Encode()}).String()
	if err := r.Cluster.Start(); err != nil {
		r.dropSlot()
		return fail(err)
	}
	return r, nil
}

// allowReplication lets the superuser open replication connections on the socket (initdb's
// "all" does not match them) and reloads the configuration.
func (c *Cluster) allowReplication() error {
	path := filepath.Join(c.dir, "pg_hba.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	const line = "local replication postgres trust\n"
	if strings.Contains(string(b), line) {
		return nil
	}
	if err := os.WriteFile(path, append([]byte(line), b...), 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Exec(ctx, "SELECT pg_reload_conf()")
}

// URL returns primaryURL (a database on the primary) pointing at the same database on the
// replica, connecting as the same user.
func (r *Replica) URL(primaryURL string) string {
	u, err := url.Parse(primaryURL)
	if err != nil {
		return ""
	}
	ru, _ := url.Parse(r.AdminURL)
	q := u.Query()
	q.Set("host", ru.Query().Get("host"))
	q.Set("port", ru.Query().Get("port"))
	u.RawQuery = q.Encode()
	return u.String()
}

// PauseReplay stops the replica applying WAL (it keeps receiving it): the replica lags from
// now on, as one does under load.
func (r *Replica) PauseReplay(ctx context.Context) error {
	return r.Exec(ctx, "SELECT pg_wal_replay_pause()")
}

// ResumeReplay lets the replica apply WAL again.
func (r *Replica) ResumeReplay(ctx context.Context) error {
	return r.Exec(ctx, "SELECT pg_wal_replay_resume()")
}

// WaitCaughtUp waits until the replica has replayed everything the primary had written when it
// was called.
func (r *Replica) WaitCaughtUp(ctx context.Context) error {
	var target string
	conn, err := pgx.Connect(ctx, r.primary.AdminURL)
	if err != nil {
		return err
	}
	err = conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&target)
	conn.Close(ctx)
	if err != nil {
		return err
	}
	rc, err := pgx.Connect(ctx, r.AdminURL)
	if err != nil {
		return err
	}
	defer rc.Close(ctx)
	for {
		var done bool
		if err := rc.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the replica did not replay up to %s: %w", target, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// QueryRow runs one query as the superuser on the replica's maintenance database and scans its
// row into dest.
func (r *Replica) QueryRow(ctx context.Context, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, r.AdminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// Close stops the replica, removes its files and drops its slot on the primary.
func (r *Replica) Close() {
	r.Cluster.Close()
	r.dropSlot()
}

func (r *Replica) dropSlot() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.primary.Exec(ctx, "SELECT pg_drop_replication_slot('"+r.slot+"') FROM pg_replication_slots WHERE slot_name = '"+r.slot+"'")
}
