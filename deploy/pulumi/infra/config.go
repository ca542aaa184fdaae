// Package infra is the catalog's AWS architecture as a Pulumi program: the same network, load
// balancer, Fargate service, Aurora database, parameters, alarms and dashboard as the
// CloudFormation template in deploy/cloudformation, with the numbers taken from
// internal/blueprint. Each concern is a component resource (network, database, settings,
// service, scaling, observability) made by a function that returns handles to what it made.
package infra

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/blueprint"
)

// ConfigNamespace is the Pulumi config namespace of the program's keys (the project name).
const ConfigNamespace = "catalog"

// Config keys, without the namespace.
const (
	KeySuffix                = "environmentSuffix"
	KeyEnvironment           = "environment"
	KeyCostCenter            = "costCenter"
	KeyTaskCPU               = "taskCpu"
	KeyTaskMemory            = "taskMemory"
	KeyMinTasks              = "minTasks"
	KeyMaxTasks              = "maxTasks"
	KeyCPUTarget             = "cpuTargetPercent"
	KeyMemoryTarget          = "memoryTargetPercent"
	KeyNATMode               = "natMode"
	KeyInterfaceEndpoints    = "interfaceEndpoints"
	KeyCertificateARN        = "certificateArn"
	KeyWebACLARN             = "webAclArn"
	KeyAlertEmail            = "alertEmail"
	KeyLogRetentionDays      = "logRetentionDays"
	KeyDBMinACU              = "dbMinAcu"
	KeyDBMaxACU              = "dbMaxAcu"
	KeyDBBackupRetentionDays = "dbBackupRetentionDays"
	KeyImage                 = "image"
	KeyImageTag              = "imageTag"
	KeyAPIKeys               = "apiKeys"
	KeyDBEngineVersion       = "dbEngineVersion"
	KeySaleStart             = "saleStart"
	KeySaleEnd               = "saleEnd"
	KeySaleMinTasks          = "saleMinTasks"
	KeySaleMinACU            = "saleMinAcu"
	KeyCloudFront            = "cloudFront"
	KeyOriginDomain          = "originDomain"
	KeyCreateWebACL          = "createWebAcl"
	KeyWebACLRateLimit       = "webAclRateLimit"
	KeyFlowLogs              = "flowLogs"
	KeyMigrateImageTag       = "migrateImageTag"
	KeyEventBus              = "eventBus"
	KeyEventSource           = "eventSource"
	KeyEventArchiveDays      = "eventArchiveDays"
	KeyEventBusARN           = "eventBusArn"
	KeyEventBusConcurrency   = "eventBusConcurrency"
	KeyEventLagAlarmMs       = "eventLagAlarmMs"
	KeyImportParallel        = "importParallel"
	// SaleTimeLayout is the at() expressions' time, UTC without a zone.
	SaleTimeLayout         = blueprint.SaleTimeLayout
	maxBackupRetentionDays = 35
	minTargetPercent       = 10
	maxTargetPercent       = 95
	maxTasksLimit          = 100
	maxEventArchiveDays    = 3650
)

