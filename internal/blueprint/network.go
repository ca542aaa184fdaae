package blueprint

import (
	"fmt"
	"slices"
	"strings"
)

// Tier is a subnet tier.
type Tier string

// The tiers: public subnets hold the load balancer and NAT gateways, private ones the tasks
// (routed out through NAT), isolated ones the database (no route out of the VPC at all).
const (
	TierPublic   Tier = "public"
	TierPrivate  Tier = "private"
	TierIsolated Tier = "isolated"
)

// Network is the VPC: subnets in three tiers over AZCount zones, the internet gateway, NAT
// gateways, route tables, the S3 gateway endpoint, optional interface endpoints, and the
// security groups with every rule between them.
type Network struct {
	VPC             Resource
	InternetGateway Resource
	Subnets         []Subnet
	NATGateways     []NATGateway
	RouteTables     []RouteTable
	S3Endpoint      Resource
	// S3EndpointPolicy and EndpointPolicy are the endpoints' policies, with placeholders: only
	// this account's principals (interface endpoints) and buckets (S3), plus the bucket ECR
	// serves image layers from.
	S3EndpointPolicy map[string]any
	EndpointPolicy   map[string]any
	Endpoints        []InterfaceEndpoint
	SecurityGroups   []SecurityGroup
	Rules            []Rule
	FlowLogs         FlowLogs
}

// Resource is what every resource of the model has. ID is its stable identity in the stack:
// CloudFormation's logical ID, and the key other resources of the model refer to it by;
// changing it replaces the resource. Kind and Purpose make its AWS-visible name,
// {Kind}-{Purpose}-{suffix} (Name). When is the option it exists under.
type Resource struct {
	ID      string
	Kind    string
	Purpose string
	When    Option
}

// Name returns the resource's name for an environment suffix.
func (r Resource) Name(suffix string) string { return Name(r.Kind, r.Purpose, suffix) }

// Subnet is one subnet: a tier in one zone (AZ is the index into the stack's zones).
type Subnet struct {
	Resource
	Tier Tier
	AZ   int
	CIDR string
}

// NATGateway is a NAT gateway with its Elastic IP, in the public subnet of its zone.
type NATGateway struct {
	Resource
	EIP    Resource
	Subnet string // the public subnet's ID
}

// RouteTable is a route table, the subnets associated with it, and its default route: to the
// internet gateway, to a NAT gateway, or none.
type RouteTable struct {
	Resource
	Tier    Tier
	Subnets []string // subnet IDs
	// DefaultRoute is the 0.0.0.0/0 route; its ID is empty when the table has none.
	DefaultRoute Resource
	// ToInternetGateway sends the default route to the internet gateway.
	ToInternetGateway bool
	// ToNAT is the index of the NAT gateway the default route goes to; where that gateway does
	// not exist in a deployment (single NAT mode), the route goes to NATGateways[0].
	ToNAT int
}

// InterfaceEndpoint is a VPC interface endpoint in the private subnets.
type InterfaceEndpoint struct {
	Resource
	Service       string // "ecr.api": the part after com.amazonaws.{region}.
	SecurityGroup string // the ID of the endpoint's security group
}

// Direction is the direction of a security-group rule.
type Direction string

// The directions.
const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// SecurityGroup is a security group. It has no egress but what Rules give it.
type SecurityGroup struct {
	Resource
	Description string
}

// Rule allows one TCP port between a security group and a peer: another group (PeerGroup), an
// address range (CIDR) or an AWS-managed prefix list (PrefixList, by name).
type Rule struct {
	Resource
	Direction Direction
	Group     string // the ID of the group the rule belongs to
	Port      int
	// AltPort is the port instead of Port under AltPortWhen's option.
	AltPort     int
	AltPortWhen Option
	PeerGroup   string // a group's ID, or empty
	CIDR        string // with PeerGroup and PrefixList empty
	PrefixList  string // an AWS-managed prefix list's name, with PeerGroup and CIDR empty
	Description string
}

// PortIn returns the rule's port in a deployment.
func (r Rule) PortIn(c Choices) int {
	if r.AltPortWhen != Always && c.Has(r.AltPortWhen) {
		return r.AltPort
	}
	return r.Port
}

