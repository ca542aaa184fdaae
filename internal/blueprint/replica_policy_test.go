package blueprint_test

import (
	"slices"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

// Read-your-writes through the CDN (ADR 0022): a read carrying Catalog-Read-After must not be
// answered from an entry cached for reads without it, which may predate the client's write. A
// header in the cache policy is part of the cache key and is sent to the origin
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudfront-cachepolicy.html:
// "The headers, cookies, and query strings that are included in the cache key are also included
// in requests that CloudFront sends to the origin"), so reads without the header still share
// one entry and a read with it misses unless the same position was asked for before.
func TestPolicyCloudFrontKeysOnReadAfter(t *testing.T) {
	const header = "Catalog-Read-After" // httpapi.ReadAfterHeader
	if p := blueprint.Model().Edge.CDN.Cache; !slices.Contains(p.KeyHeaders, header) {
		t.Errorf("cache key headers %q lack %s", p.KeyHeaders, header)
	}
	var found bool
	for _, e := range blueprint.Model().Service.Container.Environment {
		if e.Name == blueprint.EnvDBReaderMaxLag {
			found = e.Value.Text == blueprint.DBReaderMaxLag.String()
		}
	}
	if !found {
		t.Errorf("the service's environment does not state %s=%s", blueprint.EnvDBReaderMaxLag, blueprint.DBReaderMaxLag)
	}
}
