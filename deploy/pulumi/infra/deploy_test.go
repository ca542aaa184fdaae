package infra_test

// Rules a deploy enforces and no schema knows, checked on what the program registers under
// mocks: the names each AWS API accepts, the order resources are created in, ordinary
// availability zones only, and the bootstrap deploy without an image.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/awsnames"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/depgraph"
)

// testSuffixes are the suffixes the naming rules are checked with: the shortest, typical ones,
// six characters (the shape Secrets Manager reserves) and the longest the pattern allows.
var testSuffixes = []string{"a", "dev", "pr-12", "zq9abc", strings.Repeat("z", blueprint.MaxSuffixLength), "a1-b2-c3-d4-e5-f6"[:blueprint.MaxSuffixLength]}

// namedInputs are, per resource type, the inputs that hold a name AWS checks and its rules.
// A custom resource with a name-like input (nameLikeInputs) of a type not listed here fails
// TestDeployNamesFollowAWSRules: classify it.
var namedInputs = map[string]map[string]awsnames.Kind{
	tSG:         {"name": awsnames.SecurityGroupName, "namePrefix": awsnames.SecurityGroupName},
	tDBCluster:  {"clusterIdentifier": awsnames.DBClusterIdentifier},
	tDBInstance: {"identifier": awsnames.DBInstanceIdentifier},
	tDBSubnets:  {"name": awsnames.DBSubnetGroupName},
	tDBParams:   {"name": awsnames.DBParameterGroupName},
	tALB:        {"name": awsnames.LoadBalancerName},
	tTG:         {"name": awsnames.TargetGroupName, "namePrefix": awsnames.TargetGroupName},
	tRepo:       {"name": awsnames.ECRRepositoryName},
	tRole:       {"name": awsnames.IAMRoleName, "path": awsnames.IAMPath},
	tRolePolicy: {"name": awsnames.IAMPolicyName},
	tKMSAlias:   {"name": awsnames.KMSAliasName},
	tParameter:  {"name": awsnames.SSMParameterName},
	tLogGroup:   {"name": awsnames.LogGroupName},
	tCluster:    {"name": awsnames.ECSClusterName},
	tService:    {"name": awsnames.ECSServiceName},
	tTaskDef:    {"family": awsnames.ECSTaskFamily},
	tTopic:      {"name": awsnames.SNSTopicName},
	tAlarm:      {"name": awsnames.AlarmName},
	tDashboard:  {"dashboardName": awsnames.DashboardName},
	tPolicy:     {"name": awsnames.ScalingPolicyName},
	// PutScheduledAction's ScheduledActionName has PutScalingPolicy's PolicyName rules (1-256, no
	// ':', '/', '|', control characters or edge spaces).
	tScheduled:   {"name": awsnames.ScalingPolicyName},
	tSecret:      {"name": awsnames.SecretName},
	tCachePolicy: {"name": awsnames.CachePolicyName},
	tWebACL:      {"name": awsnames.WebACLName},
	tCFFunction:  {"name": awsnames.CloudFrontFunction},
	tEventBus:    {"name": awsnames.EventBusName},
	tArchive:     {"name": awsnames.EventArchiveName},
	tSchedule:    {"name": awsnames.SchedulerScheduleName},
}

var nameLikeInputs = []string{"name", "namePrefix", "identifier", "family", "dashboardName", "clusterIdentifier"}

// pulumiRandomSuffix stands for the 26 characters the provider appends to a namePrefix.
var pulumiRandomSuffix = strings.Repeat("0", 26)

func TestDeployNamesFollowAWSRules(t *testing.T) {
	for _, env := range blueprint.Environments {
		for _, suffix := range testSuffixes {
			cfg := fullConfig()
			cfg.Suffix, cfg.Environment, cfg.CostCenter = suffix, env, env.CostCenter
			cfg.DBMinACU, cfg.DBMaxACU = env.MinACU, env.MaxACU
			r := runStack(t, cfg)
			checked := 0
			for _, x := range r.resources {
				if !x.Custom {
					continue
				}
				for _, k := range nameLikeInputs {
					v, ok := x.Inputs[k].(string)
					if !ok {
						continue
					}
					kind, known := namedInputs[x.Type][k]
					if !known {
						if k == "clusterIdentifier" && x.Type == tDBInstance || k == "family" && x.Type == tDBParams {
							continue // the cluster's name (checked there), the engine family
						}
						t.Errorf("%s %s has name-like input %s without naming rules: add it to namedInputs", x.Type, x.Name, k)
						continue
					}
					if k == "namePrefix" {
						// The provider appends 26 random characters.
						v += pulumiRandomSuffix
					}
					checked++
					if err := awsnames.Check(kind, v); err != nil {
						t.Errorf("environment %s, suffix %q: %s %s.%s: %v", env.Name, suffix, x.Type, x.Name, k, err)
					}
				}
				if x.Type == tSG {
					if err := awsnames.Check(awsnames.SecurityGroupName, x.str("tags.Name")); err != nil {
						t.Errorf("suffix %q: %s Name tag: %v", suffix, x.Name, err)
					}
				}
			}
			if checked < 30 {
				t.Errorf("suffix %q: only %d names checked", suffix, checked)
			}
		}
	}
}

