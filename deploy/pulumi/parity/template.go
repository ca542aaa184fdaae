// Package parity compares the Pulumi program with the CloudFormation template: it reduces each
// to a Summary (resource kinds and counts, and the architecture's key numbers) and lists the
// differences. It reads the template's JSON and a list of registered Pulumi resources, so it
// needs neither AWS nor the Pulumi engine.
package parity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Template is the part of a CloudFormation template the comparison reads.
type Template struct {
	Parameters map[string]struct {
		Default any `json:"Default"`
	} `json:"Parameters"`
	Mappings   map[string]map[string]map[string]any `json:"Mappings"`
	Conditions map[string]any                       `json:"Conditions"`
	Resources  map[string]*TemplateResource         `json:"Resources"`
	Outputs    map[string]any                       `json:"Outputs"`
}

// TemplateResource is one resource of a template.
type TemplateResource struct {
	Type       string         `json:"Type"`
	Condition  string         `json:"Condition,omitempty"`
	Properties map[string]any `json:"Properties"`
}

// GenerateHint says how to make the template when it is missing.
const GenerateHint = "generate it with the CloudFormation builder in internal/cfnstack, from the repository root: " +
	"go run ./cmd/cfngen -o deploy/cloudformation/catalog.json (or refresh the golden file: go test ./internal/cfnstack -update); " +
	"the file comes with the cfn branch"

// LoadTemplate reads a template from a JSON file.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the CloudFormation template %s does not exist: %s", path, GenerateHint)
	}
	if err != nil {
		return nil, err
	}
	return ParseTemplate(b)
}

// ParseTemplate parses a template's JSON.
func ParseTemplate(b []byte) (*Template, error) {
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("parsing the CloudFormation template: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, errors.New("the CloudFormation template has no Resources")
	}
	return &t, nil
}

// Ref is a reference to another resource of the template (Ref, Fn::GetAtt or ${X} in Fn::Sub).
type Ref struct{ ID, Attr string }

// noValue is AWS::NoValue: the property is dropped.
type noValue struct{}

// The pseudo parameters' values during evaluation.
const (
	EvalRegion  = "us-east-1"
	EvalAccount = "123456789012"
)

// Evaluation is a template with its parameters chosen: conditions decided and intrinsic
// functions resolved as far as they can be without AWS.
type Evaluation struct {
	t      *Template
	params map[string]string
	conds  map[string]bool
}

