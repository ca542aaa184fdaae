package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// migrate runs `catalog migrate` with env and returns its exit code, stdout and stderr.
func migrate(t *testing.T, env map[string]string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, []string{"migrate"}, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// ownedDatabase returns a new database owned by a role like the RDS master user (CREATEROLE, no
// superuser), connecting as that owner, and the superuser's connection string to it.
func ownedDatabase(t *testing.T) (ownerURL, adminURL string) {
	t.Helper()
	owner, pw := pgtest.Role(t, "CREATEROLE")
	adminURL = pgtest.URLOwnedBy(t, owner)
	return pgtest.AsUser(adminURL, owner, pw), adminURL
}

// TestMigrateThenServeAsAppRole is the deploy order locally: `catalog migrate` as the owner
// with DB_APP_ROLE (twice: the second run changes nothing and succeeds), then the service
// as the app role with MIGRATE_ON_START=false, driven through the API.
func TestMigrateThenServeAsAppRole(t *testing.T) {
	app := pgtest.RoleName(t)
	ownerURL, adminURL := ownedDatabase(t)
	env := map[string]string{"DATABASE_URL": ownerURL, "DB_APP_ROLE": app, "DB_APP_ROLE_PASSWORD": "local-app-pw"}
	code, out, errOut := migrate(t, env)
	if code != 0 || !strings.Contains(out, "app role "+app+" (created)") || !strings.Contains(out, "no DDL") {
		t.Fatalf("migrate with DB_APP_ROLE: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, out, errOut = migrate(t, env)
	if code != 0 || !strings.Contains(out, "app role "+app+" (exists)") {
		t.Fatalf("a second migrate: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	appURL := pgtest.AsUser(adminURL, app, "local-app-pw")
	in := start(t, map[string]string{"DATABASE_URL": appURL, "MIGRATE_ON_START": "false"})
	exercise(t, in.base, false)
	if logs := in.stdout.String(); !strings.Contains(logs, "the schema is at the version this binary expects") {
		t.Errorf("the start-up log does not say the schema was checked rather than migrated:\n%s", logs)
	}
	// Seeding as the app role works too: it checks the schema instead of migrating it.
	var seedOut bytes.Buffer
	if code := run(context.Background(), []string{"seed", "5"}, func(k string) string {
		return map[string]string{"DATABASE_URL": appURL, "MIGRATE_ON_START": "false"}[k]
	}, &seedOut, &bytes.Buffer{}); code != 0 {
		t.Fatalf("seed as the app role exited %d: %s", code, seedOut.String())
	}
}

// TestMigrateAppRoleIAMOnPlainPostgres: DB_APP_ROLE_IAM=true needs rds_iam, which only RDS and
// Aurora have; on plain PostgreSQL migrate exits 1 naming it.
func TestMigrateAppRoleIAMOnPlainPostgres(t *testing.T) {
	app := pgtest.RoleName(t)
	ownerURL, _ := ownedDatabase(t)
	code, out, errOut := migrate(t, map[string]string{"DATABASE_URL": ownerURL, "DB_APP_ROLE": app, "DB_APP_ROLE_IAM": "true"})
	if code != 1 || !strings.Contains(errOut, `the role "rds_iam" does not exist`) || !strings.Contains(errOut, "DB_APP_ROLE_IAM") {
		t.Fatalf("migrate with DB_APP_ROLE_IAM=true on plain PostgreSQL: exit %d\nstdout: %s\nstderr: %s\nwant exit 1 naming rds_iam", code, out, errOut)
	}
}

// TestMigrateRefusesABadRoleName: the role name is checked before anything connects.
func TestMigrateRefusesABadRoleName(t *testing.T) {
	code, _, errOut := migrate(t, map[string]string{"DATABASE_URL": "postgres://owner@127.0.0.1:1/db", "DB_APP_ROLE": `app"; DROP TABLE products; --`})
	if code != 1 || !strings.Contains(errOut, "DB_APP_ROLE:") || !strings.Contains(errOut, "identifier") {
		t.Fatalf("migrate with a bad DB_APP_ROLE: exit %d, stderr %s", code, errOut)
	}
}

// TestWaitsForTheMigrateTask: with MIGRATE_ON_START=false on an empty database the service runs
// no DDL and waits in the start-up gate (live, not ready, store routes 503); when the migrate
// task runs, it becomes ready without a restart.
func TestWaitsForTheMigrateTask(t *testing.T) {
	url := pgtest.URL(t)
	in, stderr := launch(t, map[string]string{"DATABASE_URL": url, "MIGRATE_ON_START": "false", "DB_STARTUP_TIMEOUT": "2m"})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _, _ := answer(t, in.base+"/health"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health did not answer 200 within 10s:\n%s\n%s", stderr, in.stdout)
		}
	}
	time.Sleep(time.Second) // a few attempts in
	if code, _, body := answer(t, in.base+"/ready"); code != 503 {
		t.Fatalf("/ready before the migrate task: %d %s, want 503", code, body)
	}
	code, h, body := answer(t, in.base+"/products")
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(body, &e)
	if code != 503 || h.Get("Retry-After") == "" || e.Error.Code != "unavailable" {
		t.Fatalf("GET /products before the migrate task: %d, Retry-After %q, %s; want 503 unavailable with Retry-After", code, h.Get("Retry-After"), body)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the waiting service created %d tables (%v); with MIGRATE_ON_START=false it must run no DDL", tables, err)
	}
	if logs := in.stdout.String(); !strings.Contains(logs, "0001_catalog") || !strings.Contains(logs, "catalog migrate") {
		t.Errorf("the retry log does not name the missing migrations and catalog migrate:\n%s", logs)
	}

	if code, out, errOut := migrate(t, map[string]string{"DATABASE_URL": url}); code != 0 {
		t.Fatalf("migrate exited %d: %s %s", code, out, errOut)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _, _ := answer(t, in.base+"/ready"); code == 200 {
			break
		}
		select {
		case code := <-in.done:
			t.Fatalf("the server exited with %d:\n%s\n%s", code, stderr, in.stdout)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 30s after the migrate task ran:\n%s\n%s", stderr, in.stdout)
		}
	}
	exercise(t, in.base, false)
}

// TestGivesUpNamingTheMissingMigrations: when the migrate task never runs, the service exits
// after DB_STARTUP_TIMEOUT with a message naming the migrations it waited for.
func TestGivesUpNamingTheMissingMigrations(t *testing.T) {
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	in, stderr := launch(t, map[string]string{"DATABASE_URL": pgtest.URL(t), "MIGRATE_ON_START": "false", "DB_STARTUP_TIMEOUT": "2s"})
	var code int
	select {
	case code = <-in.done:
		in.done <- code
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after a 2s start-up timeout")
	}
	msg := stderr.String()
	last := ms[len(ms)-1]
	for _, want := range []string{"DB_STARTUP_TIMEOUT", "0001_" + ms[0].Name, last.Name, "catalog migrate"} {
		if code == 0 || !strings.Contains(msg, want) {
			t.Errorf("exit %d, message %q; want non-zero naming %q", code, msg, want)
		}
	}
}

// TestServesASchemaAhead: a newer release's migrate task ran while this release still serves;
// its tasks start (and keep serving), since migrations are additive within a release pair.
func TestServesASchemaAhead(t *testing.T) {
	url := pgtest.URL(t)
	if code, out, errOut := migrate(t, map[string]string{"DATABASE_URL": url}); code != 0 {
		t.Fatalf("migrate exited %d: %s %s", code, out, errOut)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO schema_migrations (version, name, checksum)
		SELECT max(version) + 1, 'next_release', 'x' FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	in := start(t, map[string]string{"DATABASE_URL": url, "MIGRATE_ON_START": "false"})
	exercise(t, in.base, false)
	if logs := in.stdout.String(); !strings.Contains(logs, "ahead of this binary") {
		t.Errorf("serving a schema ahead is not logged:\n%s", logs)
	}
}

// TestAppRoleThatStillMigratesFailsFast: serving as the app role but still migrating at start
// (MIGRATE_ON_START left at true) is a configuration mistake: the service stops at once with a
// message saying what to change, instead of waiting out DB_STARTUP_TIMEOUT. It fails even with
// the schema current (migrating starts with DDL), so the mistake shows on the first deploy, not
// on the first release that adds a migration.
func TestAppRoleThatStillMigratesFailsFast(t *testing.T) {
	app := pgtest.RoleName(t)
	ownerURL, adminURL := ownedDatabase(t)
	if code, out, errOut := migrate(t, map[string]string{"DATABASE_URL": ownerURL, "DB_APP_ROLE": app, "DB_APP_ROLE_PASSWORD": "pw-4"}); code != 0 {
		t.Fatalf("migrate exited %d: %s %s", code, out, errOut)
	}
	in, stderr := launch(t, map[string]string{"DATABASE_URL": pgtest.AsUser(adminURL, app, "pw-4"), "DB_STARTUP_TIMEOUT": "2m"})
	select {
	case code := <-in.done:
		in.done <- code
		if msg := stderr.String(); code == 0 || !strings.Contains(msg, "MIGRATE_ON_START=false") || !strings.Contains(msg, "42501") {
			t.Fatalf("exit %d, %q; want non-zero naming MIGRATE_ON_START=false", code, msg)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20s after starting as the app role with MIGRATE_ON_START=true")
	}
}
