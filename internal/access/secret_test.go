package access_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/awssecrets/awssecretstest"
)

const (
	oldKey = "old-backoffice-0123456789"
	newKey = "new-backoffice-0123456789"
)

func doc(key string) string {
	return `{"keys":[{"name":"backoffice","scopes":["read"],"key":"` + key + `"}]}`
}

// A rotation in Secrets Manager reaches the service within one refresh, with no deploy; a bad
// document or an unreachable Secrets Manager keeps the last good keys.
func TestSecretSourceRotation(t *testing.T) {
	fake, err := awssecretstest.Start("unused", "unused")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.SetString(doc(oldKey))
	ring := access.NewKeyring(&access.Set{})
	src := &access.SecretSource{Client: fake.Client(), ARN: awssecretstest.ARN, Ring: ring, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := src.Load(ctx); err != nil {
		t.Fatal(err)
	}
	valid := func(key string) bool { _, ok := ring.Load().Match(key); return ok }
	if !valid(oldKey) {
		t.Fatal("the secret's key is not valid after Load")
	}
	done := make(chan struct{})
	go func() { defer close(done); src.Run(ctx, 20*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("not within 5s: %s", what)
	}
	// Rotation, step 1: both keys valid while clients move.
	fake.SetString(`{"keys":[{"name":"backoffice","scopes":["read"],"key":"` + oldKey + `"},{"name":"backoffice","scopes":["read"],"key":"` + newKey + `"}]}`)
	waitFor("the new key becomes valid", func() bool { return valid(newKey) && valid(oldKey) })
	// Step 2: the old key is removed.
	fake.SetString(doc(newKey))
	waitFor("the old key is revoked", func() bool { return !valid(oldKey) })

	// A broken document keeps the last good set.
	reads := fake.Reads()
	fake.SetString(`{"keys":[{"name":"backoffice","scopes":["read"],"key":"short"}]}`)
	waitFor("two more reads", func() bool { return fake.Reads() >= reads+2 })
	if !valid(newKey) {
		t.Fatal("a bad secret document dropped the last good keys")
	}
	// So does an unreachable Secrets Manager.
	fake.Close()
	time.Sleep(100 * time.Millisecond)
	if !valid(newKey) {
		t.Fatal("a failed read dropped the last good keys")
	}
}

func TestSecretSourceLoadFails(t *testing.T) {
	fake, err := awssecretstest.Start("unused", "unused")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	ring := access.NewKeyring(&access.Set{})
	src := &access.SecretSource{Client: fake.Client(), ARN: awssecretstest.ARN + "-other", Ring: ring}
	if err := src.Load(context.Background()); err == nil {
		t.Fatal("Load of a missing secret succeeded")
	}
	fake.SetString("not json")
	src.ARN = awssecretstest.ARN
	if err := src.Load(context.Background()); err == nil {
		t.Fatal("Load of a bad document succeeded")
	}
}