// Config is the program's validated configuration. LoadConfig fills every field; tests may
// build one with DefaultConfig and change fields.
type Config struct {
	Suffix      string
	Environment blueprint.Environment
	CostCenter  string

	TaskSize           blueprint.TaskSize
	MinTasks, MaxTasks int
	CPUTarget          int
	MemoryTarget       int

	// SaleStart and SaleEnd (SaleTimeLayout, UTC), when set, are a planned sale's window: the
	// minimum is SaleMinTasks in between (blueprint.Scaling.Sale).
	SaleStart, SaleEnd string
	SaleMinTasks       int
	// SaleMinACU is the database's minimum during the window (blueprint.SaleWarm), within
	// DBMinACU..DBMaxACU; the environment's by default.
	SaleMinACU float64

	NATMode            string
	InterfaceEndpoints bool

	// CloudFront puts a distribution in front (the default); the load balancer then admits only
	// CloudFront's origin-facing servers with the secret origin header.
	CloudFront bool
	// OriginDomain is, with CloudFront and a certificate, the domain the certificate covers that
	// points at the load balancer: CloudFront connects to it over HTTPS.
	OriginDomain string

	// CertificateARN, when set, adds an HTTPS listener and redirects HTTP to it.
	CertificateARN string
	// WebACLARN, when set, associates a WAFv2 web ACL with the load balancer.
	WebACLARN string
	// CreateWebACL creates the stack's own web ACL on the load balancer (never with WebACLARN:
	// a load balancer has one); WebACLRateLimit is its rate rule's limit per client.
	CreateWebACL    bool
	WebACLRateLimit int
	// FlowLogs turns the VPC's flow logs on (default: the environment's, on in prod).
	FlowLogs bool
	// AlertEmail, when set, subscribes an address to the alarm topic.
	AlertEmail string

	LogRetentionDays      int
	DBMinACU, DBMaxACU    float64
	DBBackupRetentionDays int
	// DBEngineVersion is the Aurora PostgreSQL version a new cluster starts at; later automatic
	// minor upgrades are ignored as drift.
	DBEngineVersion string

	// Image is a full image reference; empty means this stack's ECR repository at ImageTag.
	// With neither, the stack deploys without the service (bootstrap: push the first image to
	// the repository, then set imageTag and deploy again).
	Image    string
	ImageTag string
	// MigrateImageTag, when set, is the tag in this stack's repository the migrate task runs
	// instead of ImageTag (a rolling upgrade migrates with the new image first).
	MigrateImageTag string
	// APIKeys is the first content of the API-key secret, a Pulumi secret: one key, which
	// becomes the admin key with every scope (the document CloudFormation generates), or a whole
	// key document ({"keys":[...]}, internal/access.ParseSecret). After the first deploy the
	// secret in AWS is the truth: keys rotate there, without a deploy (APIKeyDocument).
	APIKeys string

	// EventBus creates the EventBridge bus the service publishes its events to, with an archive
	// kept EventArchiveDays (0: indefinitely); EventSource is the events' source.
	// EventBusARN, when set, is an existing bus the service publishes to instead: the stack then
	// creates no bus and no archive.
	EventBus         bool
	EventSource      string
	EventArchiveDays int
	EventBusARN      string
	// EventBusConcurrency is the relay's PutEvents requests in flight (EVENT_BUS_CONCURRENCY);
	// EventLagAlarmMs the publish lag the event-lag-high alarm fires above.
	EventBusConcurrency int
	EventLagAlarmMs     int
	// ImportParallel is the service's IMPORT_PARALLEL: batches of one import job the writer
	// works on at once (blueprint.Environment's by default).
	ImportParallel int
}

// Tags returns the tags every taggable resource carries.
func (c Config) Tags() map[string]string {
	return map[string]string{
		blueprint.TagProject:     blueprint.Project,
		blueprint.TagEnvironment: c.Environment.Name,
		blueprint.TagCostCenter:  c.CostCenter,
		blueprint.TagManagedBy:   "pulumi",
	}
}

// Name returns the resource name {kind}-{purpose}-{suffix}.
func (c Config) Name(kind, purpose string) string { return blueprint.Name(kind, purpose, c.Suffix) }

// HasImage reports whether an image is configured, so the task definition, service, scaling and
// service alarms exist.
func (c Config) HasImage() bool { return c.Image != "" || c.ImageTag != "" }

// HTTPS reports whether the load balancer terminates TLS.
func (c Config) HTTPS() bool { return c.CertificateARN != "" }

// Choices are the model's options this configuration takes (blueprint.Option).
func (c Config) Choices() blueprint.Choices {
	return blueprint.Choices{
		blueprint.WithNATPerAZ:           c.NATMode != blueprint.NATSingle,
		blueprint.WithInterfaceEndpoints: c.InterfaceEndpoints,
		blueprint.WithCertificate:        c.HTTPS(),
		blueprint.WithWebACL:             c.WebACLARN != "",
		blueprint.WithAlertEmail:         c.AlertEmail != "",
		blueprint.WithImage:              c.HasImage(),
		blueprint.WithSale:               c.SaleStart != "",
		blueprint.WithCloudFront:         c.CloudFront,
		blueprint.WithOwnWebACL:          c.CreateWebACL,
		blueprint.WithFlowLogs:           c.FlowLogs,
		blueprint.WithEventBus:           c.EventBus,
		blueprint.WithExistingEventBus:   c.EventBus && c.EventBusARN != "",
	}
}

