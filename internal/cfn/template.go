// Package cfn is a small typed model of an AWS CloudFormation template: parameters, mappings,
// conditions, resources and outputs, the intrinsic functions that connect them, and a
// deterministic JSON encoding (two-space indent, sorted keys, no HTML escaping).
//
// Resource properties stay plain Go values (maps, slices, strings, numbers and the intrinsic
// helpers): the few dozen resource types a stack uses are checked by cfn-lint against AWS's own
// schemas, which a hand-written Go type per resource would only duplicate.
package cfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/acme/catalog/internal/depgraph"
)

// FormatVersion is the only template format version CloudFormation knows.
const FormatVersion = "2010-09-09"

// Template is a CloudFormation template.
type Template struct {
	AWSTemplateFormatVersion string                `json:"AWSTemplateFormatVersion"`
	Description              string                `json:"Description,omitempty"`
	Metadata                 map[string]any        `json:"Metadata,omitempty"`
	Parameters               map[string]*Parameter `json:"Parameters,omitempty"`
	Mappings                 map[string]Mapping    `json:"Mappings,omitempty"`
	Conditions               map[string]any        `json:"Conditions,omitempty"`
	Rules                    map[string]*Rule      `json:"Rules,omitempty"`
	Resources                map[string]*Resource  `json:"Resources"`
	Outputs                  map[string]*Output    `json:"Outputs,omitempty"`
}

// New returns an empty template with the given description.
func New(description string) *Template {
	return &Template{
		AWSTemplateFormatVersion: FormatVersion,
		Description:              description,
		Metadata:                 map[string]any{},
		Parameters:               map[string]*Parameter{},
		Mappings:                 map[string]Mapping{},
		Conditions:               map[string]any{},
		Rules:                    map[string]*Rule{},
		Resources:                map[string]*Resource{},
		Outputs:                  map[string]*Output{},
	}
}

// Parameter is a template parameter. Zero-valued constraints are left out of the JSON.
type Parameter struct {
	Type                  string   `json:"Type"`
	Description           string   `json:"Description,omitempty"`
	Default               any      `json:"Default,omitempty"`
	AllowedValues         []string `json:"AllowedValues,omitempty"`
	AllowedPattern        string   `json:"AllowedPattern,omitempty"`
	MinLength             *int     `json:"MinLength,omitempty"`
	MaxLength             *int     `json:"MaxLength,omitempty"`
	MinValue              *float64 `json:"MinValue,omitempty"`
	MaxValue              *float64 `json:"MaxValue,omitempty"`
	ConstraintDescription string   `json:"ConstraintDescription,omitempty"`
	NoEcho                bool     `json:"NoEcho,omitempty"`
}

// Rule is a template rule: when RuleCondition holds (always, when it is nil), every assertion
// must hold, or CloudFormation refuses the parameters before it creates or changes anything.
// Rules may use Ref on parameters and the rule functions Fn::And, Fn::Contains,
// Fn::EachMemberEquals, Fn::EachMemberIn, Fn::Equals, Fn::Not, Fn::Or, Fn::RefAll, Fn::ValueOf
// and Fn::ValueOfAll.
type Rule struct {
	RuleCondition any         `json:"RuleCondition,omitempty"`
	Assertions    []Assertion `json:"Assertions"`
}

// Assertion is one assertion of a rule; AssertDescription is the message a failed deploy shows.
type Assertion struct {
	Assert            any    `json:"Assert"`
	AssertDescription string `json:"AssertDescription,omitempty"`
}

// AddRule adds a rule under a logical ID. It returns an error if the ID is taken or invalid, or
// the rule has no assertions.
func (t *Template) AddRule(id string, r *Rule) error {
	if err := checkLogicalID(id); err != nil {
		return err
	}
	if _, ok := t.Rules[id]; ok {
		return fmt.Errorf("rule %s is defined twice", id)
	}
	if len(r.Assertions) == 0 {
		return fmt.Errorf("rule %s has no assertions", id)
	}
	if t.Rules == nil {
		t.Rules = map[string]*Rule{}
	}
	t.Rules[id] = r
	return nil
}

