package deploytest

import (
	"encoding/json"
	"github.com/acme/catalog/internal/blueprint"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The deploy scripts rely on facts of the stacks and of AWS that no schema checks; each test
// here holds one of them, offline.

type template struct {
	Transform  any `json:"Transform"`
	Parameters map[string]struct {
		Default *string `json:"Default"`
	} `json:"Parameters"`
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Condition  string         `json:"Condition"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
	Outputs map[string]struct {
		Condition string `json:"Condition"`
	} `json:"Outputs"`
}

func templateFile(tb testing.TB) string {
	return filepath.Join(repoRoot(tb), "deploy", "cloudformation", "catalog.json")
}

func loadTemplate(tb testing.TB) template {
	tb.Helper()
	var tpl template
	loadJSON(tb, templateFile(tb), &tpl)
	return tpl
}

func loadJSON(tb testing.TB, file string, v any) {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatalf("%v (the template is generated: go run ./cmd/cfngen -o deploy/cloudformation/catalog.json)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
}

func readScript(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(tb), "scripts", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestTemplateGoesThroughS3: ValidateTemplate and CreateStack take at most 51,200 bytes inline
// (TemplateBody) and 460,800 bytes from S3 (TemplateURL):
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html
// The script always uploads it; the template must stay under the S3 limit.
func TestTemplateGoesThroughS3(t *testing.T) {
	st, err := os.Stat(templateFile(t))
	if err != nil {
		t.Fatal(err)
	}
	const inline, viaS3 = 51200, 460800
	t.Logf("template: %d bytes (inline limit %d, TemplateURL limit %d)", st.Size(), inline, viaS3)
	if st.Size() > viaS3 {
		t.Errorf("catalog.json is %d bytes, more than the %d bytes CloudFormation reads from S3", st.Size(), viaS3)
	}
	script := readScript(t, "deploy-cloudformation.sh")
	for _, s := range []string{"--template-url", `--s3-bucket "$BUCKET"`} {
		if !strings.Contains(script, s) {
			t.Errorf("deploy-cloudformation.sh does not pass %s: a template over %d bytes needs S3", s, inline)
		}
	}
}

// TestTemplateCapabilities: IAM resources with custom names need CAPABILITY_NAMED_IAM, a
// Transform needs CAPABILITY_AUTO_EXPAND ("Capabilities",
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
// The script must acknowledge exactly what the template needs.
func TestTemplateCapabilities(t *testing.T) {
	tpl := loadTemplate(t)
	want := []string{}
	named := false
	for id, r := range tpl.Resources {
		if !strings.HasPrefix(r.Type, "AWS::IAM::") {
			continue
		}
		for _, p := range []string{"RoleName", "PolicyName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName"} {
			if _, ok := r.Properties[p]; ok && !(r.Type == "AWS::IAM::Policy" && p == "PolicyName") {
				t.Logf("%s (%s) names itself with %s", id, r.Type, p)
				named = true
			}
		}
	}
	if named {
		want = append(want, "CAPABILITY_NAMED_IAM")
	}
	if tpl.Transform != nil {
		want = append(want, "CAPABILITY_AUTO_EXPAND")
	}
	m := regexp.MustCompile(`--capabilities ([A-Z_ ]+?) --`).FindStringSubmatch(readScript(t, "deploy-cloudformation.sh"))
	if m == nil {
		t.Fatal("deploy-cloudformation.sh passes no --capabilities")
	}
	if got := strings.Join(strings.Fields(m[1]), " "); got != strings.Join(want, " ") {
		t.Errorf("deploy-cloudformation.sh acknowledges %q, the template needs %q", got, strings.Join(want, " "))
	}
}

// TestTemplateBootstrapContract: what the script reads and sets exists in the template.
func TestTemplateBootstrapContract(t *testing.T) {
	tpl := loadTemplate(t)
	for _, p := range []string{"EnvironmentSuffix", "Environment", "ImageTag", "ContainerImage", "NatGatewayMode"} {
		if _, ok := tpl.Parameters[p]; !ok {
			t.Errorf("the template has no parameter %s, which the script or its README sets", p)
		}
	}
	for _, o := range []string{"RepositoryUri", "ServiceUrl", "ClusterName", "ApiKeySecretArn", "DashboardUrl", "ServiceName"} {
		if _, ok := tpl.Outputs[o]; !ok {
			t.Errorf("the template has no output %s, which the script reads", o)
		}
	}
	for _, o := range []string{"RepositoryUri", "ServiceUrl", "ClusterName", "ApiKeySecretArn"} {
		if c := tpl.Outputs[o].Condition; c != "" {
			t.Errorf("output %s depends on condition %s: the bootstrap deploy needs it unconditionally", o, c)
		}
	}
	// The destroy asks the deployed template whether the repository empties itself, by this
	// logical ID; without EmptyOnDelete it empties the repository first.
	repo, ok := tpl.Resources["Repository"]
	if !ok || repo.Type != "AWS::ECR::Repository" {
		t.Fatalf("no AWS::ECR::Repository with the logical ID Repository (deploy-cloudformation.sh's get-template query)")
	}
	if v, _ := repo.Properties["EmptyOnDelete"].(bool); !v {
		t.Errorf("Repository lacks EmptyOnDelete: true; CloudFormation cannot delete a repository holding images")
	}
	// The bootstrap state: with ImageTag and ContainerImage empty there is no service. Until the
	// template defaults ImageTag to "" the first deploy cannot leave it empty.
	it := tpl.Parameters["ImageTag"]
	if it.Default == nil {
		t.Skip("ImageTag has no default yet: the bootstrap contract (ImageTag defaults to \"\") is not in this template")
	}
	if *it.Default != "" {
		t.Errorf("ImageTag defaults to %q, want \"\" (the bootstrap state)", *it.Default)
	}
	if tpl.Resources["Service"].Condition == "" {
		t.Errorf("the ECS service has no condition: the bootstrap deploy would start it without an image")
	}
	if tpl.Outputs["ServiceName"].Condition == "" {
		t.Errorf("the ServiceName output has no condition, but the service exists only with an image")
	}
}

// TestImagePlatform: the image is built for the architecture the task definitions pin; an
// image for another one dies with "exec format error".
func TestImagePlatform(t *testing.T) {
	m := regexp.MustCompile(`(?m)^readonly IMAGE_PLATFORM=(\S+)$`).FindStringSubmatch(readScript(t, "lib/deploy.sh"))
	if m == nil {
		t.Fatal("scripts/lib/deploy.sh sets no IMAGE_PLATFORM")
	}
	platform := map[string]string{"X86_64": "linux/amd64", "ARM64": "linux/arm64"}
	for id, r := range loadTemplate(t).Resources {
		if r.Type != "AWS::ECS::TaskDefinition" {
			continue
		}
		rp, _ := r.Properties["RuntimePlatform"].(map[string]any)
		arch, _ := rp["CpuArchitecture"].(string)
		if platform[arch] != m[1] {
			t.Errorf("%s runs on %q, the scripts build for %s", id, arch, m[1])
		}
	}
	// The Pulumi task definition's architecture is held to blueprint by its own tests
	// (deploy/pulumi/infra TestTaskDefinitionPlatform and friends); here the scripts are.
	if m[1] != blueprint.ImagePlatform {
		t.Errorf("the scripts build for %s, blueprint.ImagePlatform is %s", m[1], blueprint.ImagePlatform)
	}
}

// TestPulumiOutputs: the outputs deploy-pulumi.sh reads are exported by the program.
func TestPulumiOutputs(t *testing.T) {
	file := filepath.Join(repoRoot(t), "deploy", "pulumi", "infra", "stack.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "Outputs" {
			return true
		}
		// Outputs are map literal keys or out["key"] = ... for the conditional ones.
		ast.Inspect(fn, func(n ast.Node) bool {
			var key ast.Expr
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				key = n.Key
			case *ast.IndexExpr:
				key = n.Index
			}
			if lit, ok := key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				k, _ := strconv.Unquote(lit.Value)
				keys[k] = true
			}
			return true
		})
		return false
	})
	if len(keys) == 0 {
		t.Fatal("found no outputs in (*Stack).Outputs in deploy/pulumi/infra/stack.go")
	}
	script := readScript(t, "deploy-pulumi.sh")
	read := regexp.MustCompile(`\$\(output_value ([A-Za-z]+)\)`).FindAllStringSubmatch(script, -1)
	if len(read) == 0 {
		t.Fatal("deploy-pulumi.sh reads no stack output")
	}
	for _, m := range read {
		if !keys[m[1]] {
			t.Errorf("deploy-pulumi.sh reads the output %s, which the program does not export", m[1])
		}
	}
}

// TestTemplateBucketName: the default bucket name is valid for every region: at most 63
// characters of lower-case letters, digits and hyphens
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
func TestTemplateBucketName(t *testing.T) {
	if !strings.Contains(readScript(t, "deploy-cloudformation.sh"), "catalog-cfn-templates-$ACCOUNT-$REGION") {
		t.Fatal("the default bucket name changed: update this test")
	}
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	for _, region := range []string{"us-east-1", "ap-southeast-5", "ap-northeast-3", "us-gov-west-1", "us-isob-east-1", "eusc-de-east-1"} {
		name := "catalog-cfn-templates-" + account + "-" + region
		if !valid.MatchString(name) {
			t.Errorf("bucket %q (%d characters) breaks the S3 naming rules", name, len(name))
		}
	}
}

// TestShellcheck lints every script; it skips only where shellcheck is not installed
// (scripts/test.sh installs it).
func TestShellcheck(t *testing.T) {
	t.Parallel()
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed (apt-get install shellcheck)")
	}
	root := repoRoot(t)
	scripts, _ := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	lib, _ := filepath.Glob(filepath.Join(root, "scripts", "lib", "*.sh"))
	scripts = append(scripts, lib...)
	cmd := exec.Command(sc, append([]string{"--external-sources", "--severity=style"}, scripts...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck %s: %v\n%s", strings.Join(scripts, " "), err, out)
	}
}
