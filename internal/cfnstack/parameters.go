package cfnstack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Parameter names.
const (
	ParamEnvironmentSuffix        = "EnvironmentSuffix"
	ParamEnvironment              = "Environment"
	ParamImageTag                 = "ImageTag"
	ParamContainerImage           = "ContainerImage"
	ParamTaskSize                 = "TaskSize"
	ParamNATGatewayMode           = "NatGatewayMode"
	ParamEnableInterfaceEndpoints = "EnableInterfaceEndpoints"
	ParamCertificateARN           = "CertificateArn"
	ParamWebACLARN                = "WebAclArn"
	ParamAlertEmail               = "AlertEmail"
	ParamLogRetentionDays         = "LogRetentionDays"
	ParamDBMinCapacity            = "DBMinCapacity"
	ParamDBMaxCapacity            = "DBMaxCapacity"
	ParamDBBackupRetentionDays    = "DBBackupRetentionDays"
	ParamDBEngineVersion          = "DBEngineVersion"
	ParamAvailabilityZones        = "AvailabilityZones"
	ParamSaleStart                = "SaleStart"
	ParamSaleEnd                  = "SaleEnd"
	ParamSaleMinTasks             = "SaleMinTasks"
	ParamEnableCloudFront         = "EnableCloudFront"
	ParamCloudFrontPrefixListID   = "CloudFrontPrefixListId"
	ParamOriginDomainName         = "OriginDomainName"
	ParamCreateWebACL             = "CreateWebAcl"
	ParamWebACLRateLimit          = "WebAclRateLimit"
	ParamEnableFlowLogs           = "EnableFlowLogs"
	ParamMigrateImageTag          = "MigrateImageTag"
)

// Condition names.
const (
	CondNATPerAZ                 = "NatGatewayPerAZ"
	CondCreateInterfaceEndpoints = "CreateInterfaceEndpoints"
	CondHasCertificate           = "HasCertificate"
	CondHasWebACL                = "HasWebAcl"
	CondHasAlertEmail            = "HasAlertEmail"
	CondUseContainerImage        = "UseContainerImage"
	// CondHasImage is false in a bootstrap deploy (no ImageTag, no ContainerImage): the stack
	// then makes everything but the task definition, service, scaling and service alarms.
	CondHasImage               = "HasImage"
	CondDefaultAZs             = "UseDefaultAvailabilityZones"
	CondEnvironmentMinCapacity = "UseEnvironmentDBMinCapacity"
	CondEnvironmentMaxCapacity = "UseEnvironmentDBMaxCapacity"
	CondHasSale                = "HasSale"
	// CondCloudFront puts the distribution in front; CondNoCloudFront leaves the load balancer
	// open to the internet.
	CondCloudFront   = "CloudFrontInFront"
	CondNoCloudFront = "LoadBalancerOpenToInternet"
	// CondOwnWebACL creates the stack's own web ACL; CondFlowLogs turns the VPC's flow logs on.
	CondOwnWebACL       = "CreateOwnWebAcl"
	CondFlowLogs        = "FlowLogsOn"
	CondMigrateImageTag = "HasMigrateImageTag"
)

// SaleTimePattern is what a sale's start and end must match: Application Auto Scaling's at()
// schedule takes yyyy-mm-ddThh:mm:ss, in UTC when no time zone is given.
const SaleTimePattern = `^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`

// MapEnvironment is the mapping of per-environment defaults, keyed by the Environment
// parameter.
const MapEnvironment = "EnvironmentConfig"

// logRetentionValues are the retention periods CloudWatch Logs accepts.
var logRetentionValues = []string{"1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365",
	"400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653"}

