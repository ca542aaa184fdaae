package cfnstack

import (
	"fmt"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Network logical IDs.
const (
	IDVPC                = "VPC"
	IDInternetGateway    = "InternetGateway"
	IDGatewayAttachment  = "VPCGatewayAttachment"
	IDPublicRouteTable   = "PublicRouteTable"
	IDIsolatedRouteTable = "IsolatedRouteTable"
	IDS3Endpoint         = "S3GatewayEndpoint"
)

// Subnet logical IDs by tier, in AZ order.
var (
	PublicSubnetIDs   = azIDs("PublicSubnet")
	PrivateSubnetIDs  = azIDs("PrivateSubnet")
	IsolatedSubnetIDs = azIDs("IsolatedSubnet")
	natGatewayIDs     = azIDs("NatGateway")
	natEIPIDs         = azIDs("NatEIP")
	privateRouteIDs   = azIDs("PrivateRouteTable")
)

// InterfaceEndpointID returns the logical ID of the interface endpoint for a service such as
// "ecr.api": "EcrApiEndpoint".
func InterfaceEndpointID(service string) string {
	var sb strings.Builder
	for _, part := range strings.FieldsFunc(service, func(r rune) bool { return r == '.' || r == '-' }) {
		sb.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return sb.String() + "Endpoint"
}

func (b *builder) network(Options) error {
	b.add(IDVPC, "AWS::EC2::VPC", map[string]any{
		"CidrBlock":          blueprint.VPCCIDR,
		"EnableDnsSupport":   true,
		"EnableDnsHostnames": true, // interface endpoints' private DNS needs both
		"Tags":               tags(name("vpc", blueprint.Project)),
	})
	b.add(IDInternetGateway, "AWS::EC2::InternetGateway", map[string]any{
		"Tags": tags(name("igw", blueprint.Project)),
	})
	b.add(IDGatewayAttachment, "AWS::EC2::VPCGatewayAttachment", map[string]any{
		"VpcId":             cfn.Ref(IDVPC),
		"InternetGatewayId": cfn.Ref(IDInternetGateway),
	})

	tiers := []struct {
		tier  string
		ids   []string
		cidrs [blueprint.AZCount]string
	}{
		{"public", PublicSubnetIDs, blueprint.PublicSubnetCIDRs},
		{"private", PrivateSubnetIDs, blueprint.PrivateSubnetCIDRs},
		{"isolated", IsolatedSubnetIDs, blueprint.IsolatedSubnetCIDRs},
	}
	for _, tr := range tiers {
		for i, id := range tr.ids {
			b.add(id, "AWS::EC2::Subnet", map[string]any{
				"VpcId":               cfn.Ref(IDVPC),
				"CidrBlock":           tr.cidrs[i],
				"AvailabilityZone":    az(i),
				"MapPublicIpOnLaunch": false, // only the ALB and NAT gateways live here, on their own addresses
				"Tags":                tags(name("subnet", fmt.Sprintf("%s-%d", tr.tier, i+1))),
			})
		}
	}

	// Public tier: one route table with the default route to the internet gateway.
	b.add(IDPublicRouteTable, "AWS::EC2::RouteTable", map[string]any{
		"VpcId": cfn.Ref(IDVPC),
		"Tags":  tags(name("rt", "public")),
	})
	b.add("PublicDefaultRoute", "AWS::EC2::Route", map[string]any{
		"RouteTableId":         cfn.Ref(IDPublicRouteTable),
		"DestinationCidrBlock": "0.0.0.0/0",
		"GatewayId":            cfn.Ref(IDInternetGateway),
	}, dependsOn(IDGatewayAttachment))
	for _, id := range PublicSubnetIDs {
		b.add(id+"RouteTableAssociation", "AWS::EC2::SubnetRouteTableAssociation", map[string]any{
			"SubnetId":     cfn.Ref(id),
			"RouteTableId": cfn.Ref(IDPublicRouteTable),
		})
	}

	// NAT gateways: the first always, the other two only in per-AZ mode.
	for i := range natGatewayIDs {
		var opts []func(*cfn.Resource)
		if i > 0 {
			opts = append(opts, when(CondNATPerAZ))
		}
		b.add(natEIPIDs[i], "AWS::EC2::EIP", map[string]any{
			"Domain": "vpc",
			"Tags":   tags(name("eip", fmt.Sprintf("nat-%d", i+1))),
		}, append(opts, dependsOn(IDGatewayAttachment))...)
		b.add(natGatewayIDs[i], "AWS::EC2::NatGateway", map[string]any{
			"AllocationId": cfn.GetAtt(natEIPIDs[i], "AllocationId"),
			"SubnetId":     cfn.Ref(PublicSubnetIDs[i]),
			"Tags":         tags(name("nat", fmt.Sprintf("%d", i+1))),
		}, opts...)
	}

	// Private tier: a route table per AZ, to its own NAT gateway or to the single one.
	for i, rt := range privateRouteIDs {
		b.add(rt, "AWS::EC2::RouteTable", map[string]any{
			"VpcId": cfn.Ref(IDVPC),
			"Tags":  tags(name("rt", fmt.Sprintf("private-%d", i+1))),
		})
		var nat any = cfn.Ref(natGatewayIDs[0])
		if i > 0 {
			nat = cfn.If(CondNATPerAZ, cfn.Ref(natGatewayIDs[i]), cfn.Ref(natGatewayIDs[0]))
		}
		b.add(fmt.Sprintf("PrivateDefaultRoute%d", i+1), "AWS::EC2::Route", map[string]any{
			"RouteTableId":         cfn.Ref(rt),
			"DestinationCidrBlock": "0.0.0.0/0",
			"NatGatewayId":         nat,
		})
		b.add(PrivateSubnetIDs[i]+"RouteTableAssociation", "AWS::EC2::SubnetRouteTableAssociation", map[string]any{
			"SubnetId":     cfn.Ref(PrivateSubnetIDs[i]),
			"RouteTableId": cfn.Ref(rt),
		})
	}

	// Isolated tier: no route out of the VPC at all.
	b.add(IDIsolatedRouteTable, "AWS::EC2::RouteTable", map[string]any{
		"VpcId": cfn.Ref(IDVPC),
		"Tags":  tags(name("rt", "isolated")),
	})
	for _, id := range IsolatedSubnetIDs {
		b.add(id+"RouteTableAssociation", "AWS::EC2::SubnetRouteTableAssociation", map[string]any{
			"SubnetId":     cfn.Ref(id),
			"RouteTableId": cfn.Ref(IDIsolatedRouteTable),
		})
	}

	// The S3 gateway endpoint is free and carries ECR's image layers.
	b.add(IDS3Endpoint, "AWS::EC2::VPCEndpoint", map[string]any{
		"VpcId":           cfn.Ref(IDVPC),
		"ServiceName":     cfn.Sub("com.amazonaws.${AWS::Region}.s3"),
		"VpcEndpointType": "Gateway",
		"RouteTableIds":   refs(privateRouteIDs),
		"Tags":            tags(name("vpce", "s3")),
	})
	for _, svc := range blueprint.InterfaceEndpointServices {
		b.add(InterfaceEndpointID(svc), "AWS::EC2::VPCEndpoint", map[string]any{
			"VpcId":             cfn.Ref(IDVPC),
			"ServiceName":       cfn.Sub("com.amazonaws.${AWS::Region}." + svc),
			"VpcEndpointType":   "Interface",
			"PrivateDnsEnabled": true,
			"SubnetIds":         refs(PrivateSubnetIDs),
			"SecurityGroupIds":  []any{cfn.Ref(IDEndpointSecurityGroup)},
			"Tags":              tags(name("vpce", strings.ReplaceAll(svc, ".", "-"))),
		}, when(CondCreateInterfaceEndpoints))
	}
	return nil
}
