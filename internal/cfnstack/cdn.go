package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// CDN logical IDs (the model's).
const (
	IDDistribution = blueprint.IDDistribution
	IDCachePolicy  = blueprint.IDCachePolicy
	IDOriginSecret = blueprint.IDOriginSecret
)

// cdnOriginID names the distribution's one origin, the load balancer.
const cdnOriginID = "alb"

// cdn renders blueprint.Edge.CDN: the generated origin secret, the cache policy and the
// distribution. Translation: the origin's domain and protocol are an Fn::If on the certificate
// (the OriginDomainName parameter over HTTPS, else the load balancer's DNS name over HTTP).
func (b *builder) cdn(Options) error {
	m := b.m.Edge.CDN
	b.add(m.OriginSecret.ID, "AWS::SecretsManager::Secret", map[string]any{
		"Name":        cfn.Sub(blueprint.OriginSecretName("${" + ParamEnvironmentSuffix + "}")),
		"Description": "Value of the " + m.OriginHeader + " header CloudFront adds to origin requests; the load balancer forwards only requests carrying it (generated)",
		"KmsKeyId":    cfn.GetAtt(m.OriginSecretKey, "Arn"),
		"GenerateSecretString": map[string]any{
			// Letters and digits only: an ALB header condition treats * and ? as wildcards.
			"PasswordLength":     blueprint.OriginSecretLength,
			"ExcludePunctuation": true,
		},
	}, b.when(m.OriginSecret.When))
	c := m.Cache
	b.add(m.CachePolicy.ID, "AWS::CloudFront::CachePolicy", map[string]any{
		"CachePolicyConfig": map[string]any{
			"Name":       modelName(m.CachePolicy),
			"Comment":    "Catalog: the origin's Cache-Control decides; Authorization and every query string in the key",
			"MinTTL":     c.MinTTL,
			"DefaultTTL": c.DefaultTTL,
			"MaxTTL":     c.MaxTTL,
			"ParametersInCacheKeyAndForwardedToOrigin": map[string]any{
				"EnableAcceptEncodingGzip":   c.Gzip,
				"EnableAcceptEncodingBrotli": c.Brotli,
				"HeadersConfig":              map[string]any{"HeaderBehavior": "whitelist", "Headers": c.KeyHeaders},
				"QueryStringsConfig":         map[string]any{"QueryStringBehavior": c.QueryStrings},
				"CookiesConfig":              map[string]any{"CookieBehavior": c.Cookies},
			},
		},
	}, b.when(m.CachePolicy.When))
	b.add(m.ViewerFunction.ID, "AWS::CloudFront::Function", map[string]any{
		"Name":         modelName(m.ViewerFunction),
		"AutoPublish":  true,
		"FunctionCode": m.ViewerFunctionCode,
		"FunctionConfig": map[string]any{
			"Comment": "Sets " + blueprint.ViewerIPHeader + " to the viewer's address CloudFront saw (a viewer cannot forge it)",
			"Runtime": m.ViewerFunctionRuntime,
		},
	}, b.when(m.ViewerFunction.When))
	https := b.condition(m.OriginHTTPSWhen)
	b.add(m.Distribution.ID, "AWS::CloudFront::Distribution", map[string]any{
		"DistributionConfig": map[string]any{
			"Enabled":     true,
			"Comment":     modelName(m.Distribution),
			"HttpVersion": m.HTTPVersion,
			"IPV6Enabled": true,
			"PriceClass":  m.PriceClass,
			"Origins": []any{map[string]any{
				"Id":         cdnOriginID,
				"DomainName": cfn.If(https, cfn.Ref(ParamOriginDomainName), cfn.GetAtt(IDLoadBalancer, "DNSName")),
				"CustomOriginConfig": map[string]any{
					"OriginProtocolPolicy": cfn.If(https, "https-only", "http-only"),
					"HTTPPort":             blueprint.HTTPPort,
					"HTTPSPort":            blueprint.HTTPSPort,
					"OriginSSLProtocols":   m.OriginSSLProtocols,
					"OriginReadTimeout":    m.OriginReadTimeoutSeconds,
				},
				"OriginCustomHeaders": []any{map[string]any{"HeaderName": m.OriginHeader, "HeaderValue": b.value(m.OriginValue)}},
			}},
			"DefaultCacheBehavior": map[string]any{
				"TargetOriginId":        cdnOriginID,
				"ViewerProtocolPolicy":  m.ViewerProtocol,
				"AllowedMethods":        m.AllowedMethods,
				"CachedMethods":         m.CachedMethods,
				"Compress":              m.Compress,
				"CachePolicyId":         cfn.Ref(m.CachePolicy.ID),
				"OriginRequestPolicyId": m.OriginRequestPolicyID,
				"FunctionAssociations": []any{map[string]any{
					"EventType": "viewer-request", "FunctionARN": cfn.GetAtt(m.ViewerFunction.ID, "FunctionARN"),
				}},
			},
			// The *.cloudfront.net name: no domain needed. AWS applies TLSv1 as the viewer policy
			// with it, whatever is asked (blueprint.ViewerTLSDefaultCertificate).
			"ViewerCertificate": map[string]any{
				"CloudFrontDefaultCertificate": true,
				"MinimumProtocolVersion":       m.MinimumTLS,
			},
		},
	}, b.when(m.Distribution.When))
	return nil
}
