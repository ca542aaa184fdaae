package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppRole is the least-privileged role the service's requests run as: it reads and writes the
// rows of the service's tables and nothing else, while the owner (the role migrations run as)
// keeps the DDL.
type AppRole struct {
	// Name is the role, a lower-case identifier (config.ValidRoleName).
	Name string
	// Password, when set, becomes the role's password (local use, without IAM). It is hashed
	// here (SCRAM-SHA-256) so that it never reaches the server, or its statement log, in clear.
	Password string
	// IAM grants the role rds_iam, so it logs in with IAM authentication tokens (RDS and Aurora).
	IAM bool
}

// AppRoleReport says what EnsureAppRole found and did.
type AppRoleReport struct {
	Role, Schema, Database string
	Created                bool // the role did not exist
	LoginGranted           bool // it existed without LOGIN
	PasswordSet            bool
	IAMGranted             bool // rds_iam was granted now (not before)
	Tables, Sequences      int  // in the schema, each with the app role's privileges
}

// AppRoleError is a state of the database EnsureAppRole will not paper over: the role is the
// owner, holds attributes or memberships beyond what the service needs, owns objects, or rds_iam
// is missing. Retrying does not fix it; an operator must.
type AppRoleError struct{ Msg string }

func (e *AppRoleError) Error() string { return e.Msg }

func appRoleErrorf(format string, args ...any) error {
	return &AppRoleError{Msg: fmt.Sprintf(format, args...)}
}

// Privileges the app role gets: what the store's queries need (rows in, rows out, sequences
// advanced) and no more: no TRUNCATE, REFERENCES or TRIGGER, no CREATE anywhere.
const (
	appTablePrivileges    = "SELECT, INSERT, UPDATE, DELETE"
	appSequencePrivileges = "USAGE, SELECT, UPDATE"
)

// EnsureAppRole makes r the service's application role on the store's database, connected as
// the owner of the schema (the role the migrations ran as): the role exists with LOGIN, may
// connect to the database and use the schema, and has appTablePrivileges on every table and
// appSequencePrivileges on every sequence of it, today's and (by ALTER DEFAULT PRIVILEGES)
// those a later migration creates. schema_migrations is only readable: the service checks the
// schema's version but never records one. CREATE on the schema (and on public) and TEMPORARY
// on the database are revoked from PUBLIC, so no role gets DDL by default.
//
// It is idempotent: everything runs in one transaction under the migration lock, and a second
// run leaves the same privileges. It refuses, with an *AppRoleError, a role that is the owner,
// a superuser or holds CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, is a member of other
// roles, or owns relations in the schema: those would give the requests more than rows.
func (s *Store) EnsureAppRole(ctx context.Context, r AppRole) (AppRoleReport, error) {
	rep := AppRoleReport{Role: r.Name}
	err := s.conn(ctx, func(c *pgxpool.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error { return ensureAppRole(ctx, tx, r, &rep) })
	})
	if err != nil {
		var are *AppRoleError
		if errors.As(err, &are) {
			return rep, err
		}
		return rep, fmt.Errorf("app role %s: %w", r.Name, err)
	}
	return rep, nil
}

