package cfnstack

import (
	"github.com/acme/catalog/internal/cfn"
)

func (b *builder) outputs(Options) error {
	out := func(id, description string, value any) {
		b.t.Outputs[id] = &cfn.Output{
			Description: description,
			Value:       value,
			Export:      &cfn.Export{Name: cfn.Sub("${AWS::StackName}-" + id)},
		}
	}
	out("ServiceUrl", "URL of the catalog service: HTTPS on the CloudFront name, or the load balancer's", cfn.If(CondCloudFront,
		cfn.Sub("https://${"+IDDistribution+".DomainName}"),
		cfn.If(CondHasCertificate,
			cfn.Sub("https://${"+IDLoadBalancer+".DNSName}"),
			cfn.Sub("http://${"+IDLoadBalancer+".DNSName}"))))
	out("DistributionDomainName", "CloudFront distribution's domain name (only with EnableCloudFront)", cfn.GetAtt(IDDistribution, "DomainName"))
	b.t.Outputs["DistributionDomainName"].Condition = CondCloudFront
	out("DistributionId", "CloudFront distribution ID, for invalidations (only with EnableCloudFront)", cfn.Ref(IDDistribution))
	b.t.Outputs["DistributionId"].Condition = CondCloudFront
	out("LoadBalancerDnsName", "DNS name of the load balancer (point a CNAME or alias here)", cfn.GetAtt(IDLoadBalancer, "DNSName"))
	out("RepositoryUri", "ECR repository URI to push images to", cfn.GetAtt(IDRepository, "RepositoryUri"))
	out("ClusterName", "ECS cluster name", cfn.Ref(IDCluster))
	out("ServiceName", "ECS service name (only once an image is deployed)", cfn.GetAtt(IDService, "Name"))
	b.t.Outputs["ServiceName"].Condition = CondHasImage
	// What the deploy script needs to run the migrate task (aws ecs run-task) in the service's
	// network.
	out("MigrateTaskDefinitionArn", "Task definition of the one-off migrate task (only once an image is deployed)", cfn.Ref(IDMigrateTaskDefinition))
	b.t.Outputs["MigrateTaskDefinitionArn"].Condition = CondHasImage
	out("ServiceSecurityGroupId", "Security group of the service's tasks, which the migrate task runs in too", cfn.GetAtt(IDTaskSecurityGroup, "GroupId"))
	out("DBWriterEndpoint", "Aurora writer endpoint", cfn.GetAtt(IDDBCluster, "Endpoint.Address"))
	out("DBReaderEndpoint", "Aurora reader endpoint", cfn.GetAtt(IDDBCluster, "ReadEndpoint.Address"))
	out("DBSecretArn", "ARN of the RDS-managed database master secret (username and password)", dbSecretARN())
	out("ApiKeySecretArn", "ARN of the generated API-key secret", cfn.Ref(IDAPIKeySecret))
	out("AlarmTopicArn", "SNS topic the alarms notify", cfn.Ref(IDAlarmTopic))
	out("VpcId", "VPC ID", cfn.Ref(IDVPC))
	out("PublicSubnetIds", "Public subnet IDs (load balancer, NAT gateways)", cfn.Join(",", refs(PublicSubnetIDs)...))
	out("PrivateSubnetIds", "Private subnet IDs (tasks)", cfn.Join(",", refs(PrivateSubnetIDs)...))
	out("IsolatedSubnetIds", "Isolated subnet IDs (database)", cfn.Join(",", refs(IsolatedSubnetIDs)...))
	out("DashboardUrl", "CloudWatch dashboard", cfn.Sub("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${"+IDDashboard+"}"))
	return nil
}