func (b *builder) parameters(opts Options) error {
	p := b.t.Parameters
	p[ParamEnvironmentSuffix] = &cfn.Parameter{
		Type:                  "String",
		Description:           "Suffix in every resource name ({type}-{purpose}-{suffix}); keeps stacks apart. Lower-case letters and digits, single hyphens only between them.",
		AllowedPattern:        blueprint.SuffixPattern,
		MinLength:             cfn.Int(1),
		MaxLength:             cfn.Int(blueprint.MaxSuffixLength),
		ConstraintDescription: "1-" + strconv.Itoa(blueprint.MaxSuffixLength) + " lower-case letters or digits with single hyphens between them (RDS refuses '--' and a trailing '-'; ALB and target group names are limited to 32 characters).",
	}
	var envNames []string
	for _, e := range blueprint.Environments {
		envNames = append(envNames, e.Name)
	}
	p[ParamEnvironment] = &cfn.Parameter{
		Type:          "String",
		Description:   "Environment kind: selects the per-environment defaults (database capacity, cost centre tag).",
		AllowedValues: envNames,
		Default:       opts.DefaultEnvironment,
	}
	p[ParamImageTag] = &cfn.Parameter{
		Type: "String",
		Description: "Tag of the image in this stack's ECR repository (tags are immutable: use a version or commit ID). Ignored when ContainerImage is set. " +
			"Empty (with ContainerImage empty) deploys without the service: push the image to RepositoryUri, then update the stack with its tag.",
		Default:               "",
		AllowedPattern:        `^$|^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`,
		MaxLength:             cfn.Int(128),
		ConstraintDescription: "Empty, or a Docker tag: letters, digits, '_', '.' and '-', at most 128 characters.",
	}
	p[ParamContainerImage] = &cfn.Parameter{
		Type:                  "String",
		Description:           "Full image reference in a public registry (for example registry/repository:tag or @sha256 digest) used instead of this stack's ECR repository; empty to use ECR and ImageTag.",
		Default:               "",
		AllowedPattern:        `^$|^[a-z0-9][a-z0-9._/-]*(:[0-9]+)?(/[a-z0-9._/-]+)?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$`,
		MaxLength:             cfn.Int(255),
		ConstraintDescription: "Empty, or an image reference with a tag or digest.",
	}
	var sizes []string
	for _, s := range blueprint.ValidTaskSizes() {
		sizes = append(sizes, s.String())
	}
	p[ParamTaskSize] = &cfn.Parameter{
		Type:                  "String",
		Description:           "Fargate task size as CPU units/memory MiB (1024 = 1 vCPU); only valid Fargate combinations are allowed.",
		AllowedValues:         sizes,
		Default:               blueprint.Model().Service.TaskSize.String(),
		ConstraintDescription: "A Fargate CPU/memory combination such as 1024/2048.",
	}
	p[ParamNATGatewayMode] = &cfn.Parameter{
		Type:          "String",
		Description:   "per-az: one NAT gateway in each AZ (an AZ outage leaves the others routing); single: one NAT gateway for all private subnets (cheaper, for dev).",
		AllowedValues: []string{blueprint.NATPerAZ, blueprint.NATSingle},
		Default:       blueprint.NATPerAZ,
	}
	p[ParamEnableInterfaceEndpoints] = &cfn.Parameter{
		Type:          "String",
		Description:   "Create VPC interface endpoints (ECR API and Docker, CloudWatch Logs, Secrets Manager, SSM) so tasks reach them without the NAT gateways. Each costs about 0.01 USD per AZ-hour.",
		AllowedValues: []string{"true", "false"},
		Default:       "false",
	}
	p[ParamCertificateARN] = &cfn.Parameter{
		Type:                  "String",
		Description:           "ACM certificate ARN for an HTTPS listener (TLS 1.2/1.3) with HTTP redirected to HTTPS; empty for HTTP only.",
		Default:               "",
		AllowedPattern:        `^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`,
		ConstraintDescription: "Empty, or an ACM certificate ARN.",
	}
	p[ParamWebACLARN] = &cfn.Parameter{
		Type:                  "String",
		Description:           "Regional AWS WAFv2 web ACL ARN to associate with the load balancer; empty for none.",
		Default:               "",
		AllowedPattern:        `^$|^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/.+$`,
		ConstraintDescription: "Empty, or a regional WAFv2 web ACL ARN.",
	}
	fw := blueprint.Model().Edge.Firewall
	p[ParamCreateWebACL] = &cfn.Parameter{
		Type: "String",
		Description: "true: create a regional WAFv2 web ACL on the load balancer (the AWS managed common rule set, SizeRestrictions_BODY counted only, and a rate limit per client: WebAclRateLimit). " +
			"Leave WebAclArn empty with it. About 7 USD a month plus 0.60 USD per million requests.",
		AllowedValues: []string{"true", "false"},
		Default:       "false",
	}
	p[ParamWebACLRateLimit] = &cfn.Parameter{
		Type: "Number",
		Description: fmt.Sprintf("With CreateWebAcl: the requests one client may send in %d seconds before the web ACL answers 429 (the client is CloudFront's viewer address, or the source address without CloudFront). "+
			"The service's own per-client limits are finer; this sheds floods.", fw.RateWindowSeconds),
		Default:  strconv.Itoa(fw.RateLimit),
		MinValue: cfn.Float(blueprint.RateLimitMin),
		MaxValue: cfn.Float(blueprint.RateLimitMax),
	}
	p[ParamEnableFlowLogs] = &cfn.Parameter{
		Type:          "String",
		Description:   "VPC flow logs (every flow, to a log group under the stack's KMS key, LogRetentionDays): true, false, or empty for the environment's default (on in prod, off otherwise).",
		AllowedValues: []string{"", "true", "false"},
		Default:       "",
	}
	p[ParamMigrateImageTag] = &cfn.Parameter{
		Type: "String",
		Description: "Tag of the image in this stack's ECR repository the migrate task runs, when it must differ from the service's ImageTag " +
			"(a rolling upgrade: migrate with the new image while the service still runs the old one). Empty: the service's image.",
		Default:               "",
		AllowedPattern:        `^$|^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`,
		MaxLength:             cfn.Int(128),
		ConstraintDescription: "Empty, or a Docker tag: letters, digits, '_', '.' and '-', at most 128 characters.",
	}
	p[ParamEnableCloudFront] = &cfn.Parameter{
		Type: "String",
		Description: "Put a CloudFront distribution in front (HTTPS on its *.cloudfront.net name, no domain needed; public GETs cached by the service's Cache-Control). " +
			"The load balancer then admits only CloudFront. false: the load balancer is open to the internet (HTTP, or HTTPS with CertificateArn).",
		AllowedValues: []string{"true", "false"},
		Default:       "true",
	}
	p[ParamCloudFrontPrefixListID] = &cfn.Parameter{
		Type: "String",
		Description: "ID of the AWS-managed prefix list " + blueprint.CloudFrontPrefixListName + " in this region (required with EnableCloudFront; CloudFormation cannot look it up by name): " +
			"aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=" + blueprint.CloudFrontPrefixListName + " --query 'PrefixLists[0].PrefixListId' --output text. scripts/deploy-cloudformation.sh fills it in.",
		Default:               "",
		AllowedPattern:        `^$|^pl-[0-9a-f]{8,17}$`,
		ConstraintDescription: "Empty, or a prefix list ID (pl-...).",
	}
	p[ParamOriginDomainName] = &cfn.Parameter{
		Type: "String",
		Description: "With CloudFront and CertificateArn: the domain name the certificate covers that points at the load balancer (a CNAME or alias to LoadBalancerDnsName); " +
			"CloudFront connects to it over HTTPS and checks the certificate against it. Ignored otherwise.",
		Default:               "",
		AllowedPattern:        `^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`,
		MaxLength:             cfn.Int(253),
		ConstraintDescription: "Empty, or a lower-case domain name.",
	}
	p[ParamAlertEmail] = &cfn.Parameter{
		Type:                  "String",
		Description:           "E-mail address subscribed to the alarm topic (confirm the subscription mail); empty for none.",
		Default:               "",
		AllowedPattern:        `^$|^[^@\s]+@[^@\s]+\.[^@\s]+$`,
		MaxLength:             cfn.Int(254),
		ConstraintDescription: "Empty, or an e-mail address.",
	}
	for param, which := range map[string]string{ParamSaleStart: "start", ParamSaleEnd: "end"} {
		p[param] = &cfn.Parameter{
			Type:                  "String",
			Description:           "Planned sale's " + which + " (UTC, yyyy-mm-ddThh:mm:ss; at least 5 minutes before the traffic for the start): the service's minimum is SaleMinTasks and the database's SaleMinACU in between. Empty for no sale; set both or neither.",
			Default:               "",
			AllowedPattern:        SaleTimePattern,
			ConstraintDescription: "Empty, or a UTC time as yyyy-mm-ddThh:mm:ss.",
		}
	}
	p[ParamSaleMinTasks] = &cfn.Parameter{
		Type:        "Number",
		Description: "Minimum tasks during the planned sale (the capacity model's tasks for the expected peak, docs/capacity.md).",
		Default:     strconv.Itoa(blueprint.SaleMinTasks),
		MinValue:    cfn.Float(blueprint.MinTasks),
		MaxValue:    cfn.Float(blueprint.MaxTasks),
	}
	p[ParamLogRetentionDays] = &cfn.Parameter{
		Type:          "Number",
		Description:   "Retention in days of the application and database log groups.",
		AllowedValues: logRetentionValues,
		Default:       strconv.Itoa(blueprint.LogRetentionDays),
	}
	acuValues := []string{"0"}
	for _, v := range blueprint.ACUChoices {
		acuValues = append(acuValues, acuString(v))
	}
	// The defaults named from the model, so the description cannot fall behind a change to them.
	var envDefaults []string
	for _, e := range blueprint.Environments {
		envDefaults = append(envDefaults, e.Name+" "+acuString(e.MinACU)+"-"+acuString(e.MaxACU))
	}
	acu := func(which string) *cfn.Parameter {
		return &cfn.Parameter{
			Type:          "String",
			Description:   "Aurora Serverless v2 " + which + " capacity in ACUs; 0 uses the environment's default (" + strings.Join(envDefaults, ", ") + "). The minimum must not exceed the maximum.",
			Default:       "0",
			AllowedValues: acuValues,
		}
	}
	p[ParamDBMinCapacity] = acu("minimum")
	p[ParamDBMaxCapacity] = acu("maximum")
	p[ParamDBEngineVersion] = &cfn.Parameter{
		Type: "String",
		Description: "Aurora PostgreSQL 16 engine version of a new cluster. Automatic minor upgrades move a running cluster past it; " +
			"before an update, set this to the running version (aws rds describe-db-clusters --query 'DBClusters[0].EngineVersion'), because a lower version is refused.",
		Default:               blueprint.DBEngineVersion,
		AllowedPattern:        blueprint.DBEngineVersionPattern,
		ConstraintDescription: "An Aurora PostgreSQL 16 minor version such as " + blueprint.DBEngineVersion + ".",
	}
	p[ParamAvailabilityZones] = &cfn.Parameter{
		Type: "String",
		Description: "Three availability zone names, comma-separated (for example us-east-1a,us-east-1b,us-east-1c); empty uses the first three of Fn::GetAZs. " +
			"Set it in accounts without a default VPC that opted in to Local or Wavelength Zones, which Fn::GetAZs may then list.",
		Default:               "",
		AllowedPattern:        `^$|^[a-z0-9-]+[a-z],[a-z0-9-]+[a-z],[a-z0-9-]+[a-z]$`,
		ConstraintDescription: "Empty, or exactly three availability zone names separated by commas.",
	}
	p[ParamDBBackupRetentionDays] = &cfn.Parameter{
		Type:        "Number",
		Description: "Days of automated database backups (point-in-time recovery window).",
		Default:     strconv.Itoa(blueprint.DBBackupRetentionDays),
		MinValue:    cfn.Float(1),
		MaxValue:    cfn.Float(35),
	}

	envMap := cfn.Mapping{}
	for _, e := range blueprint.Environments {
		envMap[e.Name] = map[string]any{
			"DBMinCapacity": strconv.FormatFloat(e.MinACU, 'f', -1, 64),
			"DBMaxCapacity": strconv.FormatFloat(e.MaxACU, 'f', -1, 64),
			"CostCenter":    e.CostCenter,
		}
	}
	b.t.Mappings[MapEnvironment] = envMap
	b.saleMinACUParameter()
	b.importParallelParameter()

	c := b.t.Conditions
	notEmpty := func(param string) any { return cfn.Not(cfn.Equals(cfn.Ref(param), "")) }
	c[CondNATPerAZ] = cfn.Equals(cfn.Ref(ParamNATGatewayMode), blueprint.NATPerAZ)
	c[CondCreateInterfaceEndpoints] = cfn.Equals(cfn.Ref(ParamEnableInterfaceEndpoints), "true")
	c[CondHasCertificate] = notEmpty(ParamCertificateARN)
	c[CondHasWebACL] = notEmpty(ParamWebACLARN)
	c[CondHasAlertEmail] = notEmpty(ParamAlertEmail)
	c[CondUseContainerImage] = notEmpty(ParamContainerImage)
	c[CondHasImage] = cfn.Or(notEmpty(ParamImageTag), cfn.Condition(CondUseContainerImage))
	c[CondDefaultAZs] = cfn.Equals(cfn.Ref(ParamAvailabilityZones), "")
	c[CondEnvironmentMinCapacity] = cfn.Equals(cfn.Ref(ParamDBMinCapacity), "0")
	c[CondEnvironmentMaxCapacity] = cfn.Equals(cfn.Ref(ParamDBMaxCapacity), "0")
	c[CondHasSale] = notEmpty(ParamSaleStart)
	c[CondCloudFront] = cfn.Equals(cfn.Ref(ParamEnableCloudFront), "true")
	c[CondNoCloudFront] = cfn.Not(cfn.Condition(CondCloudFront))
	c[CondOwnWebACL] = cfn.Equals(cfn.Ref(ParamCreateWebACL), "true")
	// Empty takes the environment's default: on in the environments the model says.
	var flowEnvs []any
	for _, e := range blueprint.Environments {
		if e.FlowLogs {
			flowEnvs = append(flowEnvs, cfn.Equals(cfn.Ref(ParamEnvironment), e.Name))
		}
	}
	var flowEnv any = cfn.Equals("true", "false")
	switch len(flowEnvs) {
	case 0:
	case 1:
		flowEnv = flowEnvs[0]
	default:
		flowEnv = cfn.Or(flowEnvs...)
	}
	c[CondFlowLogs] = cfn.Or(cfn.Equals(cfn.Ref(ParamEnableFlowLogs), "true"),
		cfn.And(cfn.Equals(cfn.Ref(ParamEnableFlowLogs), ""), flowEnv))
	c[CondMigrateImageTag] = notEmpty(ParamMigrateImageTag)
	// A load balancer has one web ACL (blueprint.Exclusive): the stack's own or an existing one.
	if err := b.t.AddRule("OwnWebAclOrExistingOne", &cfn.Rule{RuleCondition: cfn.Equals(cfn.Ref(ParamCreateWebACL), "true"), Assertions: []cfn.Assertion{{
		Assert:            cfn.Equals(cfn.Ref(ParamWebACLARN), ""),
		AssertDescription: "CreateWebAcl=true creates the load balancer's web ACL: leave WebAclArn empty (a load balancer has one web ACL)",
	}}}); err != nil {
		return err
	}
	// The migrate image is a tag of this stack's repository: with ContainerImage there is none.
	if err := b.t.AddRule("MigrateImageTagNeedsRepository", &cfn.Rule{RuleCondition: notEmpty(ParamMigrateImageTag), Assertions: []cfn.Assertion{{
		Assert:            cfn.Equals(cfn.Ref(ParamContainerImage), ""),
		AssertDescription: "MigrateImageTag names an image in this stack's ECR repository: leave ContainerImage empty with it",
	}}}); err != nil {
		return err
	}
	if err := b.t.AddRule("CloudFrontNeedsPrefixList", &cfn.Rule{RuleCondition: cfn.Equals(cfn.Ref(ParamEnableCloudFront), "true"), Assertions: []cfn.Assertion{{
		Assert:            notEmpty(ParamCloudFrontPrefixListID),
		AssertDescription: "EnableCloudFront needs CloudFrontPrefixListId: aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=" + blueprint.CloudFrontPrefixListName,
	}}}); err != nil {
		return err
	}
	if err := b.t.AddRule("CloudFrontOverHTTPSNeedsOriginDomain", &cfn.Rule{
		RuleCondition: cfn.And(cfn.Equals(cfn.Ref(ParamEnableCloudFront), "true"), notEmpty(ParamCertificateARN)),
		Assertions: []cfn.Assertion{{
			Assert:            notEmpty(ParamOriginDomainName),
			AssertDescription: "EnableCloudFront with CertificateArn needs OriginDomainName: the certificate's domain name, pointing at the load balancer",
		}},
	}); err != nil {
		return err
	}
	// A window needs both ends: a start alone would raise the minimum for good.
	for id, pair := range map[string][2]string{"SaleStartNeedsEnd": {ParamSaleStart, ParamSaleEnd}, "SaleEndNeedsStart": {ParamSaleEnd, ParamSaleStart}} {
		if err := b.t.AddRule(id, &cfn.Rule{RuleCondition: notEmpty(pair[0]), Assertions: []cfn.Assertion{{
			Assert:            notEmpty(pair[1]),
			AssertDescription: "SaleStart and SaleEnd must both be set, or both be empty",
		}}}); err != nil {
			return err
		}
	}

	b.capacityRules()
	b.saleMinACURules()

	b.t.Metadata["AWS::CloudFormation::Interface"] = map[string]any{
		"ParameterGroups": []any{
			group("Environment", ParamEnvironmentSuffix, ParamEnvironment),
			group("Service", ParamImageTag, ParamContainerImage, ParamMigrateImageTag, ParamTaskSize, ParamImportParallel),
			group("Planned sale", ParamSaleStart, ParamSaleEnd, ParamSaleMinTasks, ParamSaleMinACU),
			group("Network and edge", ParamAvailabilityZones, ParamNATGatewayMode, ParamEnableInterfaceEndpoints, ParamEnableCloudFront, ParamCloudFrontPrefixListID,
				ParamCertificateARN, ParamOriginDomainName, ParamWebACLARN, ParamCreateWebACL, ParamWebACLRateLimit, ParamEnableFlowLogs),
			group("Database", ParamDBEngineVersion, ParamDBMinCapacity, ParamDBMaxCapacity, ParamDBBackupRetentionDays),
			group("Observability", ParamAlertEmail, ParamLogRetentionDays),
		},
	}
	return nil
}

