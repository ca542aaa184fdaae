package infra

import (
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// securityGroupsAndRules renders blueprint.Network's security groups and rules. Every rule is a
// resource of its own, so each is visible and testable; groups made this way start with no
// egress at all, as the model wants. Groups are named secgrp-{purpose}-{suffix}-<random>: EC2
// refuses names starting with "sg-", and a unique name lets Pulumi create a replacement before
// deleting the group in use.
func (n *Network) securityGroupsAndRules(ctx *pulumi.Context, cfg Config, m blueprint.Network, parent pulumi.ResourceOption) error {
	for _, g := range m.PresentSecurityGroups(cfg.Choices()) {
		name := cfg.ModelName(g.Resource)
		sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
			NamePrefix:  pulumi.String(name + "-"),
			Description: pulumi.String(g.Description),
			VpcId:       n.VPC.ID(),
			Tags:        tags(cfg, name),
		}, parent)
		if err != nil {
			return err
		}
		n.securityGroups[g.ID] = sg
	}
	n.ALBSecurityGroup = n.securityGroups[blueprint.SGLoadBalancer]
	n.TaskSecurityGroup = n.securityGroups[blueprint.SGTasks]
	n.DBSecurityGroup = n.securityGroups[blueprint.SGDatabase]
	n.EndpointSecurityGroup = n.securityGroups[blueprint.SGEndpoints]

	prefixLists := map[string]string{} // AWS-managed prefix lists by name, looked up once
	for _, r := range m.PresentRules(cfg.Choices()) {
		name := cfg.ModelName(r.Resource)
		var peer, cidr, prefixList pulumi.StringPtrInput
		switch {
		case r.PeerGroup != "":
			peer = n.securityGroups[r.PeerGroup].ID()
		case r.PrefixList != "":
			id, ok := prefixLists[r.PrefixList]
			if !ok {
				pl, err := ec2.LookupManagedPrefixList(ctx, &ec2.LookupManagedPrefixListArgs{Name: pulumi.StringRef(r.PrefixList)}, pulumi.Parent(n))
				if err != nil {
					return fmt.Errorf("looking up the managed prefix list %s: %w", r.PrefixList, err)
				}
				id = pl.Id
				prefixLists[r.PrefixList] = id
			}
			prefixList = pulumi.String(id)
		default:
			cidr = pulumi.String(r.CIDR)
		}
		port := pulumi.Int(r.PortIn(cfg.Choices()))
		var err error
		if r.Direction == blueprint.Ingress {
			_, err = vpc.NewSecurityGroupIngressRule(ctx, name, &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: n.securityGroups[r.Group].ID(), IpProtocol: pulumi.String("tcp"),
				FromPort: port, ToPort: port, Description: pulumi.String(r.Description),
				ReferencedSecurityGroupId: peer, CidrIpv4: cidr, PrefixListId: prefixList, Tags: tags(cfg, name),
			}, parent)
		} else {
			_, err = vpc.NewSecurityGroupEgressRule(ctx, name, &vpc.SecurityGroupEgressRuleArgs{
				SecurityGroupId: n.securityGroups[r.Group].ID(), IpProtocol: pulumi.String("tcp"),
				FromPort: port, ToPort: port, Description: pulumi.String(r.Description),
				ReferencedSecurityGroupId: peer, CidrIpv4: cidr, PrefixListId: prefixList, Tags: tags(cfg, name),
			}, parent)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