// Has reports whether this configuration takes a model option.
func (c Config) Has(o blueprint.Option) bool { return c.Choices().Has(o) }

// ModelName returns a model resource's name in this stack.
func (c Config) ModelName(r blueprint.Resource) string { return r.Name(c.Suffix) }

// DefaultConfig returns the configuration with every default for an environment, the suffix
// and API keys given. It does not validate.
func DefaultConfig(suffix string, env blueprint.Environment, apiKeys string) Config {
	return Config{
		Suffix:                suffix,
		Environment:           env,
		CostCenter:            env.CostCenter,
		TaskSize:              blueprint.Model().Service.TaskSize,
		MinTasks:              blueprint.MinTasks,
		MaxTasks:              blueprint.MaxTasks,
		CPUTarget:             blueprint.CPUTargetPercent,
		MemoryTarget:          blueprint.MemoryTargetPercent,
		SaleMinTasks:          blueprint.SaleMinTasks,
		SaleMinACU:            env.SaleMinACU,
		NATMode:               env.NATMode,
		LogRetentionDays:      blueprint.LogRetentionDays,
		DBMinACU:              env.MinACU,
		DBMaxACU:              env.MaxACU,
		DBBackupRetentionDays: blueprint.DBBackupRetentionDays,
		DBEngineVersion:       blueprint.DBEngineVersion,
		APIKeys:               apiKeys,
		CloudFront:            true,
		WebACLRateLimit:       blueprint.Model().Edge.Firewall.RateLimit,
		FlowLogs:              env.FlowLogs,
		EventBus:              true,
		EventSource:           blueprint.DefaultEventSource,
		EventArchiveDays:      blueprint.EventArchiveRetentionDays,
		EventBusConcurrency:   blueprint.DefaultEventBusConcurrency,
		EventLagAlarmMs:       blueprint.DefaultEventLagAlarm,
		ImportParallel:        env.ImportParallel,
	}
}

// logRetentionValues are the retention periods CloudWatch Logs accepts.
var logRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var eventBusARN = regexp.MustCompile(blueprint.EventBusARNPattern)

