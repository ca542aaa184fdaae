package awssecrets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/acme/catalog/internal/awssecrets"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fakeSecrets serves GetSecretValue for one secret, by version stage, as Secrets Manager's
// JSON protocol does.
type fakeSecrets struct {
	mu     sync.Mutex
	stages map[string]string // stage -> password
	reads  atomic.Int64
}

func (f *fakeSecrets) set(stage, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if password == "" {
		delete(f.stages, stage)
	} else {
		f.stages[stage] = password
	}
}

func (f *fakeSecrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		http.Error(w, "unexpected call "+r.Header.Get("X-Amz-Target"), 400)
		return
	}
	var in struct{ SecretId, VersionStage string }
	json.NewDecoder(r.Body).Decode(&in)
	f.reads.Add(1)
	f.mu.Lock()
	pw, ok := f.stages[in.VersionStage]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if !ok {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"__type":"ResourceNotFoundException","Message":"no version with stage %s"}`, in.VersionStage)
		return
	}
	secret, _ := json.Marshal(map[string]string{"username": "app", "password": pw, "engine": "postgres"})
	json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": "rds-db-credentials", "SecretString": string(secret),
		"VersionId": "v-" + pw, "VersionStages": []string{in.VersionStage}})
}

// TestRotationUnderLoad changes the database password while requests run, the way an RDS
// managed rotation does (database first, then the secret's AWSCURRENT), forcing every
// connection to be made again at each step: no request fails.
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

	fake := &fakeSecrets{stages: map[string]string{"AWSCURRENT": "pw-one"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	creds := &userOverride{Credentials: awssecrets.New(client, "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"), user: role}

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
	step := func(what string, fn func()) {
		time.Sleep(300 * time.Millisecond)
		fn()
		store.Pool().Reset() // every later request needs a new connection
		t.Logf("%s (requests so far: %d ok, %d failed)", what, ok.Load(), failed.Load())
	}
	step("setSecret: the database now has the new password; AWSCURRENT still the old", func() {
		fake.set("AWSPENDING", "pw-two")
		if err := c.Exec(ctx, "ALTER ROLE "+role+" PASSWORD 'pw-two'"); err != nil {
			t.Error(err)
		}
	})
	step("finishSecret: AWSCURRENT is the new password", func() {
		fake.set("AWSCURRENT", "pw-two")
		fake.set("AWSPENDING", "")
	})
	step("a second rotation", func() {
		if err := c.Exec(ctx, "ALTER ROLE "+role+" PASSWORD 'pw-three'"); err != nil {
			t.Error(err)
		}
		fake.set("AWSCURRENT", "pw-three")
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("rotation under load: %d requests succeeded, %d failed, %d secret reads", ok.Load(), failed.Load(), fake.reads.Load())
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	if fake.reads.Load() < 3 {
		t.Fatalf("the secret was read %d times; rotation was not exercised", fake.reads.Load())
	}
}

// userOverride pins the role name: the fake secret always says "app".
type userOverride struct {
	*awssecrets.Credentials
	user string
}

func (u *userOverride) Current(ctx context.Context) (string, string, error) {
	_, pw, err := u.Credentials.Current(ctx)
	return u.user, pw, err
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestWrongPasswordIsUnavailableNotInternal(t *testing.T) {
	fake := &fakeSecrets{stages: map[string]string{"AWSCURRENT": "nope"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	creds := awssecrets.New(client, "arn:test")
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
