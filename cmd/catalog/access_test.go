package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/awssecrets/awssecretstest"
)

// The keys come from a Secrets Manager secret and a rotation there reaches the running service
// without a restart; the key's name is the actor in the access log.
func TestKeysFromSecretRotateWithoutRestart(t *testing.T) {
	fake, err := awssecretstest.Start("unused", "unused")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	const oldKey, newKey = "old-catalog-key-0123456789", "new-catalog-key-0123456789"
	fake.SetString(`{"keys":[{"name":"merch","scopes":["catalog"],"key":"` + oldKey + `"}]}`)
	// The AWS SDK reads its settings from the process environment, not run's getenv.
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	in := start(t, map[string]string{"API_KEYS": "", "API_KEYS_SECRET_ARN": awssecretstest.ARN, "API_KEYS_REFRESH": "1s"})
	post := func(key string) int {
		req, _ := http.NewRequest("POST", in.base+"/categories", strings.NewReader(`{"slug":"c-`+key[:3]+`","name":"C"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(oldKey); got != 201 {
		t.Fatalf("the secret's key: %d", got)
	}
	if got := post(newKey); got != 401 {
		t.Fatalf("a key not yet in the secret: %d", got)
	}
	fake.SetString(`{"keys":[{"name":"merch","scopes":["catalog"],"key":"` + newKey + `"}]}`)
	deadline := time.Now().Add(10 * time.Second)
	for post(newKey) != 201 {
		if time.Now().After(deadline) {
			t.Fatal("the rotated key was not accepted within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := post(oldKey); got != 401 {
		t.Fatalf("the removed key: %d", got)
	}
	logs := in.stdout.String()
	if !strings.Contains(logs, `"actor":"merch"`) || strings.Contains(logs, oldKey) || strings.Contains(logs, newKey) {
		t.Fatalf("the access log should name the key, never show it:\n%s", logs)
	}
}

// Bare keys of the old format still work, with a deprecation warning at start.
func TestLegacyKeysWarn(t *testing.T) {
	in := start(t, nil)
	if !strings.Contains(in.stdout.String(), "deprecated") {
		t.Fatalf("no deprecation warning for bare keys:\n%s", in.stdout)
	}
}

func TestSecretAndEnvKeysAreExclusive(t *testing.T) {
	var stderr strings.Builder
	env := map[string]string{"API_KEYS": "k-0123456789abcdef", "API_KEYS_SECRET_ARN": awssecretstest.ARN, "METRICS_PORT": "0"}
	if code := run(t.Context(), nil, func(k string) string { return env[k] }, &strings.Builder{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "not both") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