// graph maps each resource's logical name to the names of the resources it depends on (its
// recorded dependencies: explicit DependsOn and the resources its inputs come from).
func graph(r *run) depgraph.Graph {
	deps := depgraph.Graph{}
	for _, x := range r.resources {
		var ds []string
		for _, urn := range x.Deps {
			ds = append(ds, urn[strings.LastIndex(urn, "::")+2:])
		}
		deps[x.Name] = ds
	}
	return deps
}

// TestDeployOrdinaryZonesOnly: the zones invoke filters out opted-in Local and Wavelength
// Zones (the mock lists a Local Zone first otherwise), so subnets and instances land only in
// ordinary availability zones.
func TestDeployOrdinaryZonesOnly(t *testing.T) {
	r := runStack(t, defaultConfig())
	if len(r.azFilters) == 0 || !strings.Contains(r.azFilters[0], "opt-in-status=opt-in-not-required") {
		t.Errorf("getAvailabilityZones filters = %q, want opt-in-status=opt-in-not-required", r.azFilters)
	}
	for _, typ := range []string{tSubnet, tDBInstance} {
		for _, x := range r.of(typ) {
			if az := x.str("availabilityZone"); !slices.Contains(testAZs, az) {
				t.Errorf("%s %s is in %q, not an ordinary availability zone", typ, x.Name, az)
			}
		}
	}
}

// TestDeployBootstrapWithoutImage: without imageTag and image the stack makes everything a
// first image push needs, and nothing that needs the image; with a tag the service appears.
func TestDeployBootstrapWithoutImage(t *testing.T) {
	imageTypes := []string{tTaskDef, tService, tTarget, tPolicy}
	bootstrapTypes := []string{tVPC, tDBCluster, tDBInstance, tRepo, tALB, tListener, tTG, tParameter, tLogGroup, tKMSKey, tTopic, tCluster, tDashboard}
	bootstrapOutputs := []string{"serviceUrl", "ecrRepositoryUri", "apiKeySecretArn", "clusterName", "dashboardUrl"}
	for _, sc := range []struct {
		name      string
		cfg       func() infra.Config
		withImage bool
	}{
		{"bootstrap", func() infra.Config { c := defaultConfig(); c.ImageTag = ""; return c }, false},
		{"image-tag", defaultConfig, true},
		{"image", func() infra.Config {
			c := defaultConfig()
			c.ImageTag, c.Image = "", "public.ecr.aws/acme/catalog:1.0.0"
			return c
		}, true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			r := runStack(t, sc.cfg())
			for _, typ := range imageTypes {
				if got := len(r.of(typ)) > 0; got != sc.withImage {
					t.Errorf("%s present = %v, want %v", typ, got, sc.withImage)
				}
			}
			for _, typ := range bootstrapTypes {
				if len(r.of(typ)) == 0 {
					t.Errorf("no %s", typ)
				}
			}
			for _, a := range r.of(tAlarm) {
				if _, named := a.get("dimensions").(map[string]any)[blueprint.DimServiceName]; named && !sc.withImage {
					t.Errorf("alarm %s names the service, which does not exist", a.Name)
				}
			}
			var body struct {
				Widgets []struct{ Properties struct{ Metrics [][]any } }
			}
			if err := json.Unmarshal([]byte(r.of(tDashboard)[0].str("dashboardBody")), &body); err != nil {
				t.Fatal(err)
			}
			for _, w := range body.Widgets {
				for _, m := range w.Properties.Metrics {
					for i, v := range m {
						if v == "ServiceName" && (i+1 >= len(m) || m[i+1] == "") {
							t.Errorf("dashboard metric %v names no service", m)
						}
					}
				}
			}
			for _, k := range bootstrapOutputs {
				if _, ok := r.outputs[k]; !ok {
					t.Errorf("output %s missing", k)
				}
			}
			if _, ok := r.outputs["serviceName"]; ok != sc.withImage {
				t.Errorf("output serviceName present = %v, want %v", ok, sc.withImage)
			}
		})
	}
}

