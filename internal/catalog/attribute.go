package catalog

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AttributeType is the type of an attribute's values.
type AttributeType string

// Attribute types. JSON carries text and enum values as strings, numbers as numbers and
// booleans as true/false.
const (
	AttrText    AttributeType = "text"
	AttrNumber  AttributeType = "number"
	AttrBoolean AttributeType = "boolean"
	AttrEnum    AttributeType = "enum"
)

// Valid reports whether t is a known type.
func (t AttributeType) Valid() bool {
	return t == AttrText || t == AttrNumber || t == AttrBoolean || t == AttrEnum
}

// AttributeDefinition says what an attribute key means: its type, allowed values, unit and
// whether lists may filter on it. Products and variants may only carry defined attributes.
type AttributeDefinition struct {
	Key        string        `json:"key"`
	Name       string        `json:"name"`
	Type       AttributeType `json:"type"`
	Values     []string      `json:"values,omitempty"` // enum only, in display order
	Unit       string        `json:"unit,omitempty"`   // number only, e.g. "in", "g"
	Filterable bool          `json:"filterable"`
	Version    int64         `json:"version"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// AttributeDefinitionInput is what a client writes to define an attribute.
type AttributeDefinitionInput struct {
	Key        string        `json:"key"`
	Name       string        `json:"name"`
	Type       AttributeType `json:"type"`
	Values     []string      `json:"values,omitempty"`
	Unit       string        `json:"unit,omitempty"`
	Filterable bool          `json:"filterable,omitempty"`
}

// Attribute limits.
const (
	MaxAttributes       = 50
	MaxAttributeKey     = 64
	MaxAttributeValue   = 500
	MaxEnumValues       = 500
	MaxAttributeUnit    = 20
	MaxAttributeDefName = 100
)

var attrKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidAttributeKey reports whether k is a well-formed attribute key: lower-case letters,
// digits and underscores, starting with a letter, at most 64 characters (it appears in query
// strings as attr.<key>).
func ValidAttributeKey(k string) bool { return attrKeyRE.MatchString(k) }

// Normalize trims the text fields.
func (in *AttributeDefinitionInput) Normalize() {
	in.Key = strings.TrimSpace(in.Key)
	in.Name = strings.TrimSpace(in.Name)
	in.Unit = strings.TrimSpace(in.Unit)
	for i := range in.Values {
		in.Values[i] = strings.TrimSpace(in.Values[i])
	}
}

// Validate checks the definition.
func (in AttributeDefinitionInput) Validate() error {
	var p Problems
	switch {
	case in.Key == "":
		p.Add("key", "is required")
	case !checkText(&p, "key", in.Key, Identifier):
	case !ValidAttributeKey(in.Key):
		p.Add("key", "must be 1-64 lower-case letters, digits or '_', starting with a letter")
	}
	validText(&p, "name", in.Name, MaxAttributeDefName, true, Identifier)
	switch {
	case in.Type == "":
		p.Add("type", "is required: text, number, boolean or enum")
	case !in.Type.Valid():
		p.Add("type", "must be text, number, boolean or enum")
	}
	if in.Type == AttrEnum {
		switch n := len(in.Values); {
		case n == 0:
			p.Add("values", "must list the allowed values of an enum")
		case n > MaxEnumValues:
			p.Add("values", "must have at most %d values", MaxEnumValues)
		}
		seen := map[string]int{}
		for i, v := range in.Values {
			f := fmt.Sprintf("values[%d]", i)
			validText(&p, f, v, MaxAttributeValue, true, Line)
			if j, dup := seen[v]; dup && v != "" {
				p.Add(f, "%q is also values[%d]", v, j)
			}
			seen[v] = i
			if strings.Contains(v, ",") {
				p.Add(f, "must not contain ',' (filters list values separated by commas)")
			}
		}
	} else if len(in.Values) > 0 {
		p.Add("values", "are only for enum attributes")
	}
	if in.Unit != "" && in.Type != AttrNumber {
		p.Add("unit", "is only for number attributes")
	}
	validText(&p, "unit", in.Unit, MaxAttributeUnit, false, Identifier)
	return p.Err()
}

// CanRedefine checks that a definition may change from cur to next while values using it
// exist: the type cannot change, and enum values may be added or reordered but not removed
// while in use (the store says which values are in use).
func CanRedefine(cur AttributeDefinition, next AttributeDefinitionInput, inUse func(value string) bool) error {
	if next.Key != cur.Key {
		return InvalidField("key", "cannot change: define a new attribute instead")
	}
	if next.Type != cur.Type && inUse("") {
		return &Error{Code: CodeConflict, Message: fmt.Sprintf("attribute %s is in use: its type cannot change", cur.Key),
			Fields: []FieldError{{Field: "type", Problem: fmt.Sprintf("products use %s as %s", cur.Key, cur.Type)}}}
	}
	if cur.Type == AttrEnum && next.Type == AttrEnum {
		for _, v := range cur.Values {
			if !slices.Contains(next.Values, v) && inUse(v) {
				return &Error{Code: CodeConflict, Message: fmt.Sprintf("value %q of attribute %s is in use", v, cur.Key),
					Fields: []FieldError{{Field: "values", Problem: fmt.Sprintf("products use %q: change them before removing it", v)}}}
			}
		}
	}
	return nil
}

// Attributes holds typed attribute values by key: string (text, enum), float64 (number) or
// bool (boolean), as JSON decodes them.
type Attributes map[string]any

// validateShape checks what can be checked without the definitions: the number of entries,
// the keys, and that every value is a string, a finite number or a boolean.
func (a Attributes) validateShape(field string, p *Problems) {
	if len(a) > MaxAttributes {
		p.Add(field, "must have at most %d entries", MaxAttributes)
		return
	}
	for k, v := range a {
		// An empty key would be named "attributes.", which no client can act on.
		if k == "" || TextProblem(k, Identifier) != "" || utf8.RuneCountInString(k) > MaxAttributeKey {
			p.Add(field, "has a key that is not an attribute key")
			continue
		}
		if !ValidAttributeKey(k) {
			p.Add(field+"."+k, "is not an attribute key (lower-case letters, digits and '_')")
			continue
		}
		switch x := v.(type) {
		case string:
			validText(p, field+"."+k, x, MaxAttributeValue, false, Line)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				p.Add(field+"."+k, "must be a finite number")
			}
		case bool:
		default:
			p.Add(field+"."+k, "must be a string, a number or true/false")
		}
	}
}

// ValidateAttributes checks values against their definitions: every key defined, every value
// of its definition's type, enum values among the allowed ones. field prefixes the names in the
// problems ("attributes", "variants[3].attributes").
func ValidateAttributes(field string, a Attributes, defs func(key string) (AttributeDefinition, bool)) error {
	var p Problems
	CheckAttributes(field, a, defs, &p)
	return p.Err()
}

// CheckAttributes is ValidateAttributes adding to p.
func CheckAttributes(field string, a Attributes, defs func(key string) (AttributeDefinition, bool), p *Problems) {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := field + "." + k
		d, ok := defs(k)
		if !ok {
			p.Add(f, "is not a defined attribute: define it first (POST /attributes)")
			continue
		}
		switch v := a[k]; d.Type {
		case AttrText:
			if _, ok := v.(string); !ok {
				p.Add(f, "must be text (a JSON string)")
			}
		case AttrNumber:
			if _, ok := v.(float64); !ok {
				p.Add(f, "must be a number (a JSON number, unit %s)", orNone(d.Unit))
			}
		case AttrBoolean:
			if _, ok := v.(bool); !ok {
				p.Add(f, "must be true or false")
			}
		case AttrEnum:
			s, ok := v.(string)
			if !ok || !slices.Contains(d.Values, s) {
				p.Add(f, "must be one of %s", strings.Join(d.Values, ", "))
			}
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (a Attributes) merge(clear bool, set map[string]any, remove map[string]bool) Attributes {
	out := Attributes{}
	if !clear {
		for k, v := range a {
			out[k] = v
		}
	}
	for k := range remove {
		delete(out, k)
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}

// Equal reports whether a and b hold the same values (nil and empty are the same).
func (a Attributes) Equal(b Attributes) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !sameScalar(v, w) {
			return false
		}
	}
	return true
}

// sameScalar compares two attribute values without panicking on values validation would
// refuse (maps and slices are not comparable with ==).
func sameScalar(v, w any) bool {
	switch x := v.(type) {
	case string:
		y, ok := w.(string)
		return ok && x == y
	case float64:
		y, ok := w.(float64)
		return ok && x == y
	case bool:
		y, ok := w.(bool)
		return ok && x == y
	}
	return false
}

// AttributeFilter selects products by one filterable attribute: any of Values (text, enum,
// boolean), or a number range (Min, Max inclusive; either may be open).
type AttributeFilter struct {
	Key    string
	Type   AttributeType
	Values []string
	Min    *float64
	Max    *float64
}

// MaxAttributeFilters bounds the attr.* parameters of one list.
const MaxAttributeFilters = 10

// ParseAttributeFilter reads the query value of attr.<key> for definition d:
// "red" or "red,blue" (any of) for text and enum, "true"/"false" for booleans, and "13..15",
// "13..", "..15" or "13" for numbers.
func ParseAttributeFilter(d AttributeDefinition, raw string) (AttributeFilter, error) {
	field := "attr." + d.Key
	f := AttributeFilter{Key: d.Key, Type: d.Type}
	if !d.Filterable {
		return f, InvalidField(field, "attribute %s is not filterable (its definition says so)", d.Key)
	}
	if err := CheckText(field, raw, Line); err != nil {
		return f, err
	}
	if raw == "" || len(raw) > MaxAttributeValue*4 {
		return f, InvalidField(field, "must be 1-%d bytes", MaxAttributeValue*4)
	}
	switch d.Type {
	case AttrNumber:
		parse := func(s string) (*float64, error) {
			if s == "" {
				return nil, nil
			}
			n, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return nil, InvalidField(field, "must be a number or a range like 13..15, 13.. or ..15")
			}
			return &n, nil
		}
		lo, hi, isRange := strings.Cut(raw, "..")
		if !isRange {
			hi = lo
		}
		var err error
		if f.Min, err = parse(lo); err != nil {
			return f, err
		}
		if f.Max, err = parse(hi); err != nil {
			return f, err
		}
		if f.Min == nil && f.Max == nil {
			return f, InvalidField(field, "must be a number or a range like 13..15, 13.. or ..15")
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			return f, InvalidField(field, "the range's low end must not be above its high end")
		}
	case AttrBoolean:
		if raw != "true" && raw != "false" {
			return f, InvalidField(field, "must be true or false")
		}
		f.Values = []string{raw}
	default:
		vals := strings.Split(raw, ",")
		if len(vals) > 50 {
			return f, InvalidField(field, "must list at most 50 values")
		}
		for _, v := range vals {
			v = strings.TrimSpace(v)
			if v == "" {
				return f, InvalidField(field, "must not have an empty value")
			}
			if d.Type == AttrEnum && !slices.Contains(d.Values, v) {
				return f, InvalidField(field, "%q is not a value of %s (one of %s)", v, d.Key, strings.Join(d.Values, ", "))
			}
			f.Values = append(f.Values, v)
		}
	}
	return f, nil
}

// Matches reports whether an attribute value v satisfies the filter; stores that cannot
// express a filter in SQL, and tests, use it.
func (f AttributeFilter) Matches(v any) bool {
	switch x := v.(type) {
	case float64:
		if f.Type != AttrNumber {
			return false
		}
		return (f.Min == nil || x >= *f.Min) && (f.Max == nil || x <= *f.Max)
	case bool:
		return f.Type == AttrBoolean && len(f.Values) == 1 && strconv.FormatBool(x) == f.Values[0]
	case string:
		return (f.Type == AttrText || f.Type == AttrEnum) && slices.Contains(f.Values, x)
	}
	return false
}

func (f AttributeFilter) fingerprint() string {
	s := f.Key + "=" + strings.Join(f.Values, ",")
	if f.Min != nil {
		s += ">" + strconv.FormatFloat(*f.Min, 'g', -1, 64)
	}
	if f.Max != nil {
		s += "<" + strconv.FormatFloat(*f.Max, 'g', -1, 64)
	}
	return s
}