// Int returns a pointer to n, for Parameter's length constraints.
func Int(n int) *int { return &n }

// Float returns a pointer to f, for Parameter's value constraints.
func Float(f float64) *float64 { return &f }

// Mapping is a two-level lookup table read with FindInMap: top-level key, second-level key,
// value.
type Mapping map[string]map[string]any

// Resource is one resource of a template.
type Resource struct {
	Type                string         `json:"Type"`
	Condition           string         `json:"Condition,omitempty"`
	DependsOn           []string       `json:"DependsOn,omitempty"`
	DeletionPolicy      string         `json:"DeletionPolicy,omitempty"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy,omitempty"`
	Metadata            map[string]any `json:"Metadata,omitempty"`
	Properties          map[string]any `json:"Properties,omitempty"`
}

// Deletion policies.
const (
	Delete   = "Delete"
	Retain   = "Retain"
	Snapshot = "Snapshot"
)

// Output is a template output, optionally exported for other stacks' ImportValue.
type Output struct {
	Description string  `json:"Description,omitempty"`
	Condition   string  `json:"Condition,omitempty"`
	Value       any     `json:"Value"`
	Export      *Export `json:"Export,omitempty"`
}

// Export names an exported output.
type Export struct {
	Name any `json:"Name"`
}

// Add adds a resource under a logical ID. It returns an error if the ID is taken or invalid,
// so a builder cannot silently overwrite one resource with another.
func (t *Template) Add(logicalID string, r *Resource) error {
	if err := checkLogicalID(logicalID); err != nil {
		return err
	}
	if _, ok := t.Resources[logicalID]; ok {
		return fmt.Errorf("resource %s is defined twice", logicalID)
	}
	if _, ok := t.Parameters[logicalID]; ok {
		return fmt.Errorf("resource %s has the name of a parameter", logicalID)
	}
	t.Resources[logicalID] = r
	return nil
}

func checkLogicalID(id string) error {
	if id == "" || len(id) > 255 {
		return fmt.Errorf("logical ID %q must be 1-255 characters", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf("logical ID %q must be alphanumeric", id)
		}
	}
	return nil
}

// JSON encodes the template: two-space indent, every object's keys sorted, no HTML escaping
// (so "<", ">" and "&" in descriptions and policies stay readable), and a final newline.
// The same template always encodes to the same bytes.
func (t *Template) JSON() ([]byte, error) {
	return Marshal(t)
}

// Marshal encodes any value the way Template.JSON does.
func Marshal(v any) ([]byte, error) {
	// Struct fields encode in declaration order; a round trip through generic values turns
	// every object into a map, which encoding/json writes with sorted keys.
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(&raw)
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc = json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// ResourceIDs returns the template's logical resource IDs, sorted.
func (t *Template) ResourceIDs() []string {
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Dependencies returns, for each resource, the resources it must wait for: its DependsOn and
// every resource its properties, metadata or condition-free references name (Ref, Fn::GetAtt and
// Fn::Sub placeholders). CloudFormation creates a resource only after all of them.
// depgraph answers path and cycle questions on it.
func (t *Template) Dependencies() depgraph.Graph {
	deps := depgraph.Graph{}
	for id, r := range t.Resources {
		set := map[string]bool{}
		for _, d := range r.DependsOn {
			set[d] = true
		}
		for _, ref := range References(map[string]any{"p": r.Properties, "m": r.Metadata}) {
			switch ref.Kind {
			case "Ref", "Fn::GetAtt", "Fn::Sub":
				if _, ok := t.Resources[ref.Target]; ok && ref.Target != id {
					set[ref.Target] = true
				}
			}
		}
		list := make([]string, 0, len(set))
		for d := range set {
			list = append(list, d)
		}
		sort.Strings(list)
		deps[id] = list
	}
	return deps
}