// acuString renders a capacity as the parameters and the mapping write it: "0.5", "1", "2.5".
func acuString(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// capacityRules add the template rules that refuse a minimum capacity above the maximum before
// anything is created. Rules cannot compare numbers, so each one names the maximums a given
// minimum allows (0 meaning the environment's default, which depends on Environment).
func (b *builder) capacityRules() {
	atLeast := func(min float64) []any {
		var out []any
		for _, v := range blueprint.ACUChoices {
			if v >= min {
				out = append(out, acuString(v))
			}
		}
		return out
	}
	atMost := func(max float64) []any {
		var out []any
		for _, v := range blueprint.ACUChoices {
			if v <= max {
				out = append(out, acuString(v))
			}
		}
		return out
	}
	rule := func(id string, cond any, assert any, desc string) {
		if err := b.t.AddRule(id, &cfn.Rule{RuleCondition: cond, Assertions: []cfn.Assertion{{Assert: assert, AssertDescription: desc}}}); err != nil && b.err == nil {
			b.err = err
		}
	}
	contains := func(list []any, param string) any { return cfn.Fn{"Fn::Contains": []any{list, cfn.Ref(param)}} }
	for i, m := range blueprint.ACUChoices {
		assert := contains(atLeast(m), ParamDBMaxCapacity)
		desc := fmt.Sprintf("DBMaxCapacity must be at least DBMinCapacity (%s ACUs)", acuString(m))
		// 0 takes the environment's maximum: allowed in the environments whose maximum fits.
		var fits []any
		for _, e := range blueprint.Environments {
			if e.MaxACU >= m {
				fits = append(fits, e.Name)
			}
		}
		if len(fits) > 0 {
			assert = cfn.Or(assert, cfn.And(cfn.Equals(cfn.Ref(ParamDBMaxCapacity), "0"), contains(fits, ParamEnvironment)))
			desc += fmt.Sprintf(", or 0 in an environment whose default maximum is at least that (%v)", fits)
		}
		rule(fmt.Sprintf("DBCapacityMin%d", i+1), cfn.Equals(cfn.Ref(ParamDBMinCapacity), acuString(m)), assert, desc)
	}
	for _, e := range blueprint.Environments {
		title := strings.ToUpper(e.Name[:1]) + e.Name[1:]
		rule("DBCapacityDefaultMin"+title,
			cfn.And(cfn.Equals(cfn.Ref(ParamEnvironment), e.Name), cfn.Equals(cfn.Ref(ParamDBMinCapacity), "0")),
			contains(append([]any{"0"}, atLeast(e.MinACU)...), ParamDBMaxCapacity),
			fmt.Sprintf("DBMaxCapacity must be 0 or at least %s ACUs, the %s default minimum", acuString(e.MinACU), e.Name))
		rule("DBCapacityDefaultMax"+title,
			cfn.And(cfn.Equals(cfn.Ref(ParamEnvironment), e.Name), cfn.Equals(cfn.Ref(ParamDBMaxCapacity), "0")),
			contains(append([]any{"0"}, atMost(e.MaxACU)...), ParamDBMinCapacity),
			fmt.Sprintf("DBMinCapacity must be 0 or at most %s ACUs, the %s default maximum", acuString(e.MaxACU), e.Name))
	}
}

func group(label string, params ...string) map[string]any {
	return map[string]any{"Label": map[string]any{"default": label}, "Parameters": params}
}
