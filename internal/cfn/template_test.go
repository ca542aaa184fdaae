package cfn

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestJSONIsDeterministicSortedAndNotHTMLEscaped(t *testing.T) {
	build := func() *Template {
		tpl := New("a <b> & c")
		tpl.Parameters["Zeta"] = &Parameter{Type: "String", Description: "z", MaxLength: Int(3)}
		tpl.Parameters["Alpha"] = &Parameter{Type: "Number", MinValue: Float(0.5)}
		if err := tpl.Add("Bucket", &Resource{Type: "AWS::S3::Bucket", DeletionPolicy: Delete,
			Properties: map[string]any{"Zed": 1, "BucketName": Sub("b-${Zeta}")}}); err != nil {
			t.Fatal(err)
		}
		tpl.Outputs["Name"] = &Output{Value: Ref("Bucket"), Export: &Export{Name: Sub("${AWS::StackName}-Name")}}
		return tpl
	}
	a, err := build().JSON()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := build().JSON()
	if string(a) != string(b) {
		t.Fatal("two encodings of the same template differ")
	}
	s := string(a)
	if !strings.Contains(s, `"Description": "a <b> & c"`) {
		t.Errorf("description was escaped or lost:\n%s", s)
	}
	if !strings.HasPrefix(s, "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Description\"") {
		t.Errorf("want two-space indent and sorted top-level keys, got:\n%s", s[:80])
	}
	if strings.Index(s, `"BucketName"`) > strings.Index(s, `"Zed"`) {
		t.Error("property keys are not sorted")
	}
	if strings.Index(s, `"DeletionPolicy"`) > strings.Index(s, `"Properties"`) {
		t.Error("resource keys are not sorted")
	}
	if strings.Contains(s, `"MinLength"`) || strings.Contains(s, `"Mappings"`) {
		t.Errorf("zero-valued fields were not omitted:\n%s", s)
	}
	if !strings.Contains(s, `"MinValue": 0.5`) || !strings.HasSuffix(s, "}\n") {
		t.Errorf("unexpected encoding:\n%s", s)
	}
}

func TestAddRejectsDuplicatesAndBadIDs(t *testing.T) {
	tpl := New("")
	if err := tpl.Add("VPC", &Resource{Type: "AWS::EC2::VPC"}); err != nil {
		t.Fatal(err)
	}
	if err := tpl.Add("VPC", &Resource{Type: "AWS::EC2::VPC"}); err == nil {
		t.Error("Add(VPC) twice = nil, want an error")
	}
	for _, bad := range []string{"", "my-vpc", "a.b"} {
		if err := tpl.Add(bad, &Resource{}); err == nil {
			t.Errorf("Add(%q) = nil, want an error", bad)
		}
	}
}

