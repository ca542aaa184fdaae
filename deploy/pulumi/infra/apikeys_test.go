package infra_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/blueprint"
)

// The API-key secret is a Secrets Manager secret holding a document the service's own parser
// accepts (one configured key becomes the admin key with every scope, as CloudFormation
// generates it); the configuration is its first value only (ignoreChanges: keys rotate in AWS);
// only the task role reads it, decrypting with the stack's key through Secrets Manager alone
// (kms:ViaService, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
func TestAPIKeySecretReadAtRunTime(t *testing.T) {
	r := runStack(t, defaultConfig())
	v := r.named(t, tSecretValue, "secret-api-keys-value-"+r.cfg.Suffix)
	set, err := access.ParseSecret([]byte(v.str("secretString")))
	if err != nil {
		t.Fatalf("the service refuses the secret %s: %v", v.str("secretString"), err)
	}
	if p, ok := set.Match(r.cfg.APIKeys); !ok || p != (access.Principal{Name: blueprint.APIKeyAdminName, Scopes: access.AllScopes}) || set.Len() != 1 {
		t.Errorf("the secret holds %+v (%v, %d keys), want the configured key as the admin key with every scope", p, ok, set.Len())
	}
	if !slices.Contains(v.Ignore, "secretString") || !v.Secret["secretString"] {
		t.Errorf("secret version: ignoreChanges %q, secret %v; want secretString ignored (rotated in AWS) and secret", v.Ignore, v.Secret)
	}
	for _, p := range r.of(tRolePolicy) {
		doc := p.str("policy")
		reads := strings.Contains(doc, `"`+r.outputs["apiKeySecretArn"].(string)+`"`)
		if reads != (p.Name == "policy-task-"+r.cfg.Suffix) {
			t.Errorf("policy %s reads the API-key secret: %v; want only the task role's", p.Name, reads)
		}
		if reads && !strings.Contains(doc, `"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.`+testRegion+`.amazonaws.com"}}`) {
			t.Errorf("policy %s: kms:Decrypt without the kms:ViaService condition: %s", p.Name, doc)
		}
	}
}

// A key document in the configuration is stored as given; one the service would refuse stops
// the program before any resource.
func TestAPIKeyDocumentConfig(t *testing.T) {
	doc := `{"keys":[{"name":"shop","scopes":["checkout"],"key":"` + strings.Repeat("k", 24) + `"}]}`
	if got, err := infra.APIKeyDocument(doc); err != nil || got != doc {
		t.Errorf("APIKeyDocument(document) = %q, %v; want it unchanged", got, err)
	}
	var m map[string]any
	got, err := infra.APIKeyDocument(goodKeys)
	if err != nil || json.Unmarshal([]byte(got), &m) != nil || m["key"] != goodKeys || m["name"] != blueprint.APIKeyAdminName {
		t.Errorf("APIKeyDocument(one key) = %q, %v; want the admin key document", got, err)
	}
	for _, bad := range []string{"", "short", goodKeys + ";" + goodKeys, `{"keys":[{"name":"a","scopes":[],"key":"` + goodKeys + `"}]}`, `{"name":"a"}`} {
		if _, err := infra.APIKeyDocument(bad); err == nil {
			t.Errorf("APIKeyDocument(%q) accepted", bad)
		} else if strings.Contains(err.Error(), goodKeys) {
			t.Errorf("APIKeyDocument's error quotes the key: %v", err)
		}
	}
}
