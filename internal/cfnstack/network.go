package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Network logical IDs: the model's IDs (blueprint.Network), and the gateway attachment, which
// only CloudFormation has as a resource of its own.
const (
	IDVPC                = blueprint.IDVPC
	IDInternetGateway    = blueprint.IDInternetGateway
	IDGatewayAttachment  = "VPCGatewayAttachment"
	IDPublicRouteTable   = "PublicRouteTable"
	IDIsolatedRouteTable = "IsolatedRouteTable"
	IDS3Endpoint         = blueprint.IDS3Endpoint
)

// Subnet logical IDs by tier, in AZ order.
var (
	PublicSubnetIDs   = blueprint.Model().Network.SubnetIDs(blueprint.TierPublic)
	PrivateSubnetIDs  = blueprint.Model().Network.SubnetIDs(blueprint.TierPrivate)
	IsolatedSubnetIDs = blueprint.Model().Network.SubnetIDs(blueprint.TierIsolated)
)

// InterfaceEndpointID returns the logical ID of the interface endpoint for a service such as
// "ecr.api" ("EcrApiEndpoint"), or "" when the model has none.
func InterfaceEndpointID(service string) string {
	for _, e := range blueprint.Model().Network.Endpoints {
		if e.Service == service {
			return e.ID
		}
	}
	return ""
}

// network renders blueprint.Network's VPC, subnets, gateways, routes and endpoints.
func (b *builder) network(Options) error {
	n := b.m.Network
	b.add(n.VPC.ID, "AWS::EC2::VPC", map[string]any{
		"CidrBlock":          blueprint.VPCCIDR,
		"EnableDnsSupport":   true,
		"EnableDnsHostnames": true, // interface endpoints' private DNS needs both
	})
	b.add(n.InternetGateway.ID, "AWS::EC2::InternetGateway", map[string]any{})
	b.add(IDGatewayAttachment, "AWS::EC2::VPCGatewayAttachment", map[string]any{
		"VpcId":             cfn.Ref(n.VPC.ID),
		"InternetGatewayId": cfn.Ref(n.InternetGateway.ID),
	})

	for _, s := range n.Subnets {
		b.add(s.ID, "AWS::EC2::Subnet", map[string]any{
			"VpcId":               cfn.Ref(n.VPC.ID),
			"CidrBlock":           s.CIDR,
			"AvailabilityZone":    az(s.AZ),
			"MapPublicIpOnLaunch": false, // only the ALB and NAT gateways live here, on their own addresses
		})
	}

	for _, g := range n.NATGateways {
		// An EIP in a VPC needs the internet gateway attached first.
		b.add(g.EIP.ID, "AWS::EC2::EIP", map[string]any{
			"Domain": "vpc",
		}, b.when(g.EIP.When), dependsOn(IDGatewayAttachment))
		b.add(g.ID, "AWS::EC2::NatGateway", map[string]any{
			"AllocationId": cfn.GetAtt(g.EIP.ID, "AllocationId"),
			"SubnetId":     cfn.Ref(g.Subnet),
		}, b.when(g.When))
	}

	var privateRTs []string
	for _, rt := range n.RouteTables {
		b.add(rt.ID, "AWS::EC2::RouteTable", map[string]any{
			"VpcId": cfn.Ref(n.VPC.ID),
		})
		switch {
		case rt.ToInternetGateway:
			b.add(rt.DefaultRoute.ID, "AWS::EC2::Route", map[string]any{
				"RouteTableId":         cfn.Ref(rt.ID),
				"DestinationCidrBlock": blueprint.AnyIPv4,
				"GatewayId":            cfn.Ref(n.InternetGateway.ID),
			}, dependsOn(IDGatewayAttachment))
		case rt.DefaultRoute.ID != "":
			// The zone's own NAT gateway where it exists, else the first (single NAT mode).
			g, first := n.NATGateways[rt.ToNAT], n.NATGateways[0]
			var nat any = cfn.Ref(g.ID)
			if g.When != blueprint.Always {
				nat = cfn.If(b.condition(g.When), cfn.Ref(g.ID), cfn.Ref(first.ID))
			}
			b.add(rt.DefaultRoute.ID, "AWS::EC2::Route", map[string]any{
				"RouteTableId":         cfn.Ref(rt.ID),
				"DestinationCidrBlock": blueprint.AnyIPv4,
				"NatGatewayId":         nat,
			})
		}
		if rt.Tier == blueprint.TierPrivate {
			privateRTs = append(privateRTs, rt.ID)
		}
		for _, s := range rt.Subnets {
			b.add(s+"RouteTableAssociation", "AWS::EC2::SubnetRouteTableAssociation", map[string]any{
				"SubnetId":     cfn.Ref(s),
				"RouteTableId": cfn.Ref(rt.ID),
			})
		}
	}

	// The S3 gateway endpoint is free and carries ECR's image layers.
	b.add(n.S3Endpoint.ID, "AWS::EC2::VPCEndpoint", map[string]any{
		"VpcId":           cfn.Ref(n.VPC.ID),
		"ServiceName":     cfn.Sub("com.amazonaws.${AWS::Region}.s3"),
		"VpcEndpointType": "Gateway",
		"RouteTableIds":   refs(privateRTs),
		"PolicyDocument":  expand(n.S3EndpointPolicy),
	})
	for _, e := range n.Endpoints {
		b.add(e.ID, "AWS::EC2::VPCEndpoint", map[string]any{
			"VpcId":             cfn.Ref(n.VPC.ID),
			"ServiceName":       cfn.Sub("com.amazonaws.${AWS::Region}." + e.Service),
			"VpcEndpointType":   "Interface",
			"PrivateDnsEnabled": true,
			"SubnetIds":         refs(n.SubnetIDs(blueprint.TierPrivate)),
			"SecurityGroupIds":  []any{cfn.Ref(e.SecurityGroup)},
			"PolicyDocument":    expand(n.EndpointPolicy),
		}, b.when(e.When))
	}
	return nil
}
