package infra_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/blueprint"
)

var goodKeys = strings.Repeat("a", 32)

func getter(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := infra.LoadConfig(getter(map[string]string{infra.KeyAPIKeys: goodKeys, infra.KeyImageTag: "1.0.0"}), "dev")
	if err != nil {
		t.Fatalf("LoadConfig(defaults) = %v", err)
	}
	env, _ := blueprint.LookupEnvironment("dev")
	want := infra.DefaultConfig("dev", env, goodKeys)
	want.ImageTag = "1.0.0"
	if cfg != want {
		t.Errorf("LoadConfig(defaults) =\n %+v\nwant\n %+v", cfg, want)
	}
	if cfg.TaskSize != blueprint.DefaultTaskSize || cfg.MinTasks != blueprint.MinTasks || cfg.MaxTasks != blueprint.MaxTasks || cfg.CPUTarget != 70 ||
		cfg.LogRetentionDays != 7 || cfg.NATMode != blueprint.NATPerAZ {
		t.Errorf("defaults differ from the blueprint: %+v", cfg)
	}
}

func TestLoadConfigReadsEveryKey(t *testing.T) {
	cfg, err := infra.LoadConfig(getter(map[string]string{
		infra.KeySuffix: "pr42", infra.KeyEnvironment: "prod", infra.KeyCostCenter: "shop",
		infra.KeyTaskCPU: "2048", infra.KeyTaskMemory: "4096", infra.KeyMinTasks: "3", infra.KeyMaxTasks: "12",
		infra.KeyCPUTarget: "60", infra.KeyMemoryTarget: "80", infra.KeyNATMode: "single",
		infra.KeyInterfaceEndpoints: "true",
		infra.KeyCertificateARN:     "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
		infra.KeyWebACLARN:          "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/catalog/abc-123",
		infra.KeyAlertEmail:         "ops@example.com", infra.KeyLogRetentionDays: "30",
		infra.KeyDBMinACU: "1", infra.KeyDBMaxACU: "8.5", infra.KeyDBBackupRetentionDays: "14",
		infra.KeyImageTag: "v1.2.3", infra.KeyAPIKeys: goodKeys, infra.KeyDBEngineVersion: "16.11",
		infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00", infra.KeySaleMinTasks: "9", infra.KeySaleMinACU: "6.5",
		infra.KeyCloudFront: "true", infra.KeyOriginDomain: "api.example.com",
		infra.KeyCreateWebACL: "false", infra.KeyWebACLRateLimit: "5000", infra.KeyFlowLogs: "false", infra.KeyMigrateImageTag: "v1.2.2",
		infra.KeyEventBus: "false", infra.KeyEventSource: "com.example.catalog", infra.KeyEventArchiveDays: "0",
		infra.KeyEventBusConcurrency: "4", infra.KeyEventLagAlarmMs: "30000", infra.KeyImportParallel: "7",
	}), "ignored")
	if err != nil {
		t.Fatalf("LoadConfig = %v", err)
	}
	env, _ := blueprint.LookupEnvironment("prod")
	want := infra.Config{
		Suffix: "pr42", Environment: env, CostCenter: "shop",
		TaskSize: blueprint.TaskSize{CPU: 2048, Memory: 4096}, MinTasks: 3, MaxTasks: 12, CPUTarget: 60, MemoryTarget: 80,
		NATMode: "single", InterfaceEndpoints: true,
		CertificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
		WebACLARN:      "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/catalog/abc-123",
		AlertEmail:     "ops@example.com", LogRetentionDays: 30, DBMinACU: 1, DBMaxACU: 8.5, DBBackupRetentionDays: 14,
		ImageTag: "v1.2.3", APIKeys: goodKeys, DBEngineVersion: "16.11",
		SaleStart: "2026-12-24T08:55:00", SaleEnd: "2026-12-24T12:00:00", SaleMinTasks: 9, SaleMinACU: 6.5,
		CloudFront: true, OriginDomain: "api.example.com",
		WebACLRateLimit: 5000, FlowLogs: false, MigrateImageTag: "v1.2.2",
		EventBus: false, EventSource: "com.example.catalog", EventArchiveDays: 0,
		EventBusConcurrency: 4, EventLagAlarmMs: 30000, ImportParallel: 7,
	}
	if cfg != want {
		t.Errorf("LoadConfig =\n %+v\nwant\n %+v", cfg, want)
	}
	// An environment brings its own defaults.
	cfg, err = infra.LoadConfig(getter(map[string]string{infra.KeyEnvironment: "prod", infra.KeyAPIKeys: goodKeys, infra.KeyImage: "public.ecr.aws/acme/catalog:1.0.0"}), "prod")
	if err != nil || cfg.DBMinACU != env.MinACU || cfg.DBMaxACU != env.MaxACU || cfg.SaleMinACU != env.SaleMinACU || cfg.CostCenter != env.CostCenter || !cfg.FlowLogs ||
		cfg.ImportParallel != env.ImportParallel {
		t.Errorf("prod defaults = %+v, %v", cfg, err)
	}
}

func TestLoadConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  map[string]string
		want string // in the error
	}{
		{"suffix upper case", map[string]string{infra.KeySuffix: "Dev"}, "catalog:environmentSuffix is invalid"},
		{"suffix too long", map[string]string{infra.KeySuffix: strings.Repeat("a", 17)}, "catalog:environmentSuffix is invalid"},
		{"suffix from a bad stack name", map[string]string{infra.KeySuffix: ""}, "catalog:environmentSuffix is invalid"},
		{"unknown environment", map[string]string{infra.KeyEnvironment: "qa"}, `unknown environment "qa"`},
		{"min above max", map[string]string{infra.KeyMinTasks: "5", infra.KeyMaxTasks: "4"}, "catalog:minTasks (5) must not exceed catalog:maxTasks (4)"},
		{"zero tasks", map[string]string{infra.KeyMinTasks: "0"}, "catalog:minTasks (0) must be from 1"},
		{"not a number", map[string]string{infra.KeyMaxTasks: "ten"}, `catalog:maxTasks must be an integer, not "ten"`},
		{"cpu/memory pair", map[string]string{infra.KeyTaskCPU: "1024", infra.KeyTaskMemory: "1024"}, "is not a Fargate combination"},
		{"odd cpu", map[string]string{infra.KeyTaskCPU: "1000"}, "is not a Fargate combination"},
		{"cpu target", map[string]string{infra.KeyCPUTarget: "100"}, "catalog:cpuTargetPercent (100) must be a percentage"},
		{"nat mode", map[string]string{infra.KeyNATMode: "none"}, `catalog:natMode ("none") must be`},
		{"endpoints flag", map[string]string{infra.KeyInterfaceEndpoints: "yes please"}, "catalog:interfaceEndpoints must be true or false"},
		{"certificate", map[string]string{infra.KeyCertificateARN: "my-cert"}, "catalog:certificateArn"},
		{"web acl", map[string]string{infra.KeyWebACLARN: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y"}, "catalog:webAclArn"},
		{"email", map[string]string{infra.KeyAlertEmail: "ops at example"}, "catalog:alertEmail"},
		{"retention", map[string]string{infra.KeyLogRetentionDays: "10"}, "catalog:logRetentionDays (10) must be one of"},
		{"event source reserved", map[string]string{infra.KeyEventSource: "aws.catalog"}, `catalog:eventSource event source "aws.catalog" must be`},
		{"event source characters", map[string]string{infra.KeyEventSource: "catalog events"}, "catalog:eventSource"},
		{"event bus flag", map[string]string{infra.KeyEventBus: "create"}, "catalog:eventBus must be true or false"},
		{"event bus arn", map[string]string{infra.KeyEventBusARN: "arn:aws:events:us-east-1:123456789012:rule/orders"}, `catalog:eventBusArn ("arn:aws:events:us-east-1:123456789012:rule/orders") must be an EventBridge event bus ARN`},
		{"event bus arn without the bus", map[string]string{infra.KeyEventBus: "false", infra.KeyEventBusARN: "arn:aws:events:us-east-1:123456789012:event-bus/orders"}, "catalog:eventBusArn is set but catalog:eventBus is false"},
		{"archive days", map[string]string{infra.KeyEventArchiveDays: "-1"}, "catalog:eventArchiveDays (-1) must be from 0"},
		{"no publisher in flight", map[string]string{infra.KeyEventBusConcurrency: "0"}, "catalog:eventBusConcurrency (0) must be from 1 to 10"},
		{"more publishers than the service allows", map[string]string{infra.KeyEventBusConcurrency: "11"}, "catalog:eventBusConcurrency (11) must be from 1 to 10"},
		{"no import batch in flight", map[string]string{infra.KeyImportParallel: "0"}, "catalog:importParallel (0) must be from 1 to 8"},
		{"more import batches than the service allows", map[string]string{infra.KeyImportParallel: "9"}, "catalog:importParallel (9) must be from 1 to 8"},
		{"lag alarm below a second", map[string]string{infra.KeyEventLagAlarmMs: "999"}, "catalog:eventLagAlarmMs (999) must be from 1000"},
		{"lag alarm above an hour", map[string]string{infra.KeyEventLagAlarmMs: "3600001"}, "catalog:eventLagAlarmMs (3600001) must be from 1000"},
		{"acu order", map[string]string{infra.KeyDBMinACU: "8", infra.KeyDBMaxACU: "4"}, "catalog:dbMinAcu and catalog:dbMaxAcu (8-4)"},
		{"acu step", map[string]string{infra.KeyDBMinACU: "0.7"}, "multiples of 0.5"},
		{"acu limit", map[string]string{infra.KeyDBMaxACU: "300"}, "catalog:dbMinAcu"},
		{"backups", map[string]string{infra.KeyDBBackupRetentionDays: "0"}, "catalog:dbBackupRetentionDays (0)"},
		{"image", map[string]string{infra.KeyImage: "catalog"}, "catalog:image"},
		{"image tag", map[string]string{infra.KeyImageTag: "bad tag"}, "catalog:imageTag"},
		{"no api keys", map[string]string{infra.KeyAPIKeys: ""}, "catalog:apiKeys is required and secret"},
		{"suffix with two hyphens", map[string]string{infra.KeySuffix: "a--b"}, `environment suffix "a--b"`},
		{"suffix ending in a hyphen", map[string]string{infra.KeySuffix: "ab-"}, `environment suffix "ab-"`},
		{"engine version", map[string]string{infra.KeyDBEngineVersion: "15.4"}, `catalog:dbEngineVersion is invalid: database engine version "15.4"`},
		{"acu order names values", map[string]string{infra.KeyDBMinACU: "2.5", infra.KeyDBMaxACU: "2"}, "(2.5-2)"},
		{"short api key", map[string]string{infra.KeyAPIKeys: "short"}, "catalog:apiKeys is not a key the service accepts"},
		{"several bare keys", map[string]string{infra.KeyAPIKeys: goodKeys + "," + goodKeys}, "catalog:apiKeys holds one key"},
		{"bad key document", map[string]string{infra.KeyAPIKeys: `{"keys":[{"name":"a","scopes":["write"],"key":"` + goodKeys + `"}]}`}, `scope "write" is not one of`},
		{"empty key document", map[string]string{infra.KeyAPIKeys: `{"keys":[]}`}, "catalog:apiKeys holds no key"},
		{"sale start alone", map[string]string{infra.KeySaleStart: "2026-12-24T08:55:00"}, "catalog:saleStart and catalog:saleEnd must both be set, or neither"},
		{"sale end alone", map[string]string{infra.KeySaleEnd: "2026-12-24T08:55:00"}, "catalog:saleStart and catalog:saleEnd must both be set, or neither"},
		{"sale time format", map[string]string{infra.KeySaleStart: "2026-12-24 08:55", infra.KeySaleEnd: "2026-12-24T12:00:00"}, `catalog:saleStart ("2026-12-24 08:55") must be a UTC time`},
		{"sale time zone", map[string]string{infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00Z"}, `catalog:saleEnd ("2026-12-24T12:00:00Z") must be a UTC time`},
		{"sale backwards", map[string]string{infra.KeySaleStart: "2026-12-24T12:00:00", infra.KeySaleEnd: "2026-12-24T08:55:00"}, "catalog:saleEnd (2026-12-24T08:55:00) must be after catalog:saleStart"},
		{"certificate without origin domain", map[string]string{infra.KeyCertificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"}, `catalog:originDomain ("") must be the domain name catalog:certificateArn covers`},
		{"origin domain not a name", map[string]string{infra.KeyCertificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123", infra.KeyOriginDomain: "https://api.example.com"}, `catalog:originDomain ("https://api.example.com")`},
		{"cloudFront not a bool", map[string]string{infra.KeyCloudFront: "yes"}, `catalog:cloudFront must be true or false, not "yes"`},
		// A load balancer has one web ACL (blueprint.Exclusive): the stack's own or an existing one.
		{"own web acl with an existing one", map[string]string{infra.KeyCreateWebACL: "true", infra.KeyWebACLARN: "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y"},
			"catalog:createWebAcl creates the load balancer's web ACL: unset catalog:webAclArn"},
		{"own web acl not a bool", map[string]string{infra.KeyCreateWebACL: "yes"}, `catalog:createWebAcl must be true or false, not "yes"`},
		// https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html: the lowest limit is 10.
		{"rate limit below the WAF minimum", map[string]string{infra.KeyWebACLRateLimit: "9"}, "catalog:webAclRateLimit (9) must be from 10 to 2000000000"},
		{"rate limit above the WAF maximum", map[string]string{infra.KeyWebACLRateLimit: "2000000001"}, "catalog:webAclRateLimit (2000000001) must be from 10"},
		{"flow logs not a bool", map[string]string{infra.KeyFlowLogs: "on"}, `catalog:flowLogs must be true or false, not "on"`},
		{"migrate image tag", map[string]string{infra.KeyMigrateImageTag: "bad tag"}, "catalog:migrateImageTag"},
		{"migrate image tag with a public image", map[string]string{infra.KeyMigrateImageTag: "v2", infra.KeyImage: "public.ecr.aws/acme/catalog:1.0.0"},
			"catalog:migrateImageTag names an image in this stack's ECR repository"},
		{"sale tasks above max", map[string]string{infra.KeySaleMinTasks: "25"}, "catalog:saleMinTasks (25) must be from catalog:minTasks (2) to catalog:maxTasks (24)"},
		{"sale acu above max", map[string]string{infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00", infra.KeySaleMinACU: "6"},
			"catalog:saleMinAcu (6) must be a multiple of 0.5 from catalog:dbMinAcu (0.5) to catalog:dbMaxAcu (4)"},
		{"sale acu below min", map[string]string{infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00", infra.KeySaleMinACU: "1", infra.KeyDBMinACU: "2"},
			"catalog:saleMinAcu (1) must be a multiple of 0.5 from catalog:dbMinAcu (2) to catalog:dbMaxAcu (4)"},
		{"sale acu step", map[string]string{infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00", infra.KeySaleMinACU: "1.2"},
			"catalog:saleMinAcu (1.2) must be a multiple of 0.5"},
		{"sale acu not a number", map[string]string{infra.KeySaleMinACU: "lots"}, `catalog:saleMinAcu must be a number, not "lots"`},
		{"prod's sale acu above a lowered max", map[string]string{infra.KeyEnvironment: "prod", infra.KeyDBMaxACU: "32",
			infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00"}, "catalog:saleMinAcu (48) must be a multiple of 0.5 from catalog:dbMinAcu (1) to catalog:dbMaxAcu (32)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{infra.KeyAPIKeys: goodKeys, infra.KeyImageTag: "1.0.0"}
			for k, v := range tc.set {
				set[k] = v
			}
			stack := "dev"
			if v, ok := tc.set[infra.KeySuffix]; ok && v == "" {
				stack = "Not_A_Suffix"
			}
			_, err := infra.LoadConfig(getter(set), stack)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadConfig(%v) = %v, want an error containing %q", tc.set, err, tc.want)
			}
		})
	}
}

// Without imageTag and image the configuration is valid: the bootstrap deploy.
func TestLoadConfigWithoutImageIsBootstrap(t *testing.T) {
	cfg, err := infra.LoadConfig(getter(map[string]string{infra.KeyAPIKeys: goodKeys}), "dev")
	if err != nil {
		t.Fatalf("LoadConfig without an image = %v, want a bootstrap configuration", err)
	}
	if cfg.HasImage() {
		t.Error("HasImage() = true without imageTag or image")
	}
	if cfg.DBEngineVersion != blueprint.DBEngineVersion {
		t.Errorf("DBEngineVersion = %q, want the default %q", cfg.DBEngineVersion, blueprint.DBEngineVersion)
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := infra.LoadConfig(getter(map[string]string{
		infra.KeySuffix: "BAD", infra.KeyMinTasks: "9", infra.KeyMaxTasks: "3", infra.KeyTaskMemory: "1000",
	}), "dev")
	if err == nil {
		t.Fatal("LoadConfig = nil, want an error")
	}
	for _, key := range []string{infra.KeySuffix, infra.KeyMinTasks, infra.KeyTaskCPU, infra.KeyAPIKeys} {
		if !strings.Contains(err.Error(), "catalog:"+key) {
			t.Errorf("error %q does not mention %s", err, key)
		}
	}
}

// A bad configuration must stop the program before it registers anything: not even the
// component resources exist.
func TestInvalidConfigRegistersNothing(t *testing.T) {
	for _, set := range []map[string]string{
		{infra.KeySuffix: "Bad_Suffix", infra.KeyAPIKeys: goodKeys},
		{infra.KeyMinTasks: "21", infra.KeyAPIKeys: goodKeys},
		{infra.KeyEnvironment: "qa", infra.KeyAPIKeys: goodKeys},
		{infra.KeyTaskCPU: "512", infra.KeyTaskMemory: "512", infra.KeyAPIKeys: goodKeys},
		{},
	} {
		resources, err := runProgram(set, infra.KeyAPIKeys)
		if err == nil || !strings.Contains(err.Error(), "invalid configuration (nothing was created)") {
			t.Errorf("program with %v: err = %v, want an invalid-configuration error", set, err)
		}
		if len(resources) != 0 {
			t.Errorf("program with %v registered %d resources before failing, want 0", set, len(resources))
		}
	}
	// And Build checks a configuration made in code the same way.
	cfg := defaultConfig()
	cfg.MaxTasks = 1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "catalog:minTasks") {
		t.Errorf("Validate(min 2 > max 1) = %v", err)
	}
}

func TestProgramRunsWithValidConfig(t *testing.T) {
	valid := map[string]string{infra.KeyAPIKeys: goodKeys, infra.KeySuffix: "ok1", infra.KeyImageTag: "1.0.0"}
	resources, err := runProgram(valid, infra.KeyAPIKeys)
	if err != nil {
		t.Fatalf("program = %v", err)
	}
	// The API keys must be a Pulumi secret in the stack's config, not plain text.
	if res, err := runProgram(valid); err == nil || !strings.Contains(err.Error(), "catalog:apiKeys is stored in plain text") || len(res) != 0 {
		t.Errorf("program with plain-text apiKeys = %v (%d resources), want a refusal before any resource", err, len(res))
	}
	if len(resources) < 50 {
		t.Errorf("program registered %d resources, want the whole stack", len(resources))
	}
}

// A sale window that has ended stops the program before any resource (blueprint.SaleWindowAhead):
// its schedules would be created or changed after their time. One under way deploys, a fix
// during the sale; the clock is the program's, not the test's day.
func TestProgramRefusesEndedSale(t *testing.T) {
	set := map[string]string{infra.KeyAPIKeys: goodKeys, infra.KeySuffix: "sale1", infra.KeyImageTag: "1.0.0",
		infra.KeySaleStart: "2026-12-24T08:55:00", infra.KeySaleEnd: "2026-12-24T12:00:00"}
	for _, c := range []struct {
		now time.Time
		ok  bool
	}{
		{time.Date(2026, 12, 24, 8, 0, 0, 0, time.UTC), true},  // ahead
		{time.Date(2026, 12, 24, 10, 0, 0, 0, time.UTC), true}, // under way
		{time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC), false},
		{time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), false},
	} {
		resources, err := runProgramAt(c.now, set, infra.KeyAPIKeys)
		if c.ok {
			if err != nil || len(resources) < 50 {
				t.Errorf("at %s: program = %v with %d resources, want the whole stack", c.now, err, len(resources))
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "catalog:saleEnd") || !strings.Contains(err.Error(), "pulumi config rm catalog:saleStart") {
			t.Errorf("at %s: program = %v, want a refusal naming catalog:saleEnd and how to clear the window", c.now, err)
		}
		if len(resources) != 0 {
			t.Errorf("at %s: %d resources registered before the refusal, want 0", c.now, len(resources))
		}
	}
}

// The whole program runs without an image: the bootstrap deploy registers no service.
func TestProgramRunsWithoutImage(t *testing.T) {
	resources, err := runProgram(map[string]string{infra.KeyAPIKeys: goodKeys, infra.KeySuffix: "boot"}, infra.KeyAPIKeys)
	if err != nil {
		t.Fatalf("program without an image = %v, want the bootstrap deploy", err)
	}
	for _, r := range resources {
		if r.Type == tService || r.Type == tTaskDef {
			t.Errorf("bootstrap deploy registered %s %s", r.Type, r.Name)
		}
	}
	if len(resources) < 50 {
		t.Errorf("bootstrap deploy registered %d resources, want the whole stack but the service", len(resources))
	}
}