// TestDeployDatabaseSettings: the stored connection string is one a client can use (no
// sslrootcert, which clients read as a file path), the engine version comes from the
// configuration and later automatic minor upgrades are not drift, and the task definition
// runs the platform images are built for.
func TestDeployDatabaseSettings(t *testing.T) {
	c := defaultConfig()
	c.DBEngineVersion = "16.11"
	r := runStack(t, c)
	cluster := r.of(tDBCluster)[0]
	for _, p := range r.of(tParameter) {
		if strings.HasSuffix(p.str("name"), "/"+blueprint.ParamDBURL) {
			want := blueprint.DBURL(cluster.str("clusterIdentifier") + ".cluster-abc.us-east-1.rds.amazonaws.com")
			if got := p.str("value"); got != want || strings.Contains(got, "sslrootcert") {
				t.Errorf("db/url = %q, want %q", got, want)
			}
		}
	}
	for _, x := range append(r.of(tDBCluster), r.of(tDBInstance)...) {
		if x.str("engineVersion") != "16.11" {
			t.Errorf("%s engineVersion = %q, want the configured 16.11", x.Name, x.str("engineVersion"))
		}
		if !slices.Contains(x.Ignore, "engineVersion") {
			t.Errorf("%s does not ignore engineVersion: an automatic minor upgrade would be reverted (refused) by the next update", x.Name)
		}
	}
	if v, set := cluster.boolean("allowMajorVersionUpgrade"); !set || v {
		t.Errorf("cluster allowMajorVersionUpgrade = %v (set %v), want false", v, set)
	}
	td := r.of(tTaskDef)[0]
	if got := td.str("runtimePlatform.cpuArchitecture"); got != blueprint.ECSCPUArchitecture() {
		t.Errorf("task definition CPU architecture = %q, want %q (blueprint.ImagePlatform %s)", got, blueprint.ECSCPUArchitecture(), blueprint.ImagePlatform)
	}
}

// TestDeployReplaceableWithoutFixedNames: resources whose ordinary changes replace them while
// in use (a security group's description, a target group's port) have a name prefix, not a
// name, so the replacement can be created before the old one is deleted.
func TestDeployReplaceableWithoutFixedNames(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		for _, typ := range []string{tSG, tTG} {
			for _, x := range r.of(typ) {
				if x.str("name") != "" || x.str("namePrefix") == "" {
					t.Errorf("%s %s: name %q, namePrefix %q; want only a prefix", typ, x.Name, x.str("name"), x.str("namePrefix"))
				}
				if x.str("tags.Name") == "" {
					t.Errorf("%s %s has no Name tag", typ, x.Name)
				}
			}
		}
	})
}

// bornUnderLoadBalancer are the types the edge component made after the split (issue 13): they
// never lived under the Service component, so they need no alias.
var bornUnderLoadBalancer = map[string]bool{tSecret: true, tSecretValue: true, tRule: true, tCachePolicy: true, tCDN: true}

// TestDeployMovedResourcesKeepTheirURNs: the registry's and the load balancer's resources were
// children of the Service component; split into their own components they carry an alias to
// the old parent, or the next pulumi up would replace the ALB (a new DNS name) and the
// repository (emptied: ForceDelete).
func TestDeployMovedResourcesKeepTheirURNs(t *testing.T) {
	r := runStack(t, fullConfig())
	oldParent := "catalog:infra:Service::component-service-" + r.cfg.Suffix
	moved := 0
	for _, x := range r.resources {
		if !strings.Contains(x.Parent, "catalog:infra:Registry") && !strings.Contains(x.Parent, "catalog:infra:LoadBalancer") {
			continue
		}
		if bornUnderLoadBalancer[x.Type] {
			continue
		}
		moved++
		found := false
		for _, a := range x.AliasParents {
			found = found || strings.Contains(a, oldParent)
		}
		if !found {
			t.Errorf("%s %s moved out of the Service component without an alias to it (aliases %q)", x.Type, x.Name, x.AliasParents)
		}
	}
	if moved < 6 {
		t.Errorf("%d resources under Registry and LoadBalancer, want the repository, its lifecycle policy, the ALB, the target group, two listeners and the WAF association", moved)
	}
}
