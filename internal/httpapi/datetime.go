package httpapi

import (
	"encoding/json"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// dateTimeRule is how every time field of a request states its format.
const dateTimeRule = "must be an RFC 3339 date-time such as 2026-12-24T00:00:00Z"

// dateTime is a time field of a request body. It keeps the raw JSON value and is parsed after
// decoding, so a malformed time is reported on its own field with the rule in words, whichever
// JSON decoder reads the body (time.Time's own decoding names neither, and shows Go's layout).
type dateTime struct{ raw []byte }

func (d *dateTime) UnmarshalJSON(b []byte) error {
	d.raw = append(d.raw[:0], b...)
	return nil
}

// parse returns the time, or nil when the field was absent or null, recording a problem with
// field when the value is not a strict RFC 3339 date-time.
func (d *dateTime) parse(field string, p *catalog.Problems) *time.Time {
	if d == nil || string(d.raw) == "null" {
		return nil
	}
	var s string
	var t time.Time
	if json.Unmarshal(d.raw, &s) != nil || t.UnmarshalText([]byte(s)) != nil {
		p.Add(field, dateTimeRule)
		return nil
	}
	return &t
}
