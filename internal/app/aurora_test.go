package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/replica"
)

// auroraFakes imitate what Aurora answers, in schemas a connection's search_path puts before
// pg_catalog: a reader (in recovery, no replay position, no replay time, and
// aurora_replica_status() with the writer's row and one reader's lag from aurora_lag), and a
// writer without logical replication (the WAL functions refuse with SQLSTATE 55000; a sequence
// counts the attempts, which a rollback does not undo).
const auroraFakes = `
CREATE TABLE public.aurora_lag (ms real);
INSERT INTO public.aurora_lag VALUES (25);
CREATE SCHEMA aurora_reader;
CREATE FUNCTION aurora_reader.pg_is_in_recovery() RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION aurora_reader.pg_last_wal_replay_lsn() RETURNS pg_lsn LANGUAGE sql AS 'SELECT NULL::pg_lsn';
CREATE FUNCTION aurora_reader.pg_last_xact_replay_timestamp() RETURNS timestamptz LANGUAGE sql AS 'SELECT NULL::timestamptz';
CREATE FUNCTION aurora_reader.aurora_replica_status()
	RETURNS TABLE (server_id text, session_id text, replica_lag_in_msec real) LANGUAGE sql AS $$
	SELECT 'db-writer', 'MASTER_SESSION_ID', NULL::real
	UNION ALL SELECT 'db-reader-1', '7d4e5e0c-0000-4000-8000-000000000001', ms FROM public.aurora_lag $$;
CREATE SCHEMA aurora_writer;
CREATE SEQUENCE aurora_writer.wal_calls;
CREATE FUNCTION aurora_writer.pg_current_wal_insert_lsn() RETURNS pg_lsn LANGUAGE plpgsql AS $$
BEGIN
	PERFORM nextval('aurora_writer.wal_calls');
	RAISE EXCEPTION 'wal_level must be set to ''logical'''
		USING ERRCODE = '55000', HINT = 'WAL control functions cannot be executed when wal_level < logical.';
END $$;`

func withSearchPath(t *testing.T, u, path string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set("search_path", path)
	p.RawQuery = q.Encode()
	return p.String()
}

// TestAuroraReaderProbe (ADR 0022, 2026-12-02): against PostgreSQL answering as Aurora does
// (fakes above), the probe finds no replay position, detects aurora_replica_status() and
// reads the replica within the lag Aurora reports; past the bound, or with no lag reported, the
// writer answers; a read-after token always goes to the writer; the writer's refusal of its WAL
// position is asked once and then answered without a query (ErrNoWritePositions, so writes
// answer without the header and the server's log is not filled with errors).
func TestAuroraReaderProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u, admin := auroraCluster(ctx, t, auroraFakes)
	if _, err := admin.CreateCategory(ctx, catalog.CategoryInput{Slug: "mugs", Name: "Mugs"}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	w, err := postgres.Open(ctx, withSearchPath(t, u, "aurora_writer,pg_catalog,public"), postgres.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rs, err := postgres.Open(ctx, withSearchPath(t, u, "aurora_reader,pg_catalog,public"), postgres.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	writer, reader := &positionsWriter{Store: w, log: log}, &pgReader{Store: rs, log: log}
	router := replica.New(writer, reader, replica.Options{MaxLag: time.Second})

	router.Probe(ctx)
	if st := router.Status(); !st.Up || st.Lag != 25*time.Millisecond {
		t.Fatalf("status %+v, want up with Aurora's 25ms", st)
	}
	if _, err := router.Category(ctx, "mugs"); err != nil {
		t.Fatal(err)
	}
	if st := router.Status(); st.ReaderReads != 1 {
		t.Fatalf("a public read within the reported lag: %+v, want it read on the reader", st)
	}
	if _, err := router.Category(catalog.WithReadAfter(ctx, 1), "mugs"); err != nil {
		t.Fatal(err)
	}
	if st := router.Status(); st.FallbackBehind != 1 {
		t.Fatalf("a read with a token: %+v, want the writer (behind_client): no position to compare", st)
	}

	for _, tc := range []struct {
		lag  string
		want time.Duration
	}{{"1500", -1}, {"NULL", -1}, {"0", 0}} {
		if _, err := admin.Pool().Exec(ctx, "UPDATE aurora_lag SET ms = "+tc.lag); err != nil {
			t.Fatal(err)
		}
		router.Probe(ctx)
		before := router.Status()
		if _, err := router.Category(ctx, "mugs"); err != nil {
			t.Fatal(err)
		}
		after := router.Status()
		toReader := after.ReaderReads > before.ReaderReads
		if (tc.want >= 0) != toReader || (tc.want >= 0 && after.Lag != tc.want) {
			t.Errorf("reported lag %s ms: status %+v, read on the reader %v", tc.lag, after, toReader)
		}
	}

	// The writer was asked for its position once; later calls answer without a query.
	for range 3 {
		if _, err := writer.WritePosition(ctx); !errors.Is(err, httpapi.ErrNoWritePositions) {
			t.Fatalf("WritePosition = %v, want ErrNoWritePositions", err)
		}
	}
	var calls int64
	if err := admin.Pool().QueryRow(ctx, "SELECT last_value FROM aurora_writer.wal_calls").Scan(&calls); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("the writer's WAL position was asked %d times, want once", calls)
	}
	if n := strings.Count(logs.String(), "gives no WAL positions"); n != 1 {
		t.Errorf("the writer's refusal was logged %d times, want once: %s", n, logs.String())
	}
}

// TestReaderWithoutPositionOrAurora: a server in recovery that gives no replay position and
// has no aurora_replica_status() has an unknown lag: the router does not read it.
func TestReaderWithoutPositionOrAurora(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u, admin := auroraCluster(ctx, t, auroraFakes+`; DROP FUNCTION aurora_reader.aurora_replica_status()`)
	rs, err := postgres.Open(ctx, withSearchPath(t, u, "aurora_reader,pg_catalog,public"), postgres.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	reader := &pgReader{Store: rs, log: slog.New(slog.DiscardHandler)}
	rep, err := reader.Replay(ctx)
	if err != nil || rep.Primary || rep.Known || rep.LagReported {
		t.Fatalf("Replay = %+v, %v; want in recovery, no position, no reported lag", rep, err)
	}
	router := replica.New(admin, reader, replica.Options{MaxLag: time.Second})
	router.Probe(ctx)
	if st := router.Status(); st.Lag >= 0 && st.Up {
		t.Fatalf("status %+v, want the lag unknown", st)
	}
}

// auroraCluster opens the test cluster as its owner and installs fakes (SQL), closing the store
// when the test ends: the URL and the owner's store.
func auroraCluster(ctx context.Context, t *testing.T, fakes string) (string, *postgres.Store) {
	t.Helper()
	u := pgtest.URL(t)
	admin, err := postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Pool().Exec(ctx, fakes); err != nil {
		t.Fatal(err)
	}
	return u, admin
}
