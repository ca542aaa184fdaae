package awsevents

import (
	"strings"
	"testing"
)

// The PutEventsRequestEntry rules (API reference, PutEventsRequestEntry): Source 1-256
// characters without the reserved "aws." prefix; EventBusName a name or an event-bus ARN.
func TestCheckSource(t *testing.T) {
	for _, ok := range []string{"catalog", "com.acme.catalog", "acme/catalog-prod", "a", strings.Repeat("s", 256)} {
		if err := CheckSource(ok); err != nil {
			t.Errorf("CheckSource(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "aws.catalog", "cat alog", "catalog?x=1", "caté", strings.Repeat("s", 257), "catalog\n"} {
		if err := CheckSource(bad); err == nil {
			t.Errorf("CheckSource(%q) = nil, want an error", bad)
		}
	}
}

func TestCheckBusName(t *testing.T) {
	for _, ok := range []string{"catalog-prod", "default", "arn:aws:events:eu-west-1:123456789012:event-bus/catalog-prod",
		"arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/catalog", strings.Repeat("b", 256)} {
		if err := CheckBusName(ok); err != nil {
			t.Errorf("CheckBusName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "catalog bus", "arn:aws:events:eu-west-1:12345:event-bus/catalog", "arn:aws:sns:eu-west-1:123456789012:topic",
		strings.Repeat("b", 257), "bus\n"} {
		if err := CheckBusName(bad); err == nil {
			t.Errorf("CheckBusName(%q) = nil, want an error", bad)
		}
	}
}
