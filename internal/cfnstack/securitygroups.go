package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Security group logical IDs. The chain is internet -> ALB (80, 443) -> tasks (AppPort) ->
// database (DBPort); with interface endpoints, tasks -> endpoints (443) too. Nothing else may
// connect in.
const (
	IDALBSecurityGroup      = "AlbSecurityGroup"
	IDTaskSecurityGroup     = "TaskSecurityGroup"
	IDDBSecurityGroup       = "DBSecurityGroup"
	IDEndpointSecurityGroup = "EndpointSecurityGroup"
)

// sgName is a security group's Name tag, secgrp-{purpose}-{suffix}. The groups have no
// GroupName: EC2 refuses names starting with "sg-", and a fixed name would stop CloudFormation
// from replacing a group (a changed description replaces it), so CloudFormation generates one.
func sgName(purpose string) cfn.Fn { return name(blueprint.SecurityGroupKind, purpose) }

// noEgress is the placeholder egress rule that replaces EC2's default allow-all egress: a
// security group with any egress rule loses the default one, and this rule matches no traffic
// (ICMP type 252, code 86, to the broadcast address).
var noEgress = map[string]any{
	"CidrIp":      "255.255.255.255/32",
	"Description": "Disallow all traffic",
	"IpProtocol":  "icmp",
	"FromPort":    252,
	"ToPort":      86,
}

func (b *builder) securityGroups(Options) error {
	b.add(IDALBSecurityGroup, "AWS::EC2::SecurityGroup", map[string]any{
		"GroupDescription": "Catalog load balancer: HTTP and HTTPS from the internet",
		"VpcId":            cfn.Ref(IDVPC),
		"SecurityGroupIngress": []any{
			tcpFromCIDR(80, "HTTP from the internet (redirected to HTTPS when a certificate is set)"),
			tcpFromCIDR(443, "HTTPS from the internet"),
		},
		"SecurityGroupEgress": []any{noEgress},
		"Tags":                tags(sgName("alb")),
	})
	b.add(IDTaskSecurityGroup, "AWS::EC2::SecurityGroup", map[string]any{
		"GroupDescription": "Catalog tasks: the app port from the load balancer only",
		"VpcId":            cfn.Ref(IDVPC),
		"SecurityGroupEgress": []any{map[string]any{
			"CidrIp":      "0.0.0.0/0",
			"IpProtocol":  "tcp",
			"FromPort":    443,
			"ToPort":      443,
			"Description": "HTTPS to AWS APIs (ECR, CloudWatch Logs, Secrets Manager, SSM) through the NAT gateways or endpoints",
		}},
		"Tags": tags(sgName("tasks")),
	})
	b.add(IDDBSecurityGroup, "AWS::EC2::SecurityGroup", map[string]any{
		"GroupDescription":    "Catalog database: PostgreSQL from the tasks only",
		"VpcId":               cfn.Ref(IDVPC),
		"SecurityGroupEgress": []any{noEgress},
		"Tags":                tags(sgName("db")),
	})
	b.add(IDEndpointSecurityGroup, "AWS::EC2::SecurityGroup", map[string]any{
		"GroupDescription":    "Catalog interface endpoints: HTTPS from the tasks only",
		"VpcId":               cfn.Ref(IDVPC),
		"SecurityGroupEgress": []any{noEgress},
		"Tags":                tags(sgName("endpoints")),
	}, when(CondCreateInterfaceEndpoints))

	// Cross-group rules are separate resources so the chain has no dependency cycle and each
	// hop is visible on its own.
	b.sgRule("AlbEgressToTasks", "AWS::EC2::SecurityGroupEgress", IDALBSecurityGroup, IDTaskSecurityGroup, blueprint.AppPort,
		"To the catalog tasks' app port")
	b.sgRule("TaskIngressFromAlb", "AWS::EC2::SecurityGroupIngress", IDTaskSecurityGroup, IDALBSecurityGroup, blueprint.AppPort,
		"From the load balancer to the app port")
	b.sgRule("TaskEgressToDB", "AWS::EC2::SecurityGroupEgress", IDTaskSecurityGroup, IDDBSecurityGroup, blueprint.DBPort,
		"To the database")
	b.sgRule("DBIngressFromTasks", "AWS::EC2::SecurityGroupIngress", IDDBSecurityGroup, IDTaskSecurityGroup, blueprint.DBPort,
		"PostgreSQL from the catalog tasks")
	b.sgRule("EndpointIngressFromTasks", "AWS::EC2::SecurityGroupIngress", IDEndpointSecurityGroup, IDTaskSecurityGroup, 443,
		"HTTPS from the catalog tasks", when(CondCreateInterfaceEndpoints))
	return nil
}

func tcpFromCIDR(port int, description string) map[string]any {
	return map[string]any{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "Description": description}
}

// sgRule adds a TCP rule on one port between two security groups: for an ingress rule, group
// accepts from peer; for an egress rule, group sends to peer.
func (b *builder) sgRule(id, typ, group, peer string, port int, description string, opts ...func(*cfn.Resource)) {
	props := map[string]any{
		"GroupId":     cfn.GetAtt(group, "GroupId"),
		"IpProtocol":  "tcp",
		"FromPort":    port,
		"ToPort":      port,
		"Description": description,
	}
	if typ == "AWS::EC2::SecurityGroupIngress" {
		props["SourceSecurityGroupId"] = cfn.GetAtt(peer, "GroupId")
	} else {
		props["DestinationSecurityGroupId"] = cfn.GetAtt(peer, "GroupId")
	}
	b.add(id, typ, props, opts...)
}
