package infra

import (
	"fmt"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network is the VPC: three tiers of subnets over three AZs, the internet gateway, NAT
// gateways, routes, the S3 gateway endpoint, optional interface endpoints and the security
// groups of the ALB -> tasks -> database chain.
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
	n := &Network{}
	parent, err := newComponent(ctx, cfg, "Network", "network", n, opts...)
	if err != nil {
		return nil, err
	}
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
		return nil, fmt.Errorf("listing availability zones: %w", err)
	}
	if len(azs.Names) < blueprint.AZCount {
		return nil, fmt.Errorf("the region has %d available zones, the architecture needs %d", len(azs.Names), blueprint.AZCount)
	}
	n.AZs = azs.Names[:blueprint.AZCount]

	vpcName := cfg.Name("vpc", blueprint.Project)
	n.VPC, err = ec2.NewVpc(ctx, vpcName, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(blueprint.VPCCIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(cfg, vpcName),
	}, parent)
	if err != nil {
		return nil, err
	}
	igwName := cfg.Name("igw", blueprint.Project)
	igw, err := ec2.NewInternetGateway(ctx, igwName, &ec2.InternetGatewayArgs{
		VpcId: n.VPC.ID(),
		Tags:  tags(cfg, igwName),
	}, parent)
	if err != nil {
		return nil, err
	}

	subnets := func(tier string, cidrs [blueprint.AZCount]string) ([]*ec2.Subnet, error) {
		var out []*ec2.Subnet
		for i, cidr := range cidrs {
			name := cfg.Name("subnet", fmt.Sprintf("%s-%d", tier, i+1))
			s, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
				VpcId:               n.VPC.ID(),
				CidrBlock:           pulumi.String(cidr),
				AvailabilityZone:    pulumi.String(n.AZs[i]),
				MapPublicIpOnLaunch: pulumi.Bool(false), // only the ALB and NAT gateways live in public subnets, on their own addresses
				Tags:                tags(cfg, name),
			}, parent)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	if n.PublicSubnets, err = subnets("public", blueprint.PublicSubnetCIDRs); err != nil {
		return nil, err
	}
	if n.PrivateSubnets, err = subnets("private", blueprint.PrivateSubnetCIDRs); err != nil {
		return nil, err
	}
	if n.IsolatedSubnets, err = subnets("isolated", blueprint.IsolatedSubnetCIDRs); err != nil {
		return nil, err
	}

	routeTable := func(purpose string) (*ec2.RouteTable, error) {
		name := cfg.Name("rt", purpose)
		return ec2.NewRouteTable(ctx, name, &ec2.RouteTableArgs{VpcId: n.VPC.ID(), Tags: tags(cfg, name)}, parent)
	}
	// associate attaches subnets (numbered from first) of a tier to a route table.
	associate := func(rt *ec2.RouteTable, subnets []*ec2.Subnet, tier string, first int) error {
		for i, s := range subnets {
			_, err := ec2.NewRouteTableAssociation(ctx, cfg.Name("rta", fmt.Sprintf("%s-%d", tier, first+i)), &ec2.RouteTableAssociationArgs{
				RouteTableId: rt.ID(),
				SubnetId:     s.ID(),
			}, parent)
			if err != nil {
				return err
			}
		}
		return nil
	}

	// Public tier: one route table with the default route to the internet gateway.
	publicRT, err := routeTable("public")
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRoute(ctx, cfg.Name("route", "public-internet"), &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent); err != nil {
		return nil, err
	}
	if err := associate(publicRT, n.PublicSubnets, "public", 1); err != nil {
		return nil, err
	}

	// NAT gateways: one per AZ, or one in the first AZ when cheap matters more than an AZ outage.
	natCount := blueprint.AZCount
	if cfg.NATMode == blueprint.NATSingle {
		natCount = 1
	}
	for i := range natCount {
		eipName := cfg.Name("eip", fmt.Sprintf("nat-%d", i+1))
		eip, err := ec2.NewEip(ctx, eipName, &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags(cfg, eipName)}, parent)
		if err != nil {
			return nil, err
		}
		natName := cfg.Name("nat", fmt.Sprintf("%d", i+1))
		nat, err := ec2.NewNatGateway(ctx, natName, &ec2.NatGatewayArgs{
			AllocationId: eip.ID(),
			SubnetId:     n.PublicSubnets[i].ID(),
			Tags:         tags(cfg, natName),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, err
		}
		n.NATGateways = append(n.NATGateways, nat)
	}

	// Private tier: a route table per AZ, each to its AZ's NAT gateway (or the single one).
	var privateRTs []*ec2.RouteTable
	for i, s := range n.PrivateSubnets {
		rt, err := routeTable(fmt.Sprintf("private-%d", i+1))
		if err != nil {
			return nil, err
		}
		nat := n.NATGateways[min(i, len(n.NATGateways)-1)]
		if _, err := ec2.NewRoute(ctx, cfg.Name("route", fmt.Sprintf("private-%d-nat", i+1)), &ec2.RouteArgs{
			RouteTableId:         rt.ID(),
			DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
			NatGatewayId:         nat.ID(),
		}, parent); err != nil {
			return nil, err
		}
		if err := associate(rt, []*ec2.Subnet{s}, "private", i+1); err != nil {
			return nil, err
		}
		privateRTs = append(privateRTs, rt)
	}

	// Isolated tier: no route out of the VPC at all.
	isolatedRT, err := routeTable("isolated")
	if err != nil {
		return nil, err
	}
	if err := associate(isolatedRT, n.IsolatedSubnets, "isolated", 1); err != nil {
		return nil, err
	}

	// The S3 gateway endpoint is free and carries ECR's image layers off the NAT gateways.
	s3Name := cfg.Name("vpce", "s3")
	rtIDs := pulumi.StringArray{}
	for _, rt := range privateRTs {
		rtIDs = append(rtIDs, rt.ID())
	}
	region, err := aws.GetRegion(ctx, nil, pulumi.Parent(n))
	if err != nil {
		return nil, fmt.Errorf("reading the region: %w", err)
	}
	n.Region = region.Region
	id, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(n))
	if err != nil {
		return nil, fmt.Errorf("reading the account: %w", err)
	}
	n.Account = id.AccountId
	if _, err := ec2.NewVpcEndpoint(ctx, s3Name, &ec2.VpcEndpointArgs{
		VpcId:           n.VPC.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", region.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   rtIDs,
		Tags:            tags(cfg, s3Name),
	}, parent); err != nil {
		return nil, err
	}

	if err := n.securityGroups(ctx, cfg, parent); err != nil {
		return nil, err
	}

	if cfg.InterfaceEndpoints {
		privateIDs := pulumi.StringArray{}
		for _, s := range n.PrivateSubnets {
			privateIDs = append(privateIDs, s.ID())
		}
		for _, svc := range blueprint.InterfaceEndpointServices {
			name := cfg.Name("vpce", endpointPurpose(svc))
			if _, err := ec2.NewVpcEndpoint(ctx, name, &ec2.VpcEndpointArgs{
				VpcId:             n.VPC.ID(),
				ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", region.Region, svc),
				VpcEndpointType:   pulumi.String("Interface"),
				PrivateDnsEnabled: pulumi.Bool(true),
				SubnetIds:         privateIDs,
				SecurityGroupIds:  pulumi.StringArray{n.EndpointSecurityGroup.ID()},
				Tags:              tags(cfg, name),
			}, parent); err != nil {
				return nil, err
			}
		}
	}

	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":             n.VPC.ID(),
		"publicSubnetIds":   SubnetIDs(n.PublicSubnets),
		"privateSubnetIds":  SubnetIDs(n.PrivateSubnets),
		"isolatedSubnetIds": SubnetIDs(n.IsolatedSubnets),
	})
}

