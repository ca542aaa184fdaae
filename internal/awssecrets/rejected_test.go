package awssecrets_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/awssecrets"
	"github.com/acme/catalog/internal/awssecrets/awssecretstest"
)

// TestLateRejectionKeepsTheNewerPassword is the race TestRotationUnderLoad hit on a busy
// machine: connection A dials with the old password; connection B is refused first, finds the
// rotation's AWSPENDING password and caches it; A's refusal arrives later. A must not turn the
// cache back to AWSCURRENT (the old password): it was refused for a password no longer cached.
func TestLateRejectionKeepsTheNewerPassword(t *testing.T) {
	fake, err := awssecretstest.Start("app", "pw-one")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	ctx := context.Background()
	creds := awssecrets.New(fake.Client(), awssecretstest.ARN)
	creds.MinRefresh = 0 // A's refusal arrives after any throttle window

	_, dialedByA, err := creds.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fake.StagePending("pw-two") // createSecret, then setSecret: the database has pw-two

	if err := creds.Rejected(ctx, dialedByA); err != nil { // B, refused with pw-one
		t.Fatal(err)
	}
	if _, pw, _ := creds.Current(ctx); pw != "pw-two" {
		t.Fatalf("after B's refusal the password is %q, want the pending pw-two", pw)
	}
	if err := creds.Rejected(ctx, dialedByA); err != nil { // A, refused with pw-one, later
		t.Fatal(err)
	}
	if _, pw, _ := creds.Current(ctx); pw != "pw-two" {
		t.Fatalf("after A's late refusal the password is %q, want pw-two still", pw)
	}
}

// TestRejectedUnknownPasswordRefreshes keeps the old contract for a caller that cannot tell
// which password was refused: the cached one is taken as refused.
func TestRejectedUnknownPasswordRefreshes(t *testing.T) {
	fake, err := awssecretstest.Start("app", "pw-one")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	ctx := context.Background()
	creds := awssecrets.New(fake.Client(), awssecretstest.ARN)
	creds.MinRefresh = 0
	if _, _, err := creds.Current(ctx); err != nil {
		t.Fatal(err)
	}
	fake.StagePending("pw-two")
	if err := creds.Rejected(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, pw, _ := creds.Current(ctx); pw != "pw-two" {
		t.Fatalf("password %q, want pw-two", pw)
	}
}
