package cfn

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const tinyTemplate = `{
  "Parameters": {
    "Suffix": {"Type": "String"},
    "Mode": {"Type": "String", "Default": "per-az"},
    "Size": {"Type": "String", "Default": "1024/2048"},
    "Cert": {"Type": "String", "Default": ""},
    "Env": {"Type": "String", "Default": "dev"}
  },
  "Mappings": {"EnvConfig": {"dev": {"Max": "4"}}},
  "Conditions": {
    "PerAZ": {"Fn::Equals": [{"Ref": "Mode"}, "per-az"]},
    "HasCert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Cert"}, ""]}]},
    "Both": {"Fn::And": [{"Condition": "PerAZ"}, {"Condition": "HasCert"}]},
    "Either": {"Fn::Or": [{"Condition": "PerAZ"}, {"Condition": "HasCert"}]}
  },
  "Resources": {
    "Nat1": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    "Nat2": {"Type": "AWS::EC2::NatGateway", "Condition": "PerAZ", "Properties": {}}
  }
}`

func evalTiny(t *testing.T, overrides map[string]string) *Evaluation {
	t.Helper()
	tmpl, err := Parse([]byte(tinyTemplate))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Evaluate(tmpl, overrides)
	if err != nil {
		t.Fatalf("Evaluate(%v) = %v", overrides, err)
	}
	return e
}

