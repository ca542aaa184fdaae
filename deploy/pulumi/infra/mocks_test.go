package infra_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// testRegion, testAccount and testAZs are what the mocks answer for the provider's region,
// account and zones.
const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
)

// testPrefixList is the mocks' ID of CloudFront's origin-facing prefix list; testGeneratedSecret
// is what getRandomPassword answers (a new value on every run, as in AWS), testStoredSecret what
// the stored secret holds (the first run's value): the program must use the stored one.
const (
	testPrefixList = "pl-3b927c52"
	// testClusterResourceID is the mocks' Aurora cluster resource ID (not its identifier).
	testClusterResourceID = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	testGeneratedSecret   = "GeneratedOnThisRun0123456789abcdefghijklmnopqrst"
	testStoredSecret      = "StoredOnTheFirstRun0123456789abcdefghijklmnopqr"
)

var testAZs = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}

// configT shortens infra.Config in test tables.
type configT = infra.Config

// res is one resource the program registered, as the engine would see it.
type res struct {
	Type   string
	Name   string
	ID     string
	Custom bool
	// Inputs are the resource's inputs as plain Go values (secrets unwrapped); Secret lists the
	// top-level inputs that were secret.
	Inputs  map[string]any
	Secret  map[string]bool
	Protect bool
	Retain  bool
	Ignore  []string
	Parent  string
	// Deps are the URNs the resource depends on.
	Deps []string
	// AliasParents are the parent URNs of the resource's aliases (its former parents).
	AliasParents []string
}

// str returns a string input at a dotted path ("healthCheck.path"), or "".
func (r res) str(path string) string { s, _ := r.get(path).(string); return s }

// num returns a numeric input at a dotted path, or -1.
func (r res) num(path string) float64 {
	if f, ok := r.get(path).(float64); ok {
		return f
	}
	return -1
}

// boolean returns a bool input at a dotted path and whether it was set.
func (r res) boolean(path string) (bool, bool) { b, ok := r.get(path).(bool); return b, ok }

