package awsevents

import (
	"fmt"
	"regexp"
	"strings"
)

// The rules PutEvents enforces on an entry's Source and EventBusName, checked when the
// configuration is read so a typo stops the service at start instead of failing every publish
// (Amazon EventBridge API Reference, PutEventsRequestEntry:
// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html).
var (
	sourcePattern = regexp.MustCompile(`^[/.\-_A-Za-z0-9]+$`)
	busPattern    = regexp.MustCompile(`^(arn:aws[\w-]*:events:[a-z]{2}-[a-z]+-[\w-]+:[0-9]{12}:event-bus/)?[/.\-_A-Za-z0-9]+$`)
)

// Limits of PutEventsRequestEntry's Source and EventBusName.
const (
	MaxSourceLen  = 256
	MaxBusNameLen = 256
)

// CheckSource reports why s cannot be an event's Source: 1 to 256 characters; the "aws."
// prefix is reserved for AWS services. It is also the events' CloudEvents source, a URI
// reference, so it keeps to the characters EventBridge's pattern names (letters, digits,
// '.', '-', '_', '/'), all of which a URI reference allows unescaped.
func CheckSource(s string) error {
	switch {
	case s == "" || len(s) > MaxSourceLen:
		return fmt.Errorf("must be 1 to %d characters", MaxSourceLen)
	case !sourcePattern.MatchString(s):
		return fmt.Errorf("must use only letters, digits, '.', '-', '_' and '/', not %q", s)
	case strings.HasPrefix(s, "aws."):
		return fmt.Errorf("must not start with %q: EventBridge reserves it for AWS services", "aws.")
	}
	return nil
}

// CheckBusName reports why s cannot name an event bus: the bus's name, or its ARN, of at most
// 256 characters.
func CheckBusName(s string) error {
	switch {
	case s == "" || len(s) > MaxBusNameLen:
		return fmt.Errorf("must be 1 to %d characters", MaxBusNameLen)
	case !busPattern.MatchString(s):
		return fmt.Errorf("must be an event bus name (letters, digits, '.', '-', '_', '/') or its ARN (arn:aws:events:<region>:<account>:event-bus/<name>), not %q", s)
	}
	return nil
}