func TestEvaluateIntrinsics(t *testing.T) {
	e := evalTiny(t, map[string]string{"Suffix": "s1"})
	for _, tc := range []struct {
		name string
		in   string
		want any
	}{
		{"Ref parameter", `{"Ref": "Suffix"}`, "s1"},
		{"Ref default", `{"Ref": "Mode"}`, "per-az"},
		{"Ref pseudo region", `{"Ref": "AWS::Region"}`, EvalRegion},
		{"Ref pseudo account", `{"Ref": "AWS::AccountId"}`, EvalAccount},
		{"Ref resource", `{"Ref": "Nat1"}`, ResourceValue{ID: "Nat1"}},
		{"GetAtt list", `{"Fn::GetAtt": ["Nat1", "Id"]}`, ResourceValue{ID: "Nat1", Attr: "Id"}},
		{"GetAtt dotted", `{"Fn::GetAtt": "Nat1.Id"}`, ResourceValue{ID: "Nat1", Attr: "Id"}},
		{"Equals number and string", `{"Fn::Equals": [2, "2.0"]}`, true},
		{"Not", `{"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}`, true},
		{"And", `{"Fn::And": [{"Condition": "PerAZ"}, {"Condition": "HasCert"}]}`, false},
		{"Or", `{"Fn::Or": [{"Condition": "PerAZ"}, {"Condition": "HasCert"}]}`, true},
		{"If true branch", `{"Fn::If": ["PerAZ", "yes", "no"]}`, "yes"},
		{"If false branch", `{"Fn::If": ["HasCert", "yes", "no"]}`, "no"},
		{"FindInMap", `{"Fn::FindInMap": ["EnvConfig", {"Ref": "Env"}, "Max"]}`, "4"},
		{"Select of Split", `{"Fn::Select": ["1", {"Fn::Split": ["/", {"Ref": "Size"}]}]}`, "2048"},
		{"Join", `{"Fn::Join": ["-", ["a", {"Ref": "Suffix"}, 3]]}`, "a-s1-3"},
		{"Sub parameter", `{"Fn::Sub": "task-${Suffix}"}`, "task-s1"},
		{"Sub attribute", `{"Fn::Sub": "${Nat1.Id}:x"}`, "{Nat1.Id}:x"},
		{"Sub pseudo", `{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}"}`, "arn:aws:ssm:us-east-1"},
		{"Sub variables", `{"Fn::Sub": ["${A}-${Suffix}", {"A": {"Ref": "Env"}}]}`, "dev-s1"},
		{"Sub escape", `{"Fn::Sub": "${!Literal}"}`, "${!Literal}"},
		{"GetAZs", `{"Fn::Select": [2, {"Fn::GetAZs": ""}]}`, EvalRegion + "c"},
		{"NoValue drops a key", `{"A": {"Ref": "AWS::NoValue"}, "B": 1}`, map[string]any{"B": float64(1)}},
		{"NoValue drops a list item", `[{"Fn::If": ["HasCert", "x", {"Ref": "AWS::NoValue"}]}, "y"]`, []any{"y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Value(mustJSON(t, tc.in))
			if err != nil {
				t.Fatalf("Value(%s) = %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Value(%s) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	e := evalTiny(t, nil)
	for _, in := range []string{
		`{"Ref": "Nowhere"}`,
		`{"Fn::Equals": [1]}`,
		`{"Fn::Not": [true, false]}`,
		`{"Fn::And": ["x", true]}`,
		`{"Fn::If": ["NoSuchCondition", 1, 2]}`,
		`{"Fn::FindInMap": ["EnvConfig", "prod", "Max"]}`,
		`{"Fn::Select": [5, ["a"]]}`,
		`{"Fn::Join": ["-", "not a list"]}`,
		`{"Fn::Sub": "${Nowhere}"}`,
		`{"Fn::Base64": "x"}`,
		`{"Fn::GetAtt": "NoDot"}`,
	} {
		if v, err := e.Value(mustJSON(t, in)); err == nil {
			t.Errorf("Value(%s) = %v, want an error", in, v)
		}
	}
}

func TestEvaluateConditionsAndPresence(t *testing.T) {
	e := evalTiny(t, map[string]string{"Mode": "single", "Cert": "arn:cert"})
	tmpl := e.Template()
	if e.Present(tmpl.Resources["Nat2"].Condition) {
		t.Error("Nat2 present with Mode=single, want absent")
	}
	if !e.Present(tmpl.Resources["Nat1"].Condition) {
		t.Error("Nat1 absent, want present (no condition)")
	}
	for name, want := range map[string]bool{"PerAZ": false, "HasCert": true, "Both": false, "Either": true} {
		if got, err := e.Condition(name); err != nil || got != want {
			t.Errorf("Condition(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}

func TestEvaluateRejectsUnknownOverrideAndConditionCycle(t *testing.T) {
	tmpl, err := Parse([]byte(tinyTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Evaluate(tmpl, map[string]string{"Nope": "x"}); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("Evaluate with an unknown parameter = %v, want an error naming it", err)
	}
	tmpl.Conditions["Loop"] = Condition("Loop")
	if _, err := Evaluate(tmpl, nil); err == nil {
		t.Error("Evaluate with a condition referring to itself succeeded, want an error")
	}
}

// The evaluator reads what the builder writes: a built template, encoded and parsed, evaluates.
func TestEvaluateBuiltTemplate(t *testing.T) {
	tmpl := New("t")
	tmpl.Parameters["Env"] = &Parameter{Type: "String", Default: "dev"}
	tmpl.Conditions["IsDev"] = Equals(Ref("Env"), "dev")
	if err := tmpl.Add("Bucket", &Resource{Type: "AWS::S3::Bucket", Condition: "IsDev",
		Properties: map[string]any{"BucketName": Sub("b-${Env}"), "Tags": []Tag{{Key: "K", Value: If("IsDev", "d", NoValue())}}}}); err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Evaluate(parsed, nil)
	if err != nil {
		t.Fatal(err)
	}
	props, err := e.Properties(parsed.Resources["Bucket"])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"BucketName": "b-dev", "Tags": []any{map[string]any{"Key": "K", "Value": "d"}}}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("Properties = %#v, want %#v", props, want)
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := jsonUnmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// FuzzEvaluate: any template that parses evaluates to a value or an error, never a panic or a
// hang (conditions that refer to each other in a cycle included).
func FuzzEvaluate(f *testing.F) {
	f.Add(tinyTemplate, `{"Fn::If": ["Both", {"Ref": "Suffix"}, {"Fn::Sub": "${Nat1.Id}"}]}`)
	f.Add(`{"Conditions": {"A": {"Condition": "B"}, "B": {"Fn::Not": [{"Condition": "A"}]}}, "Resources": {"R": {"Type": "T"}}}`, `{"Condition": "A"}`)
	f.Add(`{"Resources": {"R": {"Type": "T", "Properties": {"X": {"Fn::Select": [-1, []]}}}}}`, `{"Fn::Join": [1, 2]}`)
	f.Fuzz(func(t *testing.T, template, expr string) {
		tmpl, err := Parse([]byte(template))
		if err != nil {
			return
		}
		e, err := Evaluate(tmpl, nil)
		if err != nil {
			return
		}
		for _, r := range tmpl.Resources {
			if r != nil {
				_, _ = e.Properties(r)
			}
		}
		var v any
		if json.Unmarshal([]byte(expr), &v) == nil {
			_, _ = e.Value(v)
		}
	})
}
