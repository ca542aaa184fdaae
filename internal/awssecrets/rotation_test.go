package awssecrets_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/awssecrets"
	"github.com/acme/catalog/internal/awssecrets/awssecretstest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRotationUnderLoad changes the database password twice while requests run, the way an
// RDS managed rotation does (the new password staged as AWSPENDING and set in the database,
// then AWSCURRENT moved to it), forcing every connection to be made again at each step: no
// request fails. The fault bench does the same to the real binary over HTTP.
func TestRotationUnderLoad(t *testing.T) {
	c := pgtest.Shared(t)
	if c.External() {
		t.Skip("needs the private cluster, whose pg_hba demands passwords for non-superusers")
	}
	ctx := context.Background()
	admin := pgtest.URL(t)
	dbName := mustParse(t, admin).Path[1:]
	role := "app_" + dbName[len(dbName)-6:]
	for _, sql := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD 'pw-one'",
		"ALTER DATABASE " + dbName + " OWNER TO " + role,
	} {
		if err := c.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })

	fake, err := awssecretstest.Start(role, "pw-one")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	creds := awssecrets.New(fake.Client(), awssecretstest.ARN)

	u := mustParse(t, admin)
	u.User = url.User(role)
	store, err := postgres.Open(ctx, u.String(), postgres.Options{Credentials: creds, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.CreateCategory(ctx, catalog.CategoryInput{Slug: "rot", Name: "Rotation"}); err != nil {
		t.Fatal(err)
	}

	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if i%4 == 0 {
					_, err = store.CreateCategory(ctx, catalog.CategoryInput{Slug: fmt.Sprintf("w%d-%d", w, i), Name: "x"})
				} else {
					_, err = store.Categories(ctx)
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("request failed during rotation: %v", err)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	// eventually waits, within a bound, for cond: a fixed sleep would assume how fast a busy
	// machine gets the workers to make new connections.
	eventually := func(cond func() bool) bool {
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cond() {
				return true
			}
		}
		return false
	}
	step := func(what string) {
		store.Pool().Reset() // every later request needs a new connection
		served := ok.Load()
		eventually(func() bool { return ok.Load() >= served+50 }) // on new connections
		t.Logf("%s (requests so far: %d ok, %d failed; %d secret reads)", what, ok.Load(), failed.Load(), fake.Reads())
	}
	for _, pw := range []string{"pw-two", "pw-three"} {
		time.Sleep(300 * time.Millisecond)
		before := fake.Reads()
		fake.StagePending(pw)
		if err := c.Exec(ctx, "ALTER ROLE "+role+" PASSWORD '"+pw+"'"); err != nil {
			t.Fatal(err)
		}
		step("setSecret: the database has " + pw + " (AWSPENDING); AWSCURRENT still the old one")
		if !eventually(func() bool { return fake.Reads() > before }) {
			t.Errorf("the secret was not read again after the database took %s", pw)
		}
		fake.FinishRotation()
		step("finishSecret: AWSCURRENT is " + pw)
	}
	close(stop)
	wg.Wait()
	t.Logf("rotation under load: %d requests succeeded, %d failed, %d secret reads", ok.Load(), failed.Load(), fake.Reads())
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestWrongPasswordIsUnavailableNotInternal(t *testing.T) {
	fake, err := awssecretstest.Start("app", "nope")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	creds := awssecrets.New(fake.Client(), awssecretstest.ARN)
	c := pgtest.Shared(t)
	if c.External() {
		t.Skip("needs the private cluster")
	}
	u := mustParse(t, pgtest.URL(t))
	u.User = url.User("app")
	ctx := context.Background()
	store, err := postgres.Open(ctx, u.String(), postgres.Options{Credentials: creds, SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Ping(ctx); catalog.ErrorCode(err) != catalog.CodeUnavailable {
		t.Fatalf("ping with a wrong password: %v (code %q), want unavailable", err, catalog.ErrorCode(err))
	}
}