// AnyIPv4 is the address range of the whole internet.
const AnyIPv4 = "0.0.0.0/0"

// HTTPSPort is the port of HTTPS, to the load balancer and to AWS APIs.
const HTTPSPort = 443

// HTTPPort is the port of plain HTTP to the load balancer.
const HTTPPort = 80

// Security group IDs.
const (
	SGLoadBalancer = "AlbSecurityGroup"
	SGTasks        = "TaskSecurityGroup"
	SGDatabase     = "DBSecurityGroup"
	SGEndpoints    = "EndpointSecurityGroup"
)

// Network resource IDs.
const (
	IDVPC             = "VPC"
	IDInternetGateway = "InternetGateway"
	IDS3Endpoint      = "S3GatewayEndpoint"
)

// SubnetIDs returns the IDs of a tier's subnets, in zone order.
func (n Network) SubnetIDs(tier Tier) []string {
	var ids []string
	for _, s := range n.Subnets {
		if s.Tier == tier {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// PresentNATGateways returns the NAT gateways a deployment has.
func (n Network) PresentNATGateways(c Choices) []NATGateway {
	return present(n.NATGateways, func(g NATGateway) Option { return g.When }, c)
}

// PresentSecurityGroups returns the security groups a deployment has.
func (n Network) PresentSecurityGroups(c Choices) []SecurityGroup {
	return present(n.SecurityGroups, func(g SecurityGroup) Option { return g.When }, c)
}

// PresentRules returns the security-group rules a deployment has.
func (n Network) PresentRules(c Choices) []Rule {
	return present(n.Rules, func(r Rule) Option { return r.When }, c)
}

// Subnet returns the subnet with the given ID.
func (n Network) Subnet(id string) (Subnet, bool) {
	for _, s := range n.Subnets {
		if s.ID == id {
			return s, true
		}
	}
	return Subnet{}, false
}

// SecurityGroup returns the group with the given ID.
func (n Network) SecurityGroup(id string) (SecurityGroup, bool) {
	for _, g := range n.SecurityGroups {
		if g.ID == id {
			return g, true
		}
	}
	return SecurityGroup{}, false
}

// RouteNAT returns the NAT gateway a route table's default route goes to under the choices.
func (n Network) RouteNAT(rt RouteTable, c Choices) NATGateway {
	if g := n.NATGateways[rt.ToNAT]; c.Has(g.When) {
		return g
	}
	return n.NATGateways[0]
}

// EndpointPurpose turns an endpoint service ("ecr.api") into a name part ("ecr-api").
func EndpointPurpose(service string) string { return strings.ReplaceAll(service, ".", "-") }

// endpointID returns the ID of the interface endpoint for a service: "ecr.api" is
// "EcrApiEndpoint".
func endpointID(service string) string {
	var sb strings.Builder
	for _, part := range strings.FieldsFunc(service, func(r rune) bool { return r == '.' || r == '-' }) {
		sb.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return sb.String() + "Endpoint"
}

func network() Network {
	n := Network{
		VPC:             Resource{ID: IDVPC, Kind: "vpc", Purpose: Project},
		InternetGateway: Resource{ID: IDInternetGateway, Kind: "igw", Purpose: Project},
		S3Endpoint:      Resource{ID: IDS3Endpoint, Kind: "vpce", Purpose: "s3"},
		FlowLogs:        flowLogs(),
	}
	tiers := []struct {
		tier   Tier
		prefix string
		cidrs  [AZCount]string
	}{
		{TierPublic, "PublicSubnet", PublicSubnetCIDRs},
		{TierPrivate, "PrivateSubnet", PrivateSubnetCIDRs},
		{TierIsolated, "IsolatedSubnet", IsolatedSubnetCIDRs},
	}
	for _, t := range tiers {
		for i, cidr := range t.cidrs {
			n.Subnets = append(n.Subnets, Subnet{
				Resource: Resource{ID: fmt.Sprintf("%s%d", t.prefix, i+1), Kind: "subnet", Purpose: fmt.Sprintf("%s-%d", t.tier, i+1)},
				Tier:     t.tier, AZ: i, CIDR: cidr,
			})
		}
	}
	n.S3EndpointPolicy, n.EndpointPolicy = endpointPolicies()
	public := n.SubnetIDs(TierPublic)
	// NAT gateways: the first always, the others only per AZ (an AZ outage then leaves the
	// other zones routing).
	for i := range AZCount {
		when := Always
		if i > 0 {
			when = WithNATPerAZ
		}
		n.NATGateways = append(n.NATGateways, NATGateway{
			Resource: Resource{ID: fmt.Sprintf("NatGateway%d", i+1), Kind: "nat", Purpose: fmt.Sprintf("%d", i+1), When: when},
			EIP:      Resource{ID: fmt.Sprintf("NatEIP%d", i+1), Kind: "eip", Purpose: fmt.Sprintf("nat-%d", i+1), When: when},
			Subnet:   public[i],
		})
	}
	n.RouteTables = append(n.RouteTables, RouteTable{
		Resource: Resource{ID: "PublicRouteTable", Kind: "rt", Purpose: "public"},
		Tier:     TierPublic, Subnets: public, ToInternetGateway: true,
		DefaultRoute: Resource{ID: "PublicDefaultRoute", Kind: "route", Purpose: "public-internet"},
	})
	for i, id := range n.SubnetIDs(TierPrivate) {
		n.RouteTables = append(n.RouteTables, RouteTable{
			Resource: Resource{ID: fmt.Sprintf("PrivateRouteTable%d", i+1), Kind: "rt", Purpose: fmt.Sprintf("private-%d", i+1)},
			Tier:     TierPrivate, Subnets: []string{id}, ToNAT: i,
			DefaultRoute: Resource{ID: fmt.Sprintf("PrivateDefaultRoute%d", i+1), Kind: "route", Purpose: fmt.Sprintf("private-%d-nat", i+1)},
		})
	}
	n.RouteTables = append(n.RouteTables, RouteTable{
		Resource: Resource{ID: "IsolatedRouteTable", Kind: "rt", Purpose: "isolated"},
		Tier:     TierIsolated, Subnets: n.SubnetIDs(TierIsolated),
	})
	for _, svc := range InterfaceEndpointServices {
		n.Endpoints = append(n.Endpoints, InterfaceEndpoint{
			Resource: Resource{ID: endpointID(svc), Kind: "vpce", Purpose: EndpointPurpose(svc), When: WithInterfaceEndpoints},
			Service:  svc, SecurityGroup: SGEndpoints,
		})
	}

	// The chain: internet -> load balancer (80, 443) -> tasks (AppPort) -> database (DBPort);
	// tasks -> AWS APIs (443) through NAT or the endpoints. Nothing else connects in.
	sg := func(id, purpose, description string, when Option) SecurityGroup {
		return SecurityGroup{Resource: Resource{ID: id, Kind: SecurityGroupKind, Purpose: purpose, When: when}, Description: description}
	}
	n.SecurityGroups = []SecurityGroup{
		sg(SGLoadBalancer, "alb", "Catalog load balancer: from CloudFront only, or HTTP and HTTPS from the internet without it", Always),
		sg(SGTasks, "tasks", "Catalog tasks: the app port from the load balancer only", Always),
		sg(SGDatabase, "db", "Catalog database: PostgreSQL from the tasks only", Always),
		sg(SGEndpoints, "endpoints", "Catalog interface endpoints: HTTPS from the tasks only", WithInterfaceEndpoints),
	}
	rule := func(id, purpose string, dir Direction, group string, port int, peerGroup, cidr, description string, when Option) Rule {
		return Rule{
			Resource:  Resource{ID: id, Kind: "sgr", Purpose: map[Direction]string{Ingress: "in-", Egress: "out-"}[dir] + purpose, When: when},
			Direction: dir, Group: group, Port: port, PeerGroup: peerGroup, CIDR: cidr, Description: description,
		}
	}
	n.Rules = []Rule{
		rule("AlbIngressHTTP", "alb-http", Ingress, SGLoadBalancer, HTTPPort, "", AnyIPv4, "HTTP from the internet (redirected to HTTPS when a certificate is set)", Without(WithCloudFront)),
		rule("AlbIngressHTTPS", "alb-https", Ingress, SGLoadBalancer, HTTPSPort, "", AnyIPv4, "HTTPS from the internet", Without(WithCloudFront)),
		rule("AlbEgressToTasks", "alb-to-tasks", Egress, SGLoadBalancer, AppPort, SGTasks, "", "To the catalog tasks' app port", Always),
		rule("TaskIngressFromAlb", "tasks-app", Ingress, SGTasks, AppPort, SGLoadBalancer, "", "From the load balancer to the app port", Always),
		rule("TaskEgressHTTPS", "tasks-https", Egress, SGTasks, HTTPSPort, "", AnyIPv4, "HTTPS to AWS APIs (ECR, CloudWatch Logs, Secrets Manager, SSM) through the NAT gateways or endpoints", Always),
		rule("TaskEgressToDB", "tasks-to-db", Egress, SGTasks, DBPort, SGDatabase, "", "To the database", Always),
		rule("DBIngressFromTasks", "db-postgres", Ingress, SGDatabase, DBPort, SGTasks, "", "PostgreSQL from the catalog tasks", Always),
		rule("EndpointIngressFromTasks", "endpoints-https", Ingress, SGEndpoints, HTTPSPort, SGTasks, "", "HTTPS from the catalog tasks", WithInterfaceEndpoints),
	}
	// CloudFront's origin-facing servers only, on the one port CloudFront connects to (the
	// serving listener's): the prefix list counts as its weight (55) against the group's 60
	// inbound rules, so it is referenced once, never per port.
	fromCloudFront := rule("AlbIngressCloudFront", "alb-cloudfront", Ingress, SGLoadBalancer, HTTPPort, "", "",
		"From CloudFront's origin-facing servers only (HTTPS with a certificate, else HTTP)", WithCloudFront)
	fromCloudFront.PrefixList, fromCloudFront.AltPort, fromCloudFront.AltPortWhen = CloudFrontPrefixListName, HTTPSPort, WithCertificate
	n.Rules = slices.Insert(n.Rules, 2, fromCloudFront)
	return n
}

// Resources returns every resource of the network, whatever its option.
func (n Network) Resources() []Resource {
	out := []Resource{n.VPC, n.InternetGateway, n.S3Endpoint}
	for _, s := range n.Subnets {
		out = append(out, s.Resource)
	}
	for _, g := range n.NATGateways {
		out = append(out, g.Resource, g.EIP)
	}
	for _, rt := range n.RouteTables {
		out = append(out, rt.Resource)
		if rt.DefaultRoute.ID != "" {
			out = append(out, rt.DefaultRoute)
		}
	}
	for _, e := range n.Endpoints {
		out = append(out, e.Resource)
	}
	for _, g := range n.SecurityGroups {
		out = append(out, g.Resource)
	}
	for _, r := range n.Rules {
		out = append(out, r.Resource)
	}
	return append(out, n.FlowLogs.Resources()...)
}

// ECRLayerBucketARN is the S3 bucket ECR serves image layers from, in the stack's region: a
// bucket of AWS's, so the S3 endpoint's policy names it besides this account's buckets
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-setting-up-s3-gateway).
const ECRLayerBucketARN = "arn:" + PhPartition + ":s3:::prod-" + PhRegion + "-starport-layer-bucket/*"

// endpointPolicies returns the S3 gateway endpoint's policy and the interface endpoints' one.
// The interface endpoints serve only this account's principals (aws:PrincipalAccount: the
// tasks' roles); the S3 endpoint reaches only this account's buckets (aws:ResourceAccount) and
// ECR's layer bucket, so a task cannot copy data to another account's bucket through it
// (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).
func endpointPolicies() (s3, iface map[string]any) {
	account := func(key string) map[string]any {
		return map[string]any{"StringEquals": map[string]any{key: PhAccount}}
	}
	s3 = map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Sid": "EcrImageLayers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": ECRLayerBucketARN},
			map[string]any{"Sid": "ThisAccountsBuckets", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": account("aws:ResourceAccount")},
		},
	}
	iface = map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Sid": "ThisAccountsPrincipals", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": account("aws:PrincipalAccount")},
		},
	}
	return s3, iface
}
