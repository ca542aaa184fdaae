package infra

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// cdnOriginID names the distribution's one origin, the load balancer.
const cdnOriginID = "alb"

// originSecret makes the secret the origin header carries and returns its value, as a Pulumi
// secret. Secrets Manager generates the value (getRandomPassword) on the first run; the version
// ignores later runs' new values, and the value used is read back from the stored secret, so it
// stays the same from run to run (what CloudFormation's GenerateSecretString does).
func (s *LoadBalancer) originSecret(ctx *pulumi.Context, cfg Config, m blueprint.CDN, logs *LogEncryption, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	if m.OriginSecretKey != blueprint.IDLogsKey {
		return pulumi.StringOutput{}, errUnknownModelID(m.OriginSecretKey)
	}
	name := cfg.ModelName(m.OriginSecret)
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:        pulumi.String(blueprint.OriginSecretName(cfg.Suffix)),
		Description: pulumi.String("Value of the " + m.OriginHeader + " header CloudFront adds to origin requests; the load balancer forwards only requests carrying it (generated)"),
		// Deleted at once with the stack: nothing lingers, and a new stack may reuse the name.
		RecoveryWindowInDays: pulumi.Int(0),
		KmsKeyId:             logs.Key.Arn,
		Tags:                 tags(cfg, name),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	s.OriginSecret = secret
	generated, err := secretsmanager.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordArgs{
		// Letters and digits only: an ALB header condition treats * and ? as wildcards.
		PasswordLength:     pulumi.IntRef(blueprint.OriginSecretLength),
		ExcludePunctuation: pulumi.BoolRef(true),
	}, pulumi.Parent(s))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	version, err := secretsmanager.NewSecretVersion(ctx, cfg.Name("secret", m.OriginSecret.Purpose+"-value"), &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(pulumi.String(generated.RandomPassword)).(pulumi.StringOutput),
	}, parent, pulumi.IgnoreChanges([]string{"secretString"}))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	stored := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{SecretId: version.SecretId}, pulumi.Parent(s))
	return pulumi.ToSecret(stored.SecretString()).(pulumi.StringOutput), nil
}

// distribution renders blueprint.CDN's cache policy and distribution in front of the load
// balancer: HTTPS to OriginDomain with a certificate, else HTTP to the load balancer's name.
func (s *LoadBalancer) distribution(ctx *pulumi.Context, cfg Config, m blueprint.CDN, secret pulumi.StringOutput, parent pulumi.ResourceOption) error {
	c := m.Cache
	policyName := cfg.ModelName(m.CachePolicy)
	policy, err := cloudfront.NewCachePolicy(ctx, policyName, &cloudfront.CachePolicyArgs{
		Name:       pulumi.String(policyName),
		Comment:    pulumi.String("Catalog: the origin's Cache-Control decides; Authorization and every query string in the key"),
		MinTtl:     pulumi.Int(c.MinTTL),
		DefaultTtl: pulumi.Int(c.DefaultTTL),
		MaxTtl:     pulumi.Int(c.MaxTTL),
		ParametersInCacheKeyAndForwardedToOrigin: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs{
			EnableAcceptEncodingGzip:   pulumi.Bool(c.Gzip),
			EnableAcceptEncodingBrotli: pulumi.Bool(c.Brotli),
			HeadersConfig: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{
				HeaderBehavior: pulumi.String("whitelist"),
				Headers:        &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs{Items: pulumi.ToStringArray(c.KeyHeaders)},
			},
			QueryStringsConfig: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{QueryStringBehavior: pulumi.String(c.QueryStrings)},
			CookiesConfig:      &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String(c.Cookies)},
		},
	}, parent)
	if err != nil {
		return err
	}
	fn, err := viewerFunction(ctx, cfg, m, parent)
	if err != nil {
		return err
	}
	domain, protocol := s.LoadBalancer.DnsName, "http-only"
	if cfg.Has(m.OriginHTTPSWhen) {
		domain, protocol = pulumi.String(cfg.OriginDomain).ToStringOutput(), "https-only"
	}
	name := cfg.ModelName(m.Distribution)
	s.Distribution, err = cloudfront.NewDistribution(ctx, name, &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		Comment:       pulumi.String(name),
		HttpVersion:   pulumi.String(m.HTTPVersion),
		IsIpv6Enabled: pulumi.Bool(true),
		PriceClass:    pulumi.String(m.PriceClass),
		Origins: cloudfront.DistributionOriginArray{cloudfront.DistributionOriginArgs{
			OriginId:   pulumi.String(cdnOriginID),
			DomainName: domain,
			CustomOriginConfig: &cloudfront.DistributionOriginCustomOriginConfigArgs{
				OriginProtocolPolicy: pulumi.String(protocol),
				HttpPort:             pulumi.Int(blueprint.HTTPPort),
				HttpsPort:            pulumi.Int(blueprint.HTTPSPort),
				OriginSslProtocols:   pulumi.ToStringArray(m.OriginSSLProtocols),
				OriginReadTimeout:    pulumi.Int(m.OriginReadTimeoutSeconds),
			},
			CustomHeaders: cloudfront.DistributionOriginCustomHeaderArray{cloudfront.DistributionOriginCustomHeaderArgs{
				Name: pulumi.String(m.OriginHeader), Value: secret,
			}},
		}},
		DefaultCacheBehavior: cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:        pulumi.String(cdnOriginID),
			ViewerProtocolPolicy:  pulumi.String(m.ViewerProtocol),
			AllowedMethods:        pulumi.ToStringArray(m.AllowedMethods),
			CachedMethods:         pulumi.ToStringArray(m.CachedMethods),
			Compress:              pulumi.Bool(m.Compress),
			CachePolicyId:         policy.ID(),
			OriginRequestPolicyId: pulumi.String(m.OriginRequestPolicyID),
			FunctionAssociations: cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArray{
				cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs{EventType: pulumi.String("viewer-request"), FunctionArn: fn.Arn},
			},
		},
		Restrictions: cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		// The *.cloudfront.net name: no domain needed. AWS applies TLSv1 as the viewer policy with
		// it, whatever is asked (blueprint.ViewerTLSDefaultCertificate).
		ViewerCertificate: cloudfront.DistributionViewerCertificateArgs{
			CloudfrontDefaultCertificate: pulumi.Bool(true),
			MinimumProtocolVersion:       pulumi.String(m.MinimumTLS),
		},
		Tags: tags(cfg, name),
	}, parent)
	return err
}
