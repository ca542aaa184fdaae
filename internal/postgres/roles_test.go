package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// owner makes a role like the RDS master user (LOGIN CREATEROLE, no superuser) and returns it
// with its password: the tests run the migrations and EnsureAppRole as it, so anything only a
// superuser may do fails here as it would on Aurora.
func owner(t *testing.T) (name, password string) {
	t.Helper()
	return pgtest.Role(t, "CREATEROLE")
}

// splitDB returns a new database owned by ownerName, migrated and with app role appRole set
// up as `catalog migrate` does, and the connection strings of the owner and of the app role.
func splitDB(t *testing.T, ownerName, ownerPW, appRole, appPW string) (ownerURL, appURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := pgtest.URLOwnedBy(t, ownerName)
	ownerURL = pgtest.AsUser(admin, ownerName, ownerPW)
	s, err := postgres.Open(ctx, ownerURL, postgres.Options{})
	if err != nil {
		t.Fatalf("migrate as the owner: %v", err)
	}
	defer s.Close()
	if _, err := s.EnsureAppRole(ctx, postgres.AppRole{Name: appRole, Password: appPW}); err != nil {
		t.Fatalf("EnsureAppRole(%s) = %v", appRole, err)
	}
	return ownerURL, pgtest.AsUser(admin, appRole, appPW)
}