func ensureAppRole(ctx context.Context, tx pgx.Tx, r AppRole, rep *AppRoleReport) error {
	// Concurrent GRANTs on one object fail ("tuple concurrently updated"); two migrate tasks
	// (or one and a starting service still migrating) take turns instead.
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = 0`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	var owner string
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_user, current_schema(), current_database()`).Scan(&owner, &schema, &rep.Database); err != nil {
		return err
	}
	if schema == nil {
		return appRoleErrorf("the connection has no current schema (search_path names none that exists), so there is no schema to grant on")
	}
	rep.Schema = *schema
	if r.Name == owner {
		return appRoleErrorf("DB_APP_ROLE %q is the role the migrations run as (the owner): the app role must be another role, without DDL", r.Name)
	}
	if r.IAM {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam')`).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return appRoleErrorf(`DB_APP_ROLE_IAM=true: the role "rds_iam" does not exist on this server; it exists only on Amazon RDS and Aurora PostgreSQL, ` +
				`where granting it enables IAM database authentication. On plain PostgreSQL leave DB_APP_ROLE_IAM unset and set DB_APP_ROLE_PASSWORD`)
		}
	}
	role := pgx.Identifier{r.Name}.Sanitize()
	var super, createDB, createRole, replication, bypassRLS, login bool
	err := tx.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin
		FROM pg_roles WHERE rolname = $1`, r.Name).Scan(&super, &createDB, &createRole, &replication, &bypassRLS, &login)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// The defaults of CREATE ROLE are NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
		// NOBYPASSRLS INHERIT; saying NOSUPERUSER would need a superuser, which RDS has none of.
		if _, err := tx.Exec(ctx, `CREATE ROLE `+role+` LOGIN`); err != nil {
			return err
		}
		rep.Created = true
	case err != nil:
		return err
	default:
		var extra []string
		for _, a := range []struct {
			has  bool
			name string
		}{{super, "SUPERUSER"}, {createDB, "CREATEDB"}, {createRole, "CREATEROLE"}, {replication, "REPLICATION"}, {bypassRLS, "BYPASSRLS"}} {
			if a.has {
				extra = append(extra, a.name)
			}
		}
		if len(extra) > 0 {
			return appRoleErrorf("DB_APP_ROLE %q has %s: an app role must have none of these; remove them (ALTER ROLE %s NO%s) or choose another role",
				r.Name, strings.Join(extra, ", "), role, strings.Join(extra, " NO"))
		}
		if !login {
			if _, err := tx.Exec(ctx, `ALTER ROLE `+role+` LOGIN`); err != nil {
				return err
			}
			rep.LoginGranted = true
		}
	}
	if r.Password != "" {
		verifier, err := scramVerifier(r.Password)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ALTER ROLE `+role+` PASSWORD `+quoteLiteral(verifier)); err != nil {
			return err
		}
		rep.PasswordSet = true
	}

	rows, err := tx.Query(ctx, `SELECT g.rolname FROM pg_auth_members m
		JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
		WHERE u.rolname = $1 ORDER BY 1`, r.Name)
	if err != nil {
		return err
	}
	memberOf, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var unexpected []string
	for _, g := range memberOf {
		if !(r.IAM && g == "rds_iam") {
			unexpected = append(unexpected, g)
		}
	}
	if len(unexpected) > 0 {
		hint := ""
		if slices.Contains(unexpected, "rds_iam") {
			hint = " (set DB_APP_ROLE_IAM=true if it logs in with IAM tokens)"
		}
		return appRoleErrorf("DB_APP_ROLE %q is a member of %s%s: an app role inherits nothing; revoke the membership or choose another role",
			r.Name, strings.Join(unexpected, ", "), hint)
	}
	if r.IAM && !slices.Contains(memberOf, "rds_iam") {
		if _, err := tx.Exec(ctx, `GRANT rds_iam TO `+role); err != nil {
			return err
		}
		rep.IAMGranted = true
	}

	var owned []string
	rows, err = tx.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_roles o ON o.oid = c.relowner
		WHERE o.rolname = $1 AND c.relnamespace = $2::regnamespace ORDER BY 1`, r.Name, pgx.Identifier{rep.Schema}.Sanitize())
	if err != nil {
		return err
	}
	if owned, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	if len(owned) > 0 {
		return appRoleErrorf("DB_APP_ROLE %q owns %s in schema %s, and an owner may alter or drop them: reassign them to %s (REASSIGN OWNED BY %s TO %s)",
			r.Name, strings.Join(owned, ", "), rep.Schema, owner, role, pgx.Identifier{owner}.Sanitize())
	}

	schemaID := pgx.Identifier{rep.Schema}.Sanitize()
	db := pgx.Identifier{rep.Database}.Sanitize()
	stmts := []string{
		// PostgreSQL 15 no longer grants CREATE on public to PUBLIC in new databases; a database
		// created by an older version (or restored from one) still does.
		`REVOKE CREATE ON SCHEMA ` + schemaID + ` FROM PUBLIC`,
		// Temporary tables are DDL too, and the store uses none.
		`REVOKE TEMPORARY ON DATABASE ` + db + ` FROM PUBLIC`,
		`REVOKE ALL ON DATABASE ` + db + ` FROM ` + role,
		`GRANT CONNECT ON DATABASE ` + db + ` TO ` + role,
		`REVOKE ALL ON SCHEMA ` + schemaID + ` FROM ` + role,
		`GRANT USAGE ON SCHEMA ` + schemaID + ` TO ` + role,
		// REVOKE ALL first takes away anything granted by hand since (TRUNCATE, TRIGGER, column
		// grants); the GRANT then gives exactly the set, so a second run ends where the first did.
		`REVOKE ALL ON ALL TABLES IN SCHEMA ` + schemaID + ` FROM ` + role,
		`GRANT ` + appTablePrivileges + ` ON ALL TABLES IN SCHEMA ` + schemaID + ` TO ` + role,
		`REVOKE INSERT, UPDATE, DELETE ON TABLE ` + schemaID + `.schema_migrations FROM ` + role,
		`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ` + schemaID + ` FROM ` + role,
		`GRANT ` + appSequencePrivileges + ` ON ALL SEQUENCES IN SCHEMA ` + schemaID + ` TO ` + role,
		// Tables and sequences the owner creates later (a migration of the next release) get the
		// same, so the service never waits for a grant after a migrate.
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + schemaID + ` REVOKE ALL ON TABLES FROM ` + role,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + schemaID + ` GRANT ` + appTablePrivileges + ` ON TABLES TO ` + role,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + schemaID + ` REVOKE ALL ON SEQUENCES FROM ` + role,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + schemaID + ` GRANT ` + appSequencePrivileges + ` ON SEQUENCES TO ` + role,
	}
	if rep.Schema != "public" {
		var hasPublic bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')`).Scan(&hasPublic); err != nil {
			return err
		}
		if hasPublic {
			stmts = append(stmts, `REVOKE CREATE ON SCHEMA public FROM PUBLIC`)
		}
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p')),
		(SELECT count(*) FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'S')`, schemaID).Scan(&rep.Tables, &rep.Sequences)
}

// scramIterations is PostgreSQL's default scram_iterations.
const scramIterations = 4096

// scramVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for password (RFC 5802,
// RFC 7677; the format of pg_authid.rolpassword), so ALTER ROLE ... PASSWORD carries the hash
// and not the password. PostgreSQL applies SASLprep to a password before hashing it; for
// printable ASCII that changes nothing, which is why config accepts only printable ASCII.
func scramVerifier(password string) (string, error) {
	for _, c := range []byte(password) {
		if c < 0x20 || c > 0x7e {
			return "", errors.New("the app role's password must be printable ASCII")
		}
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored[:]), b64(server)), nil
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings, on by default
// since PostgreSQL 9.1: backslashes are ordinary characters).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