var (
	acmARN   = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$`)
	wafARN   = regexp.MustCompile(`^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[A-Za-z0-9_-]+/[A-Za-z0-9-]+$`)
	imageRef = regexp.MustCompile(`^[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})$`)
	imageTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	// domainName is a lower-case DNS name of at least two labels.
	domainName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// LoadConfig reads and validates the configuration. get returns a key's value (without the
// namespace) and whether it is set; stack is the stack name, the suffix's default. Every
// problem is reported at once, before any resource exists.
func LoadConfig(get func(key string) (string, bool), stack string) (Config, error) {
	var problems []string
	bad := func(key, format string, args ...any) {
		problems = append(problems, ConfigNamespace+":"+key+" "+fmt.Sprintf(format, args...))
	}
	str := func(key, def string) string {
		if v, ok := get(key); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	integer := func(key string, def int) int {
		s := str(key, "")
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			bad(key, "must be an integer, not %q", s)
			return def
		}
		return n
	}
	number := func(key string, def float64) float64 {
		s := str(key, "")
		if s == "" {
			return def
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			bad(key, "must be a number, not %q", s)
			return def
		}
		return f
	}
	boolean := func(key string, def bool) bool {
		s := str(key, "")
		if s == "" {
			return def
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			bad(key, "must be true or false, not %q", s)
			return def
		}
		return b
	}

	suffix := str(KeySuffix, stack)
	if err := blueprint.ValidateSuffix(suffix); err != nil {
		bad(KeySuffix, "is invalid: %v", err)
	}
	env, err := blueprint.LookupEnvironment(str(KeyEnvironment, "dev"))
	if err != nil {
		bad(KeyEnvironment, "is invalid: %v", err)
		env = blueprint.Environments[0]
	}

	c := DefaultConfig(suffix, env, "")
	c.CostCenter = str(KeyCostCenter, env.CostCenter)
	c.TaskSize = blueprint.TaskSize{
		CPU:    integer(KeyTaskCPU, blueprint.Model().Service.TaskSize.CPU),
		Memory: integer(KeyTaskMemory, blueprint.Model().Service.TaskSize.Memory),
	}
	c.MinTasks = integer(KeyMinTasks, blueprint.MinTasks)
	c.MaxTasks = integer(KeyMaxTasks, blueprint.MaxTasks)
	c.CPUTarget = integer(KeyCPUTarget, blueprint.CPUTargetPercent)
	c.MemoryTarget = integer(KeyMemoryTarget, blueprint.MemoryTargetPercent)
	c.SaleStart = str(KeySaleStart, "")
	c.SaleEnd = str(KeySaleEnd, "")
	c.SaleMinTasks = integer(KeySaleMinTasks, blueprint.SaleMinTasks)
	c.SaleMinACU = number(KeySaleMinACU, env.SaleMinACU)
	c.NATMode = str(KeyNATMode, env.NATMode)
	c.InterfaceEndpoints = boolean(KeyInterfaceEndpoints, false)
	c.CloudFront = boolean(KeyCloudFront, true)
	c.EventBus = boolean(KeyEventBus, true)
	c.EventSource = str(KeyEventSource, blueprint.DefaultEventSource)
	c.EventArchiveDays = integer(KeyEventArchiveDays, blueprint.EventArchiveRetentionDays)
	c.EventBusARN = str(KeyEventBusARN, "")
	c.EventBusConcurrency = integer(KeyEventBusConcurrency, blueprint.DefaultEventBusConcurrency)
	c.EventLagAlarmMs = integer(KeyEventLagAlarmMs, blueprint.DefaultEventLagAlarm)
	c.ImportParallel = integer(KeyImportParallel, env.ImportParallel)
	c.OriginDomain = str(KeyOriginDomain, "")
	c.CertificateARN = str(KeyCertificateARN, "")
	c.WebACLARN = str(KeyWebACLARN, "")
	c.CreateWebACL = boolean(KeyCreateWebACL, false)
	c.WebACLRateLimit = integer(KeyWebACLRateLimit, blueprint.Model().Edge.Firewall.RateLimit)
	c.FlowLogs = boolean(KeyFlowLogs, env.FlowLogs)
	c.AlertEmail = str(KeyAlertEmail, "")
	c.LogRetentionDays = integer(KeyLogRetentionDays, blueprint.LogRetentionDays)
	c.DBMinACU = number(KeyDBMinACU, env.MinACU)
	c.DBMaxACU = number(KeyDBMaxACU, env.MaxACU)
	c.DBBackupRetentionDays = integer(KeyDBBackupRetentionDays, blueprint.DBBackupRetentionDays)
	c.DBEngineVersion = str(KeyDBEngineVersion, blueprint.DBEngineVersion)
	c.Image = str(KeyImage, "")
	c.ImageTag = str(KeyImageTag, "")
	c.MigrateImageTag = str(KeyMigrateImageTag, "")
	apiKeys, _ := get(KeyAPIKeys)
	c.APIKeys = strings.TrimSpace(apiKeys)

	problems = append(problems, c.problems()...)
	if len(problems) > 0 {
		return Config{}, invalidConfig(problems...)
	}
	return c, nil
}

// Validate checks a configuration built in code the way LoadConfig checks one read from Pulumi.
func (c Config) Validate() error {
	var problems []string
	if err := blueprint.ValidateSuffix(c.Suffix); err != nil {
		problems = append(problems, ConfigNamespace+":"+KeySuffix+" is invalid: "+err.Error())
	}
	if _, err := blueprint.LookupEnvironment(c.Environment.Name); err != nil {
		problems = append(problems, ConfigNamespace+":"+KeyEnvironment+" is invalid: "+err.Error())
	}
	problems = append(problems, c.problems()...)
	if len(problems) > 0 {
		return invalidConfig(problems...)
	}
	return nil
}

// invalidConfig is the error of a configuration refused before any resource was registered:
// one problem a line, each naming its key.
func invalidConfig(problems ...string) error {
	return fmt.Errorf("invalid configuration (nothing was created):\n  %s", strings.Join(problems, "\n  "))
}

// saleProblems checks the planned sale: both ends or neither, each a UTC time in
// SaleTimeLayout, the end after the start, and the sale's minimum within the bounds.
func (c Config) saleProblems() []string {
	var out []string
	bad := func(key, format string, args ...any) {
		out = append(out, ConfigNamespace+":"+key+" "+fmt.Sprintf(format, args...))
	}
	if (c.SaleStart == "") != (c.SaleEnd == "") {
		bad(KeySaleStart, "and %s:%s must both be set, or neither", ConfigNamespace, KeySaleEnd)
		return out
	}
	if c.SaleStart != "" {
		start, err1 := time.Parse(SaleTimeLayout, c.SaleStart)
		if err1 != nil {
			bad(KeySaleStart, "(%q) must be a UTC time as yyyy-mm-ddThh:mm:ss", c.SaleStart)
		}
		end, err2 := time.Parse(SaleTimeLayout, c.SaleEnd)
		if err2 != nil {
			bad(KeySaleEnd, "(%q) must be a UTC time as yyyy-mm-ddThh:mm:ss", c.SaleEnd)
		}
		if err1 == nil && err2 == nil && !end.After(start) {
			bad(KeySaleEnd, "(%s) must be after %s:%s (%s)", c.SaleEnd, ConfigNamespace, KeySaleStart, c.SaleStart)
		}
	}
	if c.SaleMinTasks < c.MinTasks || c.SaleMinTasks > c.MaxTasks {
		bad(KeySaleMinTasks, "(%d) must be from %s:%s (%d) to %s:%s (%d)", c.SaleMinTasks, ConfigNamespace, KeyMinTasks, c.MinTasks, ConfigNamespace, KeyMaxTasks, c.MaxTasks)
	}
	// Checked with a window only, as the template's rules: without one it sets nothing.
	if c.SaleStart != "" && (c.SaleMinACU < c.DBMinACU || c.SaleMinACU > c.DBMaxACU || math.Mod(c.SaleMinACU*2, 1) != 0) {
		bad(KeySaleMinACU, "(%v) must be a multiple of 0.5 from %s:%s (%v) to %s:%s (%v): the database's minimum during the sale lies within its bounds",
			c.SaleMinACU, ConfigNamespace, KeyDBMinACU, c.DBMinACU, ConfigNamespace, KeyDBMaxACU, c.DBMaxACU)
	}
	return out
}

// problems checks everything but the suffix and environment, which LoadConfig checks while
// reading (their defaults depend on them).
func (c Config) problems() []string {
	var out []string
	bad := func(key, format string, args ...any) {
		out = append(out, ConfigNamespace+":"+key+" "+fmt.Sprintf(format, args...))
	}
	if c.CostCenter == "" {
		bad(KeyCostCenter, "must not be empty")
	}
	if err := c.TaskSize.Valid(); err != nil {
		bad(KeyTaskCPU, "and %s:%s: %v", ConfigNamespace, KeyTaskMemory, err)
	}
	if c.MinTasks < 1 || c.MinTasks > maxTasksLimit {
		bad(KeyMinTasks, "(%d) must be from 1 to %d", c.MinTasks, maxTasksLimit)
	}
	if c.MaxTasks < 1 || c.MaxTasks > maxTasksLimit {
		bad(KeyMaxTasks, "(%d) must be from 1 to %d", c.MaxTasks, maxTasksLimit)
	}
	if c.MinTasks > c.MaxTasks {
		bad(KeyMinTasks, "(%d) must not exceed %s:%s (%d)", c.MinTasks, ConfigNamespace, KeyMaxTasks, c.MaxTasks)
	}
	out = append(out, c.saleProblems()...)
	for _, t := range []struct {
		key string
		v   int
	}{{KeyCPUTarget, c.CPUTarget}, {KeyMemoryTarget, c.MemoryTarget}} {
		if t.v < minTargetPercent || t.v > maxTargetPercent {
			bad(t.key, "(%d) must be a percentage from %d to %d", t.v, minTargetPercent, maxTargetPercent)
		}
	}
	if c.NATMode != blueprint.NATPerAZ && c.NATMode != blueprint.NATSingle {
		bad(KeyNATMode, "(%q) must be %q or %q", c.NATMode, blueprint.NATPerAZ, blueprint.NATSingle)
	}
	if c.CertificateARN != "" && !acmARN.MatchString(c.CertificateARN) {
		bad(KeyCertificateARN, "(%q) must be an ACM certificate ARN", c.CertificateARN)
	}
	if c.CloudFront && c.CertificateARN != "" && !domainName.MatchString(c.OriginDomain) {
		bad(KeyOriginDomain, "(%q) must be the domain name %s:%s covers and that points at the load balancer: with %s:%s CloudFront connects to the load balancer over HTTPS and checks the certificate against it",
			c.OriginDomain, ConfigNamespace, KeyCertificateARN, ConfigNamespace, KeyCloudFront)
	}
	if c.WebACLARN != "" && !wafARN.MatchString(c.WebACLARN) {
		bad(KeyWebACLARN, "(%q) must be a regional WAFv2 web ACL ARN", c.WebACLARN)
	}
	if c.CreateWebACL && c.WebACLARN != "" {
		bad(KeyCreateWebACL, "creates the load balancer's web ACL: unset %s:%s (a load balancer has one web ACL)", ConfigNamespace, KeyWebACLARN)
	}
	if c.WebACLRateLimit < blueprint.RateLimitMin || c.WebACLRateLimit > blueprint.RateLimitMax {
		bad(KeyWebACLRateLimit, "(%d) must be from %d to %d requests per %d seconds (a WAF rate-based rule's limits)",
			c.WebACLRateLimit, blueprint.RateLimitMin, blueprint.RateLimitMax, blueprint.Model().Edge.Firewall.RateWindowSeconds)
	}
	if c.AlertEmail != "" {
		if a, err := mail.ParseAddress(c.AlertEmail); err != nil || a.Address != c.AlertEmail {
			bad(KeyAlertEmail, "(%q) must be a plain e-mail address", c.AlertEmail)
		}
	}
	if err := blueprint.ValidateEventSource(c.EventSource); err != nil {
		bad(KeyEventSource, "%v", err)
	}
	if c.EventBusARN != "" && !eventBusARN.MatchString(c.EventBusARN) {
		bad(KeyEventBusARN, "(%q) must be an EventBridge event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)", c.EventBusARN)
	}
	if c.EventBusARN != "" && !c.EventBus {
		bad(KeyEventBusARN, "is set but %s:%s is false: the service would publish nothing; remove one of them", ConfigNamespace, KeyEventBus)
	}
	if c.EventBusConcurrency < blueprint.MinEventBusConcurrency || c.EventBusConcurrency > blueprint.MaxEventBusConcurrency {
		bad(KeyEventBusConcurrency, "(%d) must be from %d to %d PutEvents requests in flight (the service refuses other values at start)",
			c.EventBusConcurrency, blueprint.MinEventBusConcurrency, blueprint.MaxEventBusConcurrency)
	}
	if c.ImportParallel < blueprint.MinImportParallel || c.ImportParallel > blueprint.MaxImportParallel {
		bad(KeyImportParallel, "(%d) must be from %d to %d batches in flight (the service refuses other values at start)",
			c.ImportParallel, blueprint.MinImportParallel, blueprint.MaxImportParallel)
	}
	if c.EventLagAlarmMs < blueprint.EventLagAlarmMin || c.EventLagAlarmMs > blueprint.EventLagAlarmMax {
		bad(KeyEventLagAlarmMs, "(%d) must be from %d to %d milliseconds", c.EventLagAlarmMs, blueprint.EventLagAlarmMin, blueprint.EventLagAlarmMax)
	}
	if c.EventArchiveDays < 0 || c.EventArchiveDays > maxEventArchiveDays {
		bad(KeyEventArchiveDays, "(%d) must be from 0 (keep indefinitely) to %d days", c.EventArchiveDays, maxEventArchiveDays)
	}
	if !slices.Contains(logRetentionValues, c.LogRetentionDays) {
		bad(KeyLogRetentionDays, "(%d) must be one of the CloudWatch Logs retention periods %v", c.LogRetentionDays, logRetentionValues)
	}
	if c.DBMinACU < blueprint.MinACULimit || c.DBMaxACU > blueprint.MaxACULimit || c.DBMinACU > c.DBMaxACU ||
		math.Mod(c.DBMinACU*2, 1) != 0 || math.Mod(c.DBMaxACU*2, 1) != 0 {
		bad(KeyDBMinACU, "and %s:%s (%v-%v) must be multiples of 0.5 with %v <= min <= max <= %v",
			ConfigNamespace, KeyDBMaxACU, c.DBMinACU, c.DBMaxACU, blueprint.MinACULimit, blueprint.MaxACULimit)
	}
	if c.DBBackupRetentionDays < 1 || c.DBBackupRetentionDays > maxBackupRetentionDays {
		bad(KeyDBBackupRetentionDays, "(%d) must be from 1 to %d", c.DBBackupRetentionDays, maxBackupRetentionDays)
	}
	if c.Image != "" && !imageRef.MatchString(c.Image) {
		bad(KeyImage, "(%q) must be a full image reference such as registry/repo:tag or registry/repo@sha256:...", c.Image)
	}
	if c.ImageTag != "" && !imageTag.MatchString(c.ImageTag) {
		bad(KeyImageTag, "(%q) must be a valid image tag", c.ImageTag)
	}
	if c.MigrateImageTag != "" && !imageTag.MatchString(c.MigrateImageTag) {
		bad(KeyMigrateImageTag, "(%q) must be a valid image tag", c.MigrateImageTag)
	}
	if c.MigrateImageTag != "" && c.Image != "" {
		bad(KeyMigrateImageTag, "names an image in this stack's ECR repository: unset %s:%s with it", ConfigNamespace, KeyImage)
	}
	if err := blueprint.ValidateDBEngineVersion(c.DBEngineVersion); err != nil {
		bad(KeyDBEngineVersion, "is invalid: %v", err)
	}
	if c.APIKeys == "" {
		bad(KeyAPIKeys, `is required and secret: pulumi config set --secret %s "$(openssl rand -hex 32)"`, KeyAPIKeys)
	} else if _, err := APIKeyDocument(c.APIKeys); err != nil {
		bad(KeyAPIKeys, "%v", err)
	}
	return out
}

// APIKeyDocument returns the API-key secret's content for the apiKeys configuration: a key
// document as given, or one key made the admin key with every scope from the model's template
// (the shape CloudFormation generates). Either way the service's own parser must accept it.
func APIKeyDocument(apiKeys string) (string, error) {
	doc := apiKeys
	if !strings.HasPrefix(apiKeys, "{") {
		if strings.ContainsAny(apiKeys, ",; \t\r\n") {
			return "", fmt.Errorf(`holds one key (the admin key) or a key document {"keys":[...]}; several keys go in a document`)
		}
		m := blueprint.Model().Config
		var tmpl map[string]any
		if err := json.Unmarshal([]byte(m.APIKeysTemplate), &tmpl); err != nil {
			return "", fmt.Errorf("the model's key template: %w", err)
		}
		tmpl[m.APIKeysGenerateKey] = apiKeys
		b, err := json.Marshal(tmpl)
		if err != nil {
			return "", err
		}
		doc = string(b)
	}
	set, err := access.ParseSecret([]byte(doc))
	switch {
	case err != nil:
		// The parser's message names keys by position and never quotes a key.
		return "", fmt.Errorf("is not a key the service accepts: %w", err)
	case set.Len() == 0:
		return "", fmt.Errorf("holds no key")
	}
	return doc, nil
}