// endpointPurpose turns an endpoint service ("ecr.api") into a name part ("ecr-api").
func endpointPurpose(service string) string { return strings.ReplaceAll(service, ".", "-") }

// securityGroups makes the chain internet -> ALB (80, 443) -> tasks (AppPort) -> database
// (DBPort), each hop allowed from the previous group only, plus the endpoints' group when
// interface endpoints are on. Rules are separate resources so each one is visible and
// testable; groups made this way start with no egress at all.
func (n *Network) securityGroups(ctx *pulumi.Context, cfg Config, parent pulumi.ResourceOption) error {
	// Groups are named secgrp-{purpose}-{suffix}-<random>: EC2 refuses names starting with
	// "sg-", and a unique name lets Pulumi create a replacement before deleting the group in use.
	group := func(purpose, description string) (*ec2.SecurityGroup, error) {
		name := cfg.Name(blueprint.SecurityGroupKind, purpose)
		return ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
			NamePrefix:  pulumi.String(name + "-"),
			Description: pulumi.String(description),
			VpcId:       n.VPC.ID(),
			Tags:        tags(cfg, name),
		}, parent)
	}
	var err error
	if n.ALBSecurityGroup, err = group("alb", "Catalog load balancer: HTTP and HTTPS from the internet"); err != nil {
		return err
	}
	if n.TaskSecurityGroup, err = group("tasks", "Catalog tasks: the app port from the load balancer only"); err != nil {
		return err
	}
	if n.DBSecurityGroup, err = group("db", "Catalog database: PostgreSQL from the tasks only"); err != nil {
		return err
	}
	if cfg.InterfaceEndpoints {
		if n.EndpointSecurityGroup, err = group("endpoints", "Catalog interface endpoints: HTTPS from the tasks only"); err != nil {
			return err
		}
	}

	type rule struct {
		purpose     string
		group       *ec2.SecurityGroup
		port        int
		cidr        string
		peer        *ec2.SecurityGroup
		description string
	}
	ingress := []rule{
		{"alb-http", n.ALBSecurityGroup, 80, "0.0.0.0/0", nil, "HTTP from the internet"},
		{"alb-https", n.ALBSecurityGroup, 443, "0.0.0.0/0", nil, "HTTPS from the internet"},
		{"tasks-app", n.TaskSecurityGroup, blueprint.AppPort, "", n.ALBSecurityGroup, "App port from the load balancer"},
		{"db-postgres", n.DBSecurityGroup, blueprint.DBPort, "", n.TaskSecurityGroup, "PostgreSQL from the tasks"},
	}
	egress := []rule{
		{"alb-to-tasks", n.ALBSecurityGroup, blueprint.AppPort, "", n.TaskSecurityGroup, "To the tasks' app port"},
		{"tasks-https", n.TaskSecurityGroup, 443, "0.0.0.0/0", nil, "HTTPS to AWS APIs (ECR, logs, secrets) and S3"},
		{"tasks-to-db", n.TaskSecurityGroup, blueprint.DBPort, "", n.DBSecurityGroup, "To the database"},
	}
	if n.EndpointSecurityGroup != nil {
		ingress = append(ingress, rule{"endpoints-https", n.EndpointSecurityGroup, 443, "", n.TaskSecurityGroup, "HTTPS from the tasks"})
	}
	for _, r := range ingress {
		name := cfg.Name("sgr", "in-"+r.purpose)
		args := &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: r.group.ID(),
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(r.port),
			ToPort:          pulumi.Int(r.port),
			Description:     pulumi.String(r.description),
			Tags:            tags(cfg, name),
		}
		if r.peer != nil {
			args.ReferencedSecurityGroupId = r.peer.ID()
		} else {
			args.CidrIpv4 = pulumi.String(r.cidr)
		}
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, name, args, parent); err != nil {
			return err
		}
	}
	for _, r := range egress {
		name := cfg.Name("sgr", "out-"+r.purpose)
		args := &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: r.group.ID(),
			IpProtocol:      pulumi.String("tcp"),
			FromPort:        pulumi.Int(r.port),
			ToPort:          pulumi.Int(r.port),
			Description:     pulumi.String(r.description),
			Tags:            tags(cfg, name),
		}
		if r.peer != nil {
			args.ReferencedSecurityGroupId = r.peer.ID()
		} else {
			args.CidrIpv4 = pulumi.String(r.cidr)
		}
		if _, err := vpc.NewSecurityGroupEgressRule(ctx, name, args, parent); err != nil {
			return err
		}
	}
	return nil
}