func TestIntrinsicsEncoding(t *testing.T) {
	cases := []struct {
		got  any
		want string
	}{
		{Ref("X"), `{"Ref":"X"}`},
		{NoValue(), `{"Ref":"AWS::NoValue"}`},
		{GetAtt("ALB", "DNSName"), `{"Fn::GetAtt":["ALB","DNSName"]}`},
		{Sub("a-${X}"), `{"Fn::Sub":"a-${X}"}`},
		{SubWith("${A}", map[string]any{"A": Ref("B")}), `{"Fn::Sub":["${A}",{"A":{"Ref":"B"}}]}`},
		{Join(",", Ref("A"), "b"), `{"Fn::Join":[",",[{"Ref":"A"},"b"]]}`},
		{AZ(2), `{"Fn::Select":[2,{"Fn::GetAZs":""}]}`},
		{Split("/", Ref("S")), `{"Fn::Split":["/",{"Ref":"S"}]}`},
		{If("C", 1, NoValue()), `{"Fn::If":["C",1,{"Ref":"AWS::NoValue"}]}`},
		{Not(Equals(Ref("P"), "")), `{"Fn::Not":[{"Fn::Equals":[{"Ref":"P"},""]}]}`},
		{And(Condition("A"), Condition("B")), `{"Fn::And":[{"Condition":"A"},{"Condition":"B"}]}`},
		{Or(Condition("A"), Condition("B")), `{"Fn::Or":[{"Condition":"A"},{"Condition":"B"}]}`},
		{FindInMap("M", Ref("E"), "K"), `{"Fn::FindInMap":["M",{"Ref":"E"},"K"]}`},
		{ImportValue("net-VpcId"), `{"Fn::ImportValue":"net-VpcId"}`},
		{Base64("x"), `{"Fn::Base64":"x"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("encoding = %s, want %s", b, c.want)
		}
	}
}

func TestReferences(t *testing.T) {
	v := map[string]any{
		"A": Ref("P"),
		"B": GetAtt("R", "Arn"),
		"C": Sub("x-${P}-${R.Endpoint.Address}-${!Literal}-${AWS::Region}"),
		"D": SubWith("${Local}-${Q}", map[string]any{"Local": Ref("Z")}),
		"E": If("Cond", FindInMap("M", Ref("Env"), "k"), Condition("Other")),
	}
	got := References(v)
	want := []Reference{
		{Kind: "Ref", Target: "P"},
		{Kind: "Fn::GetAtt", Target: "R", Attribute: "Arn"},
		{Kind: "Fn::Sub", Target: "P"},
		{Kind: "Fn::Sub", Target: "R", Attribute: "Endpoint.Address"},
		{Kind: "Fn::Sub", Target: "AWS::Region"},
		{Kind: "Fn::Sub", Target: "Q"},
		{Kind: "Ref", Target: "Z"},
		{Kind: "Fn::If", Target: "Cond"},
		{Kind: "Fn::FindInMap", Target: "M"},
		{Kind: "Ref", Target: "Env"},
		{Kind: "Condition", Target: "Other"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("References() =\n%v\nwant\n%v", got, want)
	}
}

func TestSubPlaceholders(t *testing.T) {
	got := SubPlaceholders("${A}/${!B}${C.D} ${ E }${unterminated")
	want := []string{"A", "C.D", "E"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SubPlaceholders = %q, want %q", got, want)
	}
}

func TestRulesEncodeAndRefuseEmpty(t *testing.T) {
	tpl := New("r")
	if err := tpl.AddRule("Bad", &Rule{}); err == nil {
		t.Error("AddRule without assertions = nil, want an error")
	}
	if err := tpl.AddRule("bad-id", &Rule{Assertions: []Assertion{{Assert: true}}}); err == nil {
		t.Error("AddRule with a non-alphanumeric ID = nil, want an error")
	}
	r := &Rule{
		RuleCondition: Equals(Ref("A"), "x"),
		Assertions:    []Assertion{{Assert: Fn{"Fn::Contains": []any{[]any{"1", "2"}, Ref("B")}}, AssertDescription: "B must be 1 or 2 when A is x"}},
	}
	if err := tpl.AddRule("BWithA", r); err != nil {
		t.Fatal(err)
	}
	if err := tpl.AddRule("BWithA", r); err == nil {
		t.Error("AddRule twice = nil, want an error")
	}
	b, err := tpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `"Rules": {
    "BWithA": {
      "Assertions": [
        {
          "Assert": {
            "Fn::Contains": [
              [
                "1",
                "2"
              ],
              {
                "Ref": "B"
              }
            ]
          },
          "AssertDescription": "B must be 1 or 2 when A is x"
        }
      ],
      "RuleCondition": {
        "Fn::Equals": [
          {
            "Ref": "A"
          },
          "x"
        ]
      }
    }
  }`
	if !strings.Contains(string(b), want) {
		t.Errorf("JSON() lacks the rule:\n%s", b)
	}
}

func TestDependencies(t *testing.T) {
	tpl := New("d")
	tpl.Resources["A"] = &Resource{Type: "T", Properties: map[string]any{"X": GetAtt("B", "Arn"), "Y": Sub("${C}-${AWS::Region}-${P}")}}
	tpl.Resources["B"] = &Resource{Type: "T", DependsOn: []string{"C"}}
	tpl.Resources["C"] = &Resource{Type: "T", Properties: map[string]any{"Z": Ref("AWS::StackName")}}
	tpl.Parameters["P"] = &Parameter{Type: "String"}
	deps := tpl.Dependencies()
	if got := strings.Join(deps["A"], ","); got != "B,C" {
		t.Errorf("deps[A] = %s, want B,C", got)
	}
	if !deps.Waits("A", "C") || deps.Waits("C", "A") {
		t.Error("Waits wrong")
	}
	if c := deps.Cycle(); c != nil {
		t.Errorf("Cycle = %v, want nil", c)
	}
	tpl.Resources["C"].DependsOn = []string{"A"}
	if c := tpl.Dependencies().Cycle(); len(c) != 4 || c[0] != c[3] {
		t.Errorf("Cycle = %v, want a three-resource cycle", c)
	}
}
