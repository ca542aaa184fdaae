package infra

import (
	"encoding/json"
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network renders blueprint.Network: the VPC, three tiers of subnets over three AZs, the
// internet gateway, NAT gateways, routes, the S3 gateway endpoint, optional interface endpoints
// and the security groups of the ALB -> tasks -> database chain (securitygroups.go).
type Network struct {
	pulumi.ResourceState

	VPC *ec2.Vpc
	// Region and Account are where the stack deploys to (from the provider), AZs the zones
	// it uses.
	Region            string
	Account           string
	AZs               []string
	PublicSubnets     []*ec2.Subnet
	PrivateSubnets    []*ec2.Subnet
	IsolatedSubnets   []*ec2.Subnet
	NATGateways       []*ec2.NatGateway
	ALBSecurityGroup  *ec2.SecurityGroup
	TaskSecurityGroup *ec2.SecurityGroup
	DBSecurityGroup   *ec2.SecurityGroup
	// EndpointSecurityGroup is nil unless interface endpoints are enabled.
	EndpointSecurityGroup *ec2.SecurityGroup

	// The model's resources by ID, for the rest of the network to refer to.
	igw            *ec2.InternetGateway
	subnets        map[string]*ec2.Subnet
	natGateways    map[string]*ec2.NatGateway
	securityGroups map[string]*ec2.SecurityGroup
}

// SubnetIDs returns the subnets' IDs as one array output.
func SubnetIDs(subnets []*ec2.Subnet) pulumi.StringArrayOutput {
	ids := make(pulumi.StringArray, len(subnets))
	for i, s := range subnets {
		ids[i] = s.ID().ToStringOutput()
	}
	return ids.ToStringArrayOutput()
}

// NewNetwork makes the network.
func NewNetwork(ctx *pulumi.Context, cfg Config, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{subnets: map[string]*ec2.Subnet{}, natGateways: map[string]*ec2.NatGateway{}, securityGroups: map[string]*ec2.SecurityGroup{}}
	parent, err := newComponent(ctx, cfg, "Network", "network", n, opts...)
	if err != nil {
		return nil, err
	}
	if err := n.locate(ctx); err != nil {
		return nil, err
	}
	m := blueprint.Model().Network
	steps := []func(*pulumi.Context, Config, blueprint.Network, pulumi.ResourceOption) error{
		n.vpc, n.gateways, n.routeTables, n.securityGroupsAndRules, n.endpoints,
	}
	for _, step := range steps {
		if err := step(ctx, cfg, m, parent); err != nil {
			return nil, err
		}
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":             n.VPC.ID(),
		"publicSubnetIds":   SubnetIDs(n.PublicSubnets),
		"privateSubnetIds":  SubnetIDs(n.PrivateSubnets),
		"isolatedSubnetIds": SubnetIDs(n.IsolatedSubnets),
	})
}

// locate reads the region, the account and the zones from the provider.
func (n *Network) locate(ctx *pulumi.Context) error {
	// Only ordinary zones: opted-in Local and Wavelength Zones are "available" too, sort first
	// ("us-east-1-bos-1a" < "us-east-1a"), and lack RDS and NAT gateways.
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
			{Name: "zone-type", Values: []string{"availability-zone"}},
		},
	}, pulumi.Parent(n))
	if err != nil {
		return fmt.Errorf("listing availability zones: %w", err)
	}
	if len(azs.Names) < blueprint.AZCount {
		return fmt.Errorf("the region has %d available zones, the architecture needs %d", len(azs.Names), blueprint.AZCount)
	}
	n.AZs = azs.Names[:blueprint.AZCount]
	region, err := aws.GetRegion(ctx, nil, pulumi.Parent(n))
	if err != nil {
		return fmt.Errorf("reading the region: %w", err)
	}
	n.Region = region.Region
	id, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(n))
	if err != nil {
		return fmt.Errorf("reading the account: %w", err)
	}
	n.Account = id.AccountId
	return nil
}

// vpc makes the VPC, the internet gateway and the subnets.
func (n *Network) vpc(ctx *pulumi.Context, cfg Config, m blueprint.Network, parent pulumi.ResourceOption) error {
	var err error
	n.VPC, err = ec2.NewVpc(ctx, cfg.ModelName(m.VPC), &ec2.VpcArgs{
		CidrBlock:          pulumi.String(blueprint.VPCCIDR),
		EnableDnsHostnames: pulumi.Bool(true), // interface endpoints' private DNS needs both
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(cfg, cfg.ModelName(m.VPC)),
	}, parent)
	if err != nil {
		return err
	}
	for _, s := range m.Subnets {
		name := cfg.ModelName(s.Resource)
		sn, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
			VpcId:               n.VPC.ID(),
			CidrBlock:           pulumi.String(s.CIDR),
			AvailabilityZone:    pulumi.String(n.AZs[s.AZ]),
			MapPublicIpOnLaunch: pulumi.Bool(false), // only the ALB and NAT gateways live in public subnets, on their own addresses
			Tags:                tags(cfg, name),
		}, parent)
		if err != nil {
			return err
		}
		n.subnets[s.ID] = sn
		switch s.Tier {
		case blueprint.TierPublic:
			n.PublicSubnets = append(n.PublicSubnets, sn)
		case blueprint.TierPrivate:
			n.PrivateSubnets = append(n.PrivateSubnets, sn)
		case blueprint.TierIsolated:
			n.IsolatedSubnets = append(n.IsolatedSubnets, sn)
		}
	}
	return nil
}

