package parity

import (
	"strings"
	"testing"

	"github.com/acme/catalog/internal/cfn"
)

const tiny = `{
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
    "Both": {"Fn::And": [{"Condition": "PerAZ"}, {"Condition": "HasCert"}]}
  },
  "Resources": {
    "Nat1": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    "Nat2": {"Type": "AWS::EC2::NatGateway", "Condition": "PerAZ", "Properties": {}},
    "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
      "Cpu": {"Fn::Select": [0, {"Fn::Split": ["/", {"Ref": "Size"}]}]},
      "Memory": {"Fn::Select": ["1", {"Fn::Split": ["/", {"Ref": "Size"}]}]},
      "Family": {"Fn::Sub": "task-catalog-${Suffix}"}
    }},
    "Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
      "MinCapacity": 2, "MaxCapacity": {"Fn::FindInMap": ["EnvConfig", {"Ref": "Env"}, "Max"]},
      "RoleARN": {"Fn::If": ["HasCert", "x", {"Ref": "AWS::NoValue"}]}
    }},
    "Ingress": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {}}
  }
}`

// FromTemplate reads an evaluated template (the evaluator itself is tested in internal/cfn).
func TestFromTemplate(t *testing.T) {
	tmpl, err := cfn.Parse([]byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	e, err := cfn.Evaluate(tmpl, map[string]string{"Suffix": "s1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromTemplate(e, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts["AWS::EC2::NatGateway"] != 2 || s.Counts["AWS::EC2::SecurityGroupIngress"] != 0 {
		t.Errorf("counts = %v, want 2 NAT gateways and the folded ingress uncounted", s.Counts)
	}
	if s.Facts["task.size"] != "1024/2048" || s.Facts["scaling.bounds"] != "2-4" {
		t.Errorf("facts task.size %q scaling.bounds %q", s.Facts["task.size"], s.Facts["scaling.bounds"])
	}
	if s.Facts["names.AWS::ECS::TaskDefinition"] != "task-catalog-{suffix}" {
		t.Errorf("names = %q", s.Facts["names.AWS::ECS::TaskDefinition"])
	}
	props, _ := e.Properties(tmpl.Resources["Target"])
	if _, ok := props["RoleARN"]; ok {
		t.Error("AWS::NoValue did not drop the property")
	}

}

func TestCompare(t *testing.T) {
	a := Summary{Counts: map[string]int{"AWS::EC2::VPC": 1, KindSecureString: 2}, Facts: map[string]string{"x": "1"}}
	b := Summary{Counts: map[string]int{"AWS::EC2::VPC": 1, "AWS::SecretsManager::Secret": 1}, Facts: map[string]string{"x": "1"}}
	if d := Compare(a, b); len(d) != 0 {
		t.Errorf("Compare(equal up to the expected deltas) = %q", d)
	}
	b.Counts["AWS::EC2::VPC"] = 2
	b.Facts["x"] = "2"
	b.Facts["y"] = "3"
	d := Compare(a, b)
	if len(d) != 3 || !strings.Contains(strings.Join(d, "\n"), "count AWS::EC2::VPC: Pulumi 1, CloudFormation 2") {
		t.Errorf("Compare = %q, want the count, the changed fact and the missing fact", d)
	}
}

func TestMissingTemplateSaysHowToGenerateIt(t *testing.T) {
	_, err := LoadTemplate("testdata/does-not-exist.json")
	if err == nil || !strings.Contains(err.Error(), "go test ./internal/cfnstack -update") {
		t.Errorf("LoadTemplate(missing) = %v, want the hint", err)
	}
}
