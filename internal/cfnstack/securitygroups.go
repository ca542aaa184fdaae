package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Security group logical IDs (the model's, blueprint.SG*).
const (
	IDALBSecurityGroup      = blueprint.SGLoadBalancer
	IDTaskSecurityGroup     = blueprint.SGTasks
	IDDBSecurityGroup       = blueprint.SGDatabase
	IDEndpointSecurityGroup = blueprint.SGEndpoints
)

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

// securityGroups renders blueprint.Network's groups and rules. The groups have no GroupName:
// EC2 refuses names starting with "sg-", and a fixed name would stop CloudFormation from
// replacing a group (a changed description replaces it), so CloudFormation generates one; the
// model's name is the Name tag.
//
// Translation: a rule with an address range is inline in its group; a rule between two groups
// is a resource of its own, so the chain has no dependency cycle. A group the model gives no
// egress gets the placeholder rule, since CloudFormation otherwise leaves EC2's allow-all.
func (b *builder) securityGroups(Options) error {
	n := b.m.Network
	for _, g := range n.SecurityGroups {
		var ingress, egress []any
		for _, r := range n.Rules {
			if r.Group != g.ID || r.PeerGroup != "" {
				continue
			}
			var port any = r.Port
			if r.AltPortWhen != blueprint.Always {
				port = cfn.If(b.condition(r.AltPortWhen), r.AltPort, r.Port)
			}
			var inline any = map[string]any{"CidrIp": r.CIDR, "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "Description": r.Description}
			if r.PrefixList != "" {
				inline = map[string]any{"SourcePrefixListId": b.prefixList(r.PrefixList), "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "Description": r.Description}
			}
			if r.When != blueprint.Always {
				// An inline rule of a deployment's option: AWS::NoValue drops it from the list.
				inline = cfn.If(b.condition(r.When), inline, cfn.NoValue())
			}
			if r.Direction == blueprint.Ingress {
				ingress = append(ingress, inline)
			} else {
				egress = append(egress, inline)
			}
		}
		if len(egress) == 0 {
			egress = []any{noEgress}
		}
		props := map[string]any{
			"GroupDescription":    g.Description,
			"VpcId":               cfn.Ref(n.VPC.ID),
			"SecurityGroupEgress": egress,
		}
		if ingress != nil {
			props["SecurityGroupIngress"] = ingress
		}
		b.add(g.ID, "AWS::EC2::SecurityGroup", props, b.when(g.When))
	}
	for _, r := range n.Rules {
		if r.PeerGroup == "" {
			continue
		}
		props := map[string]any{
			"GroupId":     cfn.GetAtt(r.Group, "GroupId"),
			"IpProtocol":  "tcp",
			"FromPort":    r.Port,
			"ToPort":      r.Port,
			"Description": r.Description,
		}
		typ := "AWS::EC2::SecurityGroupIngress"
		if r.Direction == blueprint.Ingress {
			props["SourceSecurityGroupId"] = cfn.GetAtt(r.PeerGroup, "GroupId")
		} else {
			typ = "AWS::EC2::SecurityGroupEgress"
			props["DestinationSecurityGroupId"] = cfn.GetAtt(r.PeerGroup, "GroupId")
		}
		b.add(r.ID, typ, props, b.when(r.When))
	}
	return nil
}

// prefixList returns the template's ID of an AWS-managed prefix list the model names: a
// parameter, since CloudFormation cannot look one up by name.
func (b *builder) prefixList(name string) any {
	if name != blueprint.CloudFrontPrefixListName {
		b.fail("cfnstack: prefix list %q has no template parameter", name)
	}
	return cfn.Ref(ParamCloudFrontPrefixListID)
}