// gateways makes the internet gateway and the NAT gateways the configuration takes, with their addresses.
func (n *Network) gateways(ctx *pulumi.Context, cfg Config, m blueprint.Network, parent pulumi.ResourceOption) error {
	igw, err := ec2.NewInternetGateway(ctx, cfg.ModelName(m.InternetGateway), &ec2.InternetGatewayArgs{
		VpcId: n.VPC.ID(),
		Tags:  tags(cfg, cfg.ModelName(m.InternetGateway)),
	}, parent)
	if err != nil {
		return err
	}
	n.igw = igw
	for _, g := range m.PresentNATGateways(cfg.Choices()) {
		eip, err := ec2.NewEip(ctx, cfg.ModelName(g.EIP), &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags(cfg, cfg.ModelName(g.EIP))}, parent)
		if err != nil {
			return err
		}
		nat, err := ec2.NewNatGateway(ctx, cfg.ModelName(g.Resource), &ec2.NatGatewayArgs{
			AllocationId: eip.ID(),
			SubnetId:     n.subnets[g.Subnet].ID(),
			Tags:         tags(cfg, cfg.ModelName(g.Resource)),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return err
		}
		n.natGateways[g.ID] = nat
		n.NATGateways = append(n.NATGateways, nat)
	}
	return nil
}

// routeTables makes the route tables, their default routes and subnet associations, and the
// S3 gateway endpoint on the private tables (free; it carries ECR's image layers off NAT).
func (n *Network) routeTables(ctx *pulumi.Context, cfg Config, m blueprint.Network, parent pulumi.ResourceOption) error {
	private := pulumi.StringArray{}
	for _, rt := range m.RouteTables {
		name := cfg.ModelName(rt.Resource)
		table, err := ec2.NewRouteTable(ctx, name, &ec2.RouteTableArgs{VpcId: n.VPC.ID(), Tags: tags(cfg, name)}, parent)
		if err != nil {
			return err
		}
		if rt.Tier == blueprint.TierPrivate {
			private = append(private, table.ID())
		}
		if rt.DefaultRoute.ID != "" {
			args := &ec2.RouteArgs{RouteTableId: table.ID(), DestinationCidrBlock: pulumi.String(blueprint.AnyIPv4)}
			if rt.ToInternetGateway {
				args.GatewayId = n.igw.ID()
			} else {
				args.NatGatewayId = n.natGateways[m.RouteNAT(rt, cfg.Choices()).ID].ID()
			}
			if _, err := ec2.NewRoute(ctx, cfg.ModelName(rt.DefaultRoute), args, parent); err != nil {
				return err
			}
		}
		for _, id := range rt.Subnets {
			s, _ := m.Subnet(id)
			if _, err := ec2.NewRouteTableAssociation(ctx, cfg.Name("rta", s.Purpose), &ec2.RouteTableAssociationArgs{
				RouteTableId: table.ID(),
				SubnetId:     n.subnets[id].ID(),
			}, parent); err != nil {
				return err
			}
		}
	}
	s3Policy, err := n.policyJSON(cfg, m.S3EndpointPolicy)
	if err != nil {
		return err
	}
	_, err = ec2.NewVpcEndpoint(ctx, cfg.ModelName(m.S3Endpoint), &ec2.VpcEndpointArgs{
		VpcId:           n.VPC.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", n.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   private,
		Policy:          s3Policy,
		Tags:            tags(cfg, cfg.ModelName(m.S3Endpoint)),
	}, parent)
	return err
}

// endpoints makes the interface endpoints the configuration takes, in the private subnets.
func (n *Network) endpoints(ctx *pulumi.Context, cfg Config, m blueprint.Network, parent pulumi.ResourceOption) error {
	private := pulumi.StringArray{}
	for _, s := range n.PrivateSubnets {
		private = append(private, s.ID())
	}
	for _, e := range m.Endpoints {
		if !cfg.Has(e.When) {
			continue
		}
		name := cfg.ModelName(e.Resource)
		policy, err := n.policyJSON(cfg, m.EndpointPolicy)
		if err != nil {
			return err
		}
		if _, err := ec2.NewVpcEndpoint(ctx, name, &ec2.VpcEndpointArgs{
			VpcId:             n.VPC.ID(),
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", n.Region, e.Service),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         private,
			SecurityGroupIds:  pulumi.StringArray{n.securityGroups[e.SecurityGroup].ID()},
			Policy:            policy,
			Tags:              tags(cfg, name),
		}, parent); err != nil {
			return err
		}
	}
	return nil
}

// policyJSON renders a model policy document with this stack's partition, region and account.
func (n *Network) policyJSON(cfg Config, doc map[string]any) (pulumi.String, error) {
	b, err := json.Marshal(expand(doc, cfg, n))
	if err != nil {
		return "", fmt.Errorf("endpoint policy: %w", err)
	}
	return pulumi.String(b), nil
}