// Evaluate chooses parameter values (defaults, overridden by overrides) and decides every
// condition.
func (t *Template) Evaluate(overrides map[string]string) (*Evaluation, error) {
	e := &Evaluation{t: t, params: map[string]string{}, conds: map[string]bool{}}
	for name, p := range t.Parameters {
		if p.Default != nil {
			e.params[name] = scalar(p.Default)
		}
	}
	for k, v := range overrides {
		if _, ok := t.Parameters[k]; !ok {
			return nil, fmt.Errorf("the template has no parameter %s", k)
		}
		e.params[k] = v
	}
	for name := range t.Conditions {
		if _, err := e.condition(name, 0); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Present reports whether a resource exists under the evaluation's conditions.
func (e *Evaluation) Present(r *TemplateResource) bool {
	return r.Condition == "" || e.conds[r.Condition]
}

// Properties returns a resource's properties with intrinsic functions resolved.
func (e *Evaluation) Properties(r *TemplateResource) (map[string]any, error) {
	v, err := e.Value(r.Properties)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

func (e *Evaluation) condition(name string, depth int) (bool, error) {
	if v, ok := e.conds[name]; ok {
		return v, nil
	}
	expr, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	if depth > 20 {
		return false, fmt.Errorf("condition %s: too deep", name)
	}
	v, err := e.Value(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %v, not a boolean", name, v)
	}
	e.conds[name] = b
	return b, nil
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// Value resolves intrinsic functions in v.
func (e *Evaluation) Value(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		out := []any{}
		for _, x := range t {
			r, err := e.Value(x)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return e.function(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, x := range t {
			r, err := e.Value(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *Evaluation) list(arg any, n int, fn string) ([]any, error) {
	l, ok := arg.([]any)
	if !ok || (n > 0 && len(l) != n) {
		return nil, fmt.Errorf("%s wants %d arguments, got %v", fn, n, arg)
	}
	return l, nil
}

func (e *Evaluation) function(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		switch name {
		case "AWS::Region":
			return EvalRegion, nil
		case "AWS::AccountId":
			return EvalAccount, nil
		case "AWS::NoValue":
			return noValue{}, nil
		case "AWS::StackName":
			return "catalog", nil
		case "AWS::Partition":
			return "aws", nil
		case "AWS::URLSuffix":
			return "amazonaws.com", nil
		}
		if v, ok := e.params[name]; ok {
			return v, nil
		}
		if _, ok := e.t.Parameters[name]; ok {
			return "<" + name + ">", nil // a parameter without a default nobody set
		}
		if _, ok := e.t.Resources[name]; ok {
			return Ref{ID: name}, nil
		}
		return nil, fmt.Errorf("Ref to unknown %q", name)
	case "Fn::GetAtt":
		var parts []string
		switch a := arg.(type) {
		case string:
			parts = strings.SplitN(a, ".", 2)
		case []any:
			for _, p := range a {
				parts = append(parts, fmt.Sprint(p))
			}
		}
		if len(parts) != 2 {
			return nil, fmt.Errorf("bad Fn::GetAtt %v", arg)
		}
		return Ref{ID: parts[0], Attr: parts[1]}, nil
	case "Condition":
		return e.condition(fmt.Sprint(arg), 1)
	case "Fn::Equals":
		l, err := e.list(arg, 2, fn)
		if err != nil {
			return nil, err
		}
		a, err := e.Value(l[0])
		if err != nil {
			return nil, err
		}
		b, err := e.Value(l[1])
		if err != nil {
			return nil, err
		}
		return scalar(a) == scalar(b), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		l, err := e.list(arg, 0, fn)
		if err != nil {
			return nil, err
		}
		var bs []bool
		for _, x := range l {
			v, err := e.Value(x)
			if err != nil {
				return nil, err
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: %v is not a boolean", fn, v)
			}
			bs = append(bs, b)
		}
		switch fn {
		case "Fn::Not":
			if len(bs) != 1 {
				return nil, fmt.Errorf("Fn::Not wants 1 argument")
			}
			return !bs[0], nil
		case "Fn::And":
			for _, b := range bs {
				if !b {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, b := range bs {
				if b {
					return true, nil
				}
			}
			return false, nil
		}
	case "Fn::If":
		l, err := e.list(arg, 3, fn)
		if err != nil {
			return nil, err
		}
		c, err := e.condition(fmt.Sprint(l[0]), 1)
		if err != nil {
			return nil, err
		}
		if c {
			return e.Value(l[1])
		}
		return e.Value(l[2])
	case "Fn::FindInMap":
		l, err := e.list(arg, 3, fn)
		if err != nil {
			return nil, err
		}
		var keys [3]string
		for i, x := range l {
			v, err := e.Value(x)
			if err != nil {
				return nil, err
			}
			keys[i] = scalar(v)
		}
		v, ok := e.t.Mappings[keys[0]][keys[1]][keys[2]]
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap %v: no such entry", keys)
		}
		return v, nil
	case "Fn::Select":
		l, err := e.list(arg, 2, fn)
		if err != nil {
			return nil, err
		}
		idx, err := e.Value(l[0])
		if err != nil {
			return nil, err
		}
		lst, err := e.Value(l[1])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(scalar(idx))
		items, ok := lst.([]any)
		if err != nil || !ok || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select %v from %v", idx, lst)
		}
		return items[i], nil
	case "Fn::Split":
		l, err := e.list(arg, 2, fn)
		if err != nil {
			return nil, err
		}
		s, err := e.Value(l[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(scalar(s), fmt.Sprint(l[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Join":
		l, err := e.list(arg, 2, fn)
		if err != nil {
			return nil, err
		}
		items, err := e.Value(l[1])
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, x := range items.([]any) {
			parts = append(parts, scalar(x))
		}
		return strings.Join(parts, fmt.Sprint(l[0])), nil
	case "Fn::Sub":
		text, vars := "", map[string]any{}
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("bad Fn::Sub %v", arg)
			}
			text = fmt.Sprint(a[0])
			m, _ := a[1].(map[string]any)
			for k, x := range m {
				v, err := e.Value(x)
				if err != nil {
					return nil, err
				}
				vars[k] = v
			}
		}
		var subErr error
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := vars[name]; ok {
				return scalar(v)
			}
			if strings.Contains(name, ".") {
				return "{" + name + "}"
			}
			v, err := e.function("Ref", name)
			if err != nil {
				subErr = err
				return m
			}
			return scalar(v)
		})
		return out, subErr
	case "Fn::GetAZs":
		return []any{EvalRegion + "a", EvalRegion + "b", EvalRegion + "c"}, nil
	case "Fn::ImportValue", "Fn::Base64", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString":
		return nil, fmt.Errorf("%s is not supported by the parity evaluator", fn)
	}
	return nil, fmt.Errorf("unknown function %s", fn)
}

// scalar renders a resolved value as a string: numbers canonical, references as {ID} or
// {ID.Attr}.
func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		if f, err := strconv.ParseFloat(t, 64); err == nil && strings.TrimSpace(t) == t && t != "" {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case bool:
		return strconv.FormatBool(t)
	case Ref:
		if t.Attr != "" {
			return "{" + t.ID + "." + t.Attr + "}"
		}
		return "{" + t.ID + "}"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