// TestConformanceAsAppRole runs the whole conformance suite connected as the app role, each
// test on its own database migrated by the owner: every read and write the store does works
// with the app role's privileges and nothing more.
func TestConformanceAsAppRole(t *testing.T) {
	ownerName, ownerPW := owner(t)
	app, appPW := pgtest.RoleName(t), "app-password-1"
	storetest.Run(t, func(t *testing.T, clock catalog.Clock) catalog.Store {
		_, appURL := splitDB(t, ownerName, ownerPW, app, appPW)
		// SkipMigrate: the app role runs no DDL; the owner migrated.
		s, err := postgres.Open(context.Background(), appURL, postgres.Options{Clock: clock, MaxConns: 24, SkipMigrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestAppRoleCannotChangeTheSchema: connected as the app role, every kind of DDL is refused
// with insufficient_privilege, and so is rewriting the schema's recorded version.
func TestAppRoleCannotChangeTheSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ownerName, ownerPW := owner(t)
	app := pgtest.RoleName(t)
	_, appURL := splitDB(t, ownerName, ownerPW, app, "app-password-2")
	conn, err := pgx.Connect(ctx, appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{
		`CREATE TABLE sneaky (id int)`,
		`CREATE TABLE public.sneaky (id int)`,
		`CREATE TEMP TABLE sneaky (id int)`,
		`DROP TABLE products`,
		`ALTER TABLE products ADD COLUMN sneaky int`,
		`TRUNCATE products`,
		`TRUNCATE stock_movements`,
		`CREATE INDEX sneaky ON products (name)`,
		`CREATE SCHEMA sneaky`,
		`CREATE VIEW sneaky AS SELECT 1`,
		`CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
		`CREATE TRIGGER sneaky BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION catalog_notify_product()`,
		`ALTER TABLE products DISABLE TRIGGER products_notify`,
		`INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'x', 'x')`,
		`DELETE FROM schema_migrations`,
		`UPDATE schema_migrations SET checksum = 'x'`,
	} {
		_, err := conn.Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("as the app role, %s: %v, want 42501 insufficient_privilege", q, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Errorf("the app role reads schema_migrations: %d rows, %v; want the applied migrations", n, err)
	}
}

// privileges lists, sorted, everything the database says about role: its attributes, its
// memberships, and every privilege it holds on the database, schemas, relations, columns and
// default ACLs. Two runs leaving the same list changed nothing.
func privileges(ctx context.Context, t *testing.T, conn *pgx.Conn, role string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, `
		SELECT format('role super=%s createdb=%s createrole=%s login=%s replication=%s bypassrls=%s',
			rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolreplication, rolbypassrls)
			FROM pg_roles WHERE rolname = $1
		UNION ALL SELECT 'member of ' || g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
			WHERE m.member = $1::regrole
		UNION ALL SELECT format('database %s %s by %s', d.datname, a.privilege_type, a.grantor::regrole)
			FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() AND a.grantee IN ($1::regrole, 0)
		UNION ALL SELECT format('schema %s %s', n.nspname, a.privilege_type)
			FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee IN ($1::regrole, 0)
		UNION ALL SELECT format('relation %s %s', c.relname, a.privilege_type)
			FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = $1::regrole
		UNION ALL SELECT format('column %s.%s %s', c.relname, att.attname, a.privilege_type)
			FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid, aclexplode(att.attacl) a WHERE a.grantee = $1::regrole
		UNION ALL SELECT format('default %s in %s %s', d.defaclobjtype, d.defaclnamespace::regnamespace, a.privilege_type)
			FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE a.grantee = $1::regrole`, role)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// TestEnsureAppRoleIdempotent: a second run changes nothing; a privilege granted by hand since
// is taken away again; a table and sequence a later migration creates are usable by the app
// role without running it again (default privileges).
func TestEnsureAppRoleIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ownerName, ownerPW := owner(t)
	app := pgtest.RoleName(t)
	ownerURL, appURL := splitDB(t, ownerName, ownerPW, app, "app-password-3")
	oc, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close(context.Background())
	first := privileges(ctx, t, oc, app)
	for _, want := range []string{"relation products SELECT", "relation products DELETE", "relation schema_migrations SELECT",
		"schema public USAGE", "default r in public INSERT", "default S in public USAGE"} {
		if !slices.Contains(first, want) {
			t.Errorf("after EnsureAppRole the app role lacks %q; it has %q", want, first)
		}
	}
	for _, p := range first {
		if strings.Contains(p, "TRUNCATE") || strings.Contains(p, "CREATE") || strings.Contains(p, "TEMPORARY") ||
			strings.HasPrefix(p, "relation schema_migrations") && !strings.HasSuffix(p, "SELECT") {
			t.Errorf("after EnsureAppRole the app role (or PUBLIC) has %q", p)
		}
	}

	s, err := postgres.Open(ctx, ownerURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.EnsureAppRole(ctx, postgres.AppRole{Name: app})
	if err != nil {
		t.Fatalf("second EnsureAppRole = %v", err)
	}
	if rep.Created || rep.LoginGranted || rep.PasswordSet || rep.IAMGranted {
		t.Errorf("second EnsureAppRole reported changes: %+v", rep)
	}
	if again := privileges(ctx, t, oc, app); !slices.Equal(again, first) {
		t.Errorf("second EnsureAppRole changed the privileges:\nbefore %q\nafter  %q", first, again)
	}

	if _, err := oc.Exec(ctx, `GRANT TRUNCATE, TRIGGER ON products TO `+app+`; GRANT CREATE ON SCHEMA public TO `+app); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureAppRole(ctx, postgres.AppRole{Name: app}); err != nil {
		t.Fatal(err)
	}
	if again := privileges(ctx, t, oc, app); !slices.Equal(again, first) {
		t.Errorf("EnsureAppRole kept privileges granted by hand:\nwant %q\ngot  %q", first, again)
	}

	// A later release's migration, run by the owner as `catalog migrate` would.
	if _, err := oc.Exec(ctx, `CREATE TABLE later_things (id bigserial PRIMARY KEY, name text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ac, err := pgx.Connect(ctx, appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close(context.Background())
	var id int64
	if err := ac.QueryRow(ctx, `INSERT INTO later_things (name) VALUES ('x') RETURNING id`).Scan(&id); err != nil {
		t.Fatalf("the app role inserting into a table a later migration made: %v", err)
	}
	for _, q := range []string{`UPDATE later_things SET name = 'y' WHERE id = $1`, `DELETE FROM later_things WHERE id = $1`} {
		if _, err := ac.Exec(ctx, q, id); err != nil {
			t.Fatalf("the app role, on a table a later migration made: %s: %v", q, err)
		}
	}
	if _, err := ac.Exec(ctx, `DROP TABLE later_things`); err == nil {
		t.Error("the app role dropped a table a later migration made")
	}
}

// TestEnsureAppRoleIAMNeedsRDS: rds_iam exists only on RDS and Aurora; on plain PostgreSQL the
// request fails naming it, and nothing is left behind (the role is not created).
func TestEnsureAppRoleIAMNeedsRDS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ownerName, ownerPW := owner(t)
	app := pgtest.RoleName(t)
	ownerURL := pgtest.AsUser(pgtest.URLOwnedBy(t, ownerName), ownerName, ownerPW)
	s, err := postgres.Open(ctx, ownerURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.EnsureAppRole(ctx, postgres.AppRole{Name: app, IAM: true})
	var are *postgres.AppRoleError
	if !errors.As(err, &are) || !strings.Contains(err.Error(), `"rds_iam" does not exist`) || !strings.Contains(err.Error(), "DB_APP_ROLE_IAM") {
		t.Fatalf("EnsureAppRole(IAM) on plain PostgreSQL = %v, want an *AppRoleError naming rds_iam and DB_APP_ROLE_IAM", err)
	}
	var exists bool
	if err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, app).Scan(&exists); err != nil || exists {
		t.Errorf("after the refusal the role exists: %v (%v)", exists, err)
	}
}

// TestEnsureAppRoleRefusesPowerfulRoles: a role that is the owner, has attributes beyond LOGIN,
// belongs to another role or owns a table is refused with a message naming what is wrong.
func TestEnsureAppRoleRefusesPowerfulRoles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ownerName, ownerPW := owner(t)
	// Roles before the database: cleanups run last first, and a role that owns a table in the
	// database can be dropped only after it.
	createDB, _ := pgtest.Role(t, "CREATEDB")
	member, _ := pgtest.Role(t, "")
	tableOwner, _ := pgtest.Role(t, "")
	adminURL := pgtest.URLOwnedBy(t, ownerName)
	s, err := postgres.Open(ctx, pgtest.AsUser(adminURL, ownerName, ownerPW), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	admin := pgtest.Shared(t)
	if err := admin.Exec(ctx, "GRANT "+ownerName+" TO "+member); err != nil {
		t.Fatal(err)
	}
	ac, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close(context.Background())
	if _, err := ac.Exec(ctx, `CREATE TABLE owned_elsewhere (id int); ALTER TABLE owned_elsewhere OWNER TO `+tableOwner); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ role, want string }{
		{ownerName, "is the role the migrations run as"},
		{createDB, "has CREATEDB"},
		{member, "is a member of " + ownerName},
		{tableOwner, "owns owned_elsewhere"},
	} {
		_, err := s.EnsureAppRole(ctx, postgres.AppRole{Name: tc.role})
		var are *postgres.AppRoleError
		if !errors.As(err, &are) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EnsureAppRole(%s) = %v, want an *AppRoleError saying %q", tc.role, err, tc.want)
		}
	}
}

// fakeTokens hands out the token the test sets and records each call.
type fakeTokens struct {
	mu    sync.Mutex
	token string
	calls []string // endpoint and user of each call
}

func (f *fakeTokens) set(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = tok
}

func (f *fakeTokens) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeTokens) AuthToken(ctx context.Context, endpoint, user string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, endpoint+" "+user)
	return f.token, nil
}

// TestAuthTokenPerConnection: with a token source, every new connection asks it for a token
// and uses it as the password (the role's password is the current token, as IAM authentication
// checks a token at connect time); connections already open keep working after the token
// changes; a stale token is refused.
func TestAuthTokenPerConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	role := pgtest.RoleName(t)
	admin := pgtest.Shared(t)
	if err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD 'tok-1'"); err != nil {
		t.Fatal(err)
	}
	url := pgtest.AsUser(pgtest.URL(t), role, "")
	tokens := &fakeTokens{token: "tok-1"}
	s, err := postgres.Open(ctx, url, postgres.Options{SkipMigrate: true, MaxConns: 4, AuthTokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with the current token: %v", err)
	}
	if n := tokens.count(); n != 1 {
		t.Fatalf("after one connection the source was asked %d times, want 1", n)
	}
	if !strings.HasSuffix(tokens.calls[0], " "+role) || !strings.Contains(tokens.calls[0], ":") {
		t.Errorf("the source was asked for %q, want host:port and the user %s", tokens.calls[0], role)
	}
	// Reusing the idle connection makes none; two at once make a second.
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tokens.count(); n != 1 {
		t.Fatalf("reusing a pooled connection asked the source again (%d calls)", n)
	}
	c1, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := tokens.count(); n != 2 {
		t.Fatalf("a second connection: the source was asked %d times in all, want 2", n)
	}

	// The token rotates: the server now takes tok-2 only.
	if err := admin.Exec(ctx, "ALTER ROLE "+role+" PASSWORD 'tok-2'"); err != nil {
		t.Fatal(err)
	}
	if err := c1.Ping(ctx); err != nil {
		t.Errorf("a connection made with tok-1 stopped working when the token changed: %v", err)
	}
	// A new connection with the stale token is refused...
	if _, err := s.Pool().Acquire(ctx); err == nil {
		t.Fatal("a new connection with the stale token tok-1 was accepted")
	} else if code := pgErrCode(err); code != "28P01" {
		t.Fatalf("a new connection with the stale token: %v, want 28P01", err)
	}
	// ...and one with the fresh token is accepted.
	tokens.set("tok-2")
	c3, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatalf("a new connection with the fresh token tok-2: %v", err)
	}
	if n := tokens.count(); n != 4 {
		t.Errorf("after four connection attempts the source was asked %d times, want 4", n)
	}
	c1.Release()
	c2.Release()
	c3.Release()
}

func pgErrCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// TestCheckSchema: the version check MIGRATE_ON_START=false relies on. An empty database and
// one a migration behind are "behind" (transient: the migrate task will run), naming what is
// missing; one ahead (a newer release migrated) is fine; an edited migration is permanent.
func TestCheckSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	check := func(url string) ([]int, error) {
		s, err := postgres.Open(ctx, url, postgres.Options{SkipMigrate: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.CheckSchema(ctx)
	}

	_, err = check(pgtest.URL(t))
	var behind *postgres.SchemaBehindError
	if !errors.As(err, &behind) || len(behind.Missing) != len(ms) || postgres.Permanent(err, false) {
		t.Fatalf("CheckSchema(empty) = %v, want a transient *SchemaBehindError missing all %d", err, len(ms))
	}
	url, conn := migratedTo(ctx, t, len(ms)-1)
	defer conn.Close(context.Background())
	_, err = check(url)
	last := ms[len(ms)-1]
	if !errors.As(err, &behind) || len(behind.Missing) != 1 || behind.Missing[0].Version != last.Version ||
		!strings.Contains(err.Error(), last.Name) || !strings.Contains(err.Error(), "catalog migrate") {
		t.Fatalf("CheckSchema(one behind) = %v, want a *SchemaBehindError naming %04d_%s and catalog migrate", err, last.Version, last.Name)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3), ($4, 'from_the_future', 'x')`,
		last.Version, last.Name, last.Checksum, last.Version+1); err != nil {
		t.Fatal(err)
	}
	if ahead, err := check(url); err != nil || !slices.Equal(ahead, []int{last.Version + 1}) {
		t.Fatalf("CheckSchema(ahead) = %v, %v; want [%d], nil", ahead, err, last.Version+1)
	}
	if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := check(url); !postgres.Permanent(err, true) {
		t.Fatalf("CheckSchema(edited) = %v, want a permanent error", err)
	}
}

// TestAppRolePasswordsOfAnyPrintableShape: the password is hashed in the binary and sent as a
// SCRAM verifier; whatever printable ASCII it holds (quotes, backslashes, dollars, spaces), the
// app role then logs in with it, and not with a near miss.
func TestAppRolePasswordsOfAnyPrintableShape(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ownerName, ownerPW := owner(t)
	app := pgtest.RoleName(t)
	admin := pgtest.URLOwnedBy(t, ownerName)
	s, err := postgres.Open(ctx, pgtest.AsUser(admin, ownerName, ownerPW), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	passwords := []string{`it's`, `back\slash`, `$$dollar$$`, ` spaced out `, `"quoted"`, `'; DROP TABLE products; --`, "x"}
	for range 12 {
		b := make([]byte, 1+rng.IntN(40))
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x7f-0x20))
		}
		passwords = append(passwords, string(b))
	}
	for _, pw := range passwords {
		if _, err := s.EnsureAppRole(ctx, postgres.AppRole{Name: app, Password: pw}); err != nil {
			t.Fatalf("EnsureAppRole(password %q) = %v", pw, err)
		}
		conn, err := pgx.Connect(ctx, pgtest.AsUser(admin, app, pw))
		if err != nil {
			t.Fatalf("logging in with password %q: %v", pw, err)
		}
		conn.Close(ctx)
		if conn, err := pgx.Connect(ctx, pgtest.AsUser(admin, app, pw+"x")); err == nil {
			conn.Close(ctx)
			t.Fatalf("logged in with %q, a near miss of %q", pw+"x", pw)
		}
	}
}