func (r res) get(path string) any {
	var v any = r.Inputs
	for _, part := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// mocks records every resource and answers the invokes the program makes.
type mocks struct {
	mu        sync.Mutex
	resources []res
	// azFilters are the filters of every getAvailabilityZones invoke, "name=value,value".
	azFilters []string
}

// localZone is what AWS lists first in us-east-1 when the account opted in to a Local Zone:
// "us-east-1-bos-1a" sorts before "us-east-1a". The mock answers it unless the invoke filters
// on opt-in-status=opt-in-not-required, as EC2 DescribeAvailabilityZones would.
const localZone = "us-east-1-bos-1a"

func plain(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsSecret():
		p, _ := plain(v.SecretValue().Element)
		return p, true
	case v.IsOutput():
		o := v.OutputValue()
		p, secret := plain(o.Element)
		return p, secret || o.Secret
	case v.IsComputed():
		return nil, false
	case v.IsArray():
		out := []any{}
		secret := false
		for _, e := range v.ArrayValue() {
			p, s := plain(e)
			out = append(out, p)
			secret = secret || s
		}
		return out, secret
	case v.IsObject():
		out := map[string]any{}
		secret := false
		for k, e := range v.ObjectValue() {
			p, s := plain(e)
			out[string(k)] = p
			secret = secret || s
		}
		return out, secret
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN), false
	}
	return v.Mappable(), false
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := res{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: map[string]any{}, Secret: map[string]bool{}}
	for k, v := range args.Inputs {
		p, secret := plain(v)
		r.Inputs[string(k)] = p
		r.Secret[string(k)] = secret
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Protect = rpc.GetProtect()
		r.Retain = rpc.GetRetainOnDelete()
		r.Ignore = rpc.GetIgnoreChanges()
		r.Parent = rpc.GetParent()
		r.Deps = rpc.GetDependencies()
		for _, a := range rpc.GetAliases() {
			if spec := a.GetSpec(); spec != nil {
				r.AliasParents = append(r.AliasParents, spec.GetParentUrn())
			}
		}
		r.AliasParents = append(r.AliasParents, rpc.GetAliasURNs()...)
	}
	r.ID = args.Name + "-id"
	if !args.Custom {
		r.ID = ""
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()

	// State is the inputs plus what AWS would compute.
	state := args.Inputs.Copy()
	set := func(k string, v any) { state[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	svc := strings.SplitN(strings.TrimPrefix(args.TypeToken, "aws:"), "/", 2)[0]
	set("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", svc, testRegion, testAccount, args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:], args.Name))
	if !args.Inputs.HasValue("name") {
		set("name", args.Name)
	}
	switch args.TypeToken {
	case "aws:lb/loadBalancer:LoadBalancer":
		set("dnsName", args.Name+".elb.amazonaws.com")
		set("arnSuffix", "app/"+args.Name+"/0123456789abcdef")
	case "aws:cloudfront/distribution:Distribution":
		set("domainName", "d111111abcdef8.cloudfront.net")
	case "aws:lb/targetGroup:TargetGroup":
		set("arnSuffix", "targetgroup/"+args.Name+"/0123456789abcdef")
	case "aws:ecr/repository:Repository":
		set("repositoryUrl", testAccount+".dkr.ecr."+testRegion+".amazonaws.com/"+args.Inputs["name"].StringValue())
	case "aws:rds/cluster:Cluster":
		set("clusterResourceId", testClusterResourceID)
		id := args.Inputs["clusterIdentifier"].StringValue()
		set("endpoint", id+".cluster-abc.us-east-1.rds.amazonaws.com")
		set("readerEndpoint", id+".cluster-ro-abc.us-east-1.rds.amazonaws.com")
		set("masterUserSecrets", []any{map[string]any{"secretArn": "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:rds!cluster-" + id + "-AbCdEf"}})
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", testRegion, testAccount, args.Inputs["name"].StringValue()))
	case "aws:cloudwatch/eventBus:EventBus":
		set("arn", fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", testRegion, testAccount, args.Inputs["name"].StringValue()))
	case "aws:ssm/parameter:Parameter":
		set("arn", fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", testRegion, testAccount, args.Inputs["name"].StringValue()))
	}
	return r.ID, state, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		names := append([]string{localZone}, testAZs...)
		var filters []string
		if f := args.Args["filters"]; f.IsArray() {
			for _, e := range f.ArrayValue() {
				o := e.ObjectValue()
				var vals []string
				for _, v := range o["values"].ArrayValue() {
					vals = append(vals, v.StringValue())
				}
				filter := o["name"].StringValue() + "=" + strings.Join(vals, ",")
				filters = append(filters, filter)
				if filter == "opt-in-status=opt-in-not-required" || filter == "zone-type=availability-zone" {
					names = testAZs
				}
			}
		}
		m.mu.Lock()
		m.azFilters = append(m.azFilters, strings.Join(filters, ";"))
		m.mu.Unlock()
		return resource.NewPropertyMapFromMap(map[string]any{"names": names, "id": testRegion}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": testAccount, "arn": "arn:aws:iam::" + testAccount + ":user/test", "id": testAccount, "userId": "test"}), nil
	case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
		if name := args.Args["name"]; !name.IsString() || name.StringValue() != blueprint.CloudFrontPrefixListName {
			return nil, fmt.Errorf("unexpected prefix list lookup %v", args.Args)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": testPrefixList, "name": blueprint.CloudFrontPrefixListName, "entries": []any{}}), nil
	case "aws:secretsmanager/getRandomPassword:getRandomPassword":
		return resource.NewPropertyMapFromMap(map[string]any{"id": "random", "randomPassword": testGeneratedSecret}), nil
	case "aws:secretsmanager/getSecretVersion:getSecretVersion":
		// What the version stored: the first run's generated value.
		return resource.NewPropertyMapFromMap(map[string]any{"id": "version", "arn": args.Args["secretId"].StringValue(),
			"secretId": args.Args["secretId"].StringValue(), "secretString": testStoredSecret, "versionId": "v1"}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"region": testRegion, "name": testRegion, "id": testRegion}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// run is one run of the program under the mocks.
type run struct {
	cfg       infra.Config
	resources []res
	outputs   map[string]any
	azFilters []string
}

// of returns the custom resources of a type, in registration order.
func (r *run) of(typ string) []res {
	var out []res
	for _, x := range r.resources {
		if x.Type == typ {
			out = append(out, x)
		}
	}
	return out
}

// one returns the single resource of a type with the given logical name.
func (r *run) named(tb testing.TB, typ, name string) res {
	tb.Helper()
	for _, x := range r.of(typ) {
		if x.Name == name {
			return x
		}
	}
	tb.Fatalf("no %s named %s", typ, name)
	return res{}
}

// byName finds a custom resource by its logical name.
func (r *run) byName(name string) (res, bool) {
	for _, x := range r.resources {
		if x.Custom && x.Name == name {
			return x, true
		}
	}
	return res{}, false
}

// byID finds a custom resource by the ID the mocks gave it.
func (r *run) byID(id string) (res, bool) {
	for _, x := range r.resources {
		if x.Custom && x.ID == id {
			return x, true
		}
	}
	return res{}, false
}

// byARN finds a custom resource by the ARN the mocks gave it.
func (r *run) byARN(arn string) (res, bool) {
	for _, x := range r.resources {
		if x.Custom && strings.HasSuffix(arn, "/"+x.Name) && strings.HasPrefix(arn, "arn:aws:") {
			return x, true
		}
	}
	return res{}, false
}

// Test configurations: the defaults, and everything optional switched on.
func defaultConfig() infra.Config {
	env, _ := blueprint.LookupEnvironment("dev")
	c := infra.DefaultConfig("zq9", env, strings.Repeat("k", 32))
	c.ImageTag = "1.0.0"
	return c
}

func fullConfig() infra.Config {
	c := defaultConfig()
	c.NATMode = blueprint.NATSingle
	c.InterfaceEndpoints = true
	c.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	c.WebACLARN = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/catalog/11111111-2222-3333-4444-555555555555"
	c.AlertEmail = "oncall@example.com"
	c.SaleStart, c.SaleEnd = "2026-12-24T08:55:00", "2026-12-24T12:00:00"
	c.SaleMinACU = 2 // not the environment's: parity sees it passed
	c.OriginDomain = "api.example.com"
	c.FlowLogs = true
	c.EventBusConcurrency, c.EventLagAlarmMs = 3, 45_000 // not the defaults: parity sees them passed
	c.ImportParallel = 5                                 // not the environment's: parity sees it passed
	return c
}

// runStack runs Build under the mocks and resolves every stack output.
func runStack(tb testing.TB, cfg infra.Config) *run {
	tb.Helper()
	m := &mocks{}
	r := &run{cfg: cfg, outputs: map[string]any{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		st, err := infra.Build(ctx, cfg)
		if err != nil {
			return err
		}
		for k, o := range st.Outputs() {
			wg.Add(1)
			o.ApplyT(func(v any) any {
				mu.Lock()
				r.outputs[k] = v
				mu.Unlock()
				wg.Done()
				return v
			})
		}
		return nil
	}, pulumi.WithMocks(infra.ConfigNamespace, "test", m))
	if err != nil {
		tb.Fatalf("running the program: %v", err)
	}
	wg.Wait()
	r.resources = m.resources
	r.azFilters = m.azFilters
	return r
}

// programNow is the clock runProgram gives the program: before every sale window the tests
// configure, whatever day they run.
var programNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// runProgram runs the whole program (config loading included) under the mocks at programNow.
// secretKeys are the keys it treats as set with --secret.
func runProgram(config map[string]string, secretKeys ...string) ([]res, error) {
	return runProgramAt(programNow, config, secretKeys...)
}

func runProgramAt(now time.Time, config map[string]string, secretKeys ...string) ([]res, error) {
	m := &mocks{}
	get := func(k string) (string, bool) { v, ok := config[k]; return v, ok }
	isSecret := func(k string) bool { return slices.Contains(secretKeys, k) }
	err := pulumi.RunErr(infra.Program(get, isSecret, func() time.Time { return now }), pulumi.WithMocks(infra.ConfigNamespace, "test", m))
	return m.resources, err
}

// jsonInput decodes a JSON-string input.
func jsonInput(tb testing.TB, r res, key string, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(r.str(key)), v); err != nil {
		tb.Fatalf("%s %s: %s is not JSON: %v", r.Type, r.Name, key, err)
	}
}
