package cfnstack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/blueprint"
)

// The rendered API-key secret is what the service parses: Secrets Manager adds the generated
// string to SecretStringTemplate as the field GenerateStringKey names
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-secretsmanager-secret-generatesecretstring.html),
// so the template plus a string of the generated length and alphabet must be a key document the
// service's own parser accepts, holding one admin key with every scope.
func TestAPIKeySecretIsAKeyDocument(t *testing.T) {
	tp := decoded(t)
	gen, _ := tp.props(t, IDAPIKeySecret)["GenerateSecretString"].(map[string]any)
	tmpl, _ := gen["SecretStringTemplate"].(string)
	field, _ := gen["GenerateStringKey"].(string)
	length, _ := gen["PasswordLength"].(float64)
	if gen["ExcludePunctuation"] != true || gen["IncludeSpace"] != false {
		t.Fatalf("GenerateSecretString %v: the generated string must have no punctuation or spaces (quotes and backslashes would break the JSON; the parser refuses spaces)", gen)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(tmpl), &doc); err != nil {
		t.Fatalf("SecretStringTemplate %q is not a JSON object: %v", tmpl, err)
	}
	if _, ok := doc[field]; ok || field == "" {
		t.Fatalf("GenerateStringKey %q is empty or already in the template", field)
	}
	// Each alphabet Secrets Manager draws from without punctuation: letters and digits.
	for _, alphabet := range []string{"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"} {
		key := strings.Repeat(alphabet, int(length)/len(alphabet)+1)[:int(length)]
		doc[field] = key
		raw, _ := json.Marshal(doc)
		set, err := access.ParseSecret(raw)
		if err != nil {
			t.Fatalf("the service refuses the generated secret %s: %v", raw, err)
		}
		if p, ok := set.Match(key); !ok || p != (access.Principal{Name: blueprint.APIKeyAdminName, Scopes: access.AllScopes}) || set.Len() != 1 {
			t.Errorf("the generated secret holds %+v (%v, %d keys), want one admin key with every scope", p, ok, set.Len())
		}
	}
	if int(length) < access.MinKeyLength {
		t.Errorf("generated keys of %d characters; the service wants at least %d", int(length), access.MinKeyLength)
	}
}

// The service reads the secret itself: the task gets its ARN, never its value, and only the
// task role may read it, decrypting with the stack's key only through Secrets Manager in the
// stack's region (kms:ViaService,
// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
func TestAPIKeySecretReadAtRunTime(t *testing.T) {
	tp := decoded(t)
	c := tp.props(t, IDTaskDefinition)["ContainerDefinitions"].([]any)[0].(map[string]any)
	env := map[string]string{}
	list := c["Environment"]
	for {
		// Settings under an option make the list an Fn::If; every branch holds the fixed ones.
		m, ok := list.(map[string]any)
		if !ok {
			break
		}
		list = m["Fn::If"].([]any)[2]
	}
	for _, e := range list.([]any) {
		m := e.(map[string]any)
		js, _ := json.Marshal(m["Value"])
		env[m["Name"].(string)] = string(js)
	}
	if got := env[blueprint.EnvAPIKeysSecretARN]; got != `{"Ref":"`+IDAPIKeySecret+`"}` {
		t.Errorf("%s = %s, want the secret's ARN (Ref)", blueprint.EnvAPIKeysSecretARN, got)
	}
	js, _ := json.Marshal(c)
	if strings.Contains(string(js), `"`+blueprint.EnvAPIKeys+`"`) {
		t.Errorf("the container still gets %s", blueprint.EnvAPIKeys)
	}
	for id := range tp.Resources {
		if !strings.HasSuffix(id, "Role") {
			continue
		}
		pols, _ := tp.props(t, id)["Policies"].([]any)
		raw, _ := json.Marshal(pols)
		reads := strings.Contains(string(raw), `{"Ref":"`+IDAPIKeySecret+`"}`)
		if reads != (id == IDTaskRole) {
			t.Errorf("role %s reads the API-key secret: %v; want only %s", id, reads, IDTaskRole)
		}
		if id == IDTaskRole {
			want := `"Condition":{"StringEquals":{"kms:ViaService":{"Fn::Sub":"secretsmanager.${AWS::Region}.amazonaws.com"}}}`
			if !strings.Contains(string(raw), want) {
				t.Errorf("the task role's policy %s: want kms:Decrypt with %s", raw, want)
			}
		}
	}
}
