package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Parse reads a template's JSON, the form Template.JSON writes.
func Parse(b []byte) (*Template, error) {
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("parsing the CloudFormation template: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, errors.New("the CloudFormation template has no Resources")
	}
	return &t, nil
}

// ResourceValue is what Ref on a resource, Fn::GetAtt and ${X} or ${X.Attr} in Fn::Sub resolve to
// during evaluation: the resource's ID and, for an attribute, its name. Only AWS knows the value.
type ResourceValue struct{ ID, Attr string }

// String renders the reference as {ID} or {ID.Attr}.
func (r ResourceValue) String() string {
	if r.Attr != "" {
		return "{" + r.ID + "." + r.Attr + "}"
	}
	return "{" + r.ID + "}"
}

// noValue is AWS::NoValue during evaluation: the property or list item it stands for is dropped.
type noValue struct{}

// The pseudo parameters' values during evaluation.
const (
	EvalRegion    = "us-east-1"
	EvalAccount   = "123456789012"
	EvalStackName = "catalog"
	EvalPartition = "aws"
	EvalURLSuffix = "amazonaws.com"
)

// Evaluation is a template with its parameters chosen: every condition decided and intrinsic
// functions resolved as far as they can be without AWS (resource attributes stay References).
type Evaluation struct {
	t      *Template
	params map[string]string
	conds  map[string]bool
}

// maxConditionDepth bounds condition references, so a cycle is an error, not a stack overflow.
const maxConditionDepth = 20

// Evaluate chooses parameter values (defaults, overridden by overrides) and decides every
// condition. An override of a parameter the template does not declare is an error.
func Evaluate(t *Template, overrides map[string]string) (*Evaluation, error) {
	e := &Evaluation{t: t, params: map[string]string{}, conds: map[string]bool{}}
	for name, p := range t.Parameters {
		if p != nil && p.Default != nil {
			e.params[name] = Scalar(p.Default)
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

// Template returns the evaluated template.
func (e *Evaluation) Template() *Template { return e.t }

// Condition returns a named condition's value.
func (e *Evaluation) Condition(name string) (bool, error) { return e.condition(name, 0) }

// Present reports whether a resource or output with the given Condition exists under the
// evaluation's conditions.
func (e *Evaluation) Present(condition string) bool {
	return condition == "" || e.conds[condition]
}

// Properties returns a resource's properties with intrinsic functions resolved.
func (e *Evaluation) Properties(r *Resource) (map[string]any, error) {
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
	if depth > maxConditionDepth {
		return false, fmt.Errorf("condition %s: references nest deeper than %d (a cycle?)", name, maxConditionDepth)
	}
	v, err := e.value(expr, depth+1)
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

// Value resolves intrinsic functions in v.
func (e *Evaluation) Value(v any) (any, error) { return e.value(v, 0) }

func (e *Evaluation) value(v any, depth int) (any, error) {
	switch t := v.(type) {
	case []any:
		out := []any{}
		for _, x := range t {
			r, err := e.value(x, depth)
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
				if fn, ok := intrinsics[k]; ok {
					return fn(e, arg, depth)
				}
			}
		}
		out := map[string]any{}
		for k, x := range t {
			r, err := e.value(x, depth)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	case []string: // typed values of a template built in Go rather than parsed
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out, nil
	}
	return v, nil
}

// intrinsic evaluates one intrinsic function's argument; depth counts condition references.
type intrinsic func(e *Evaluation, arg any, depth int) (any, error)

// intrinsics are the functions the evaluator knows, one each.
var intrinsics map[string]intrinsic

func init() {
	intrinsics = map[string]intrinsic{
		"Ref":              evalRef,
		"Condition":        evalCondition,
		"Fn::GetAtt":       evalGetAtt,
		"Fn::Equals":       evalEquals,
		"Fn::Not":          evalNot,
		"Fn::And":          evalAnd,
		"Fn::Or":           evalOr,
		"Fn::If":           evalIf,
		"Fn::FindInMap":    evalFindInMap,
		"Fn::Select":       evalSelect,
		"Fn::Split":        evalSplit,
		"Fn::Join":         evalJoin,
		"Fn::Sub":          evalSub,
		"Fn::GetAZs":       evalGetAZs,
		"Fn::ImportValue":  unsupported("Fn::ImportValue"),
		"Fn::Base64":       unsupported("Fn::Base64"),
		"Fn::Cidr":         unsupported("Fn::Cidr"),
		"Fn::Length":       unsupported("Fn::Length"),
		"Fn::ToJsonString": unsupported("Fn::ToJsonString"),
	}
}

// args returns arg as a list of exactly n items (any number when n is 0).
func args(fn string, arg any, n int) ([]any, error) {
	l, ok := arg.([]any)
	if !ok || (n > 0 && len(l) != n) {
		return nil, fmt.Errorf("%s wants %d arguments, got %v", fn, n, arg)
	}
	return l, nil
}

// evalRef resolves a pseudo parameter, a template parameter (its chosen value, or <Name> when
// it has none) or a resource (a ResourceValue).
func evalRef(e *Evaluation, arg any, _ int) (any, error) {
	name, _ := arg.(string)
	switch name {
	case Region:
		return EvalRegion, nil
	case AccountID:
		return EvalAccount, nil
	case NoValueID:
		return noValue{}, nil
	case StackName:
		return EvalStackName, nil
	case Partition:
		return EvalPartition, nil
	case URLSuffix:
		return EvalURLSuffix, nil
	}
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	if _, ok := e.t.Parameters[name]; ok {
		return "<" + name + ">", nil // a parameter without a default nobody set
	}
	if _, ok := e.t.Resources[name]; ok {
		return ResourceValue{ID: name}, nil
	}
	return nil, fmt.Errorf("Ref to unknown %q", name)
}

func evalCondition(e *Evaluation, arg any, depth int) (any, error) {
	return e.condition(fmt.Sprint(arg), depth+1)
}

// evalGetAtt accepts both forms, ["Resource", "Attr"] and "Resource.Attr".
func evalGetAtt(_ *Evaluation, arg any, _ int) (any, error) {
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
	return ResourceValue{ID: parts[0], Attr: parts[1]}, nil
}

// evalEquals compares the two values' scalar forms, so "2" equals 2 as CloudFormation has it.
func evalEquals(e *Evaluation, arg any, depth int) (any, error) {
	l, err := args("Fn::Equals", arg, 2)
	if err != nil {
		return nil, err
	}
	a, err := e.value(l[0], depth)
	if err != nil {
		return nil, err
	}
	b, err := e.value(l[1], depth)
	if err != nil {
		return nil, err
	}
	return Scalar(a) == Scalar(b), nil
}

// booleans evaluates a condition function's arguments, each of which must be a boolean.
func booleans(e *Evaluation, fn string, arg any, depth int) ([]bool, error) {
	l, err := args(fn, arg, 0)
	if err != nil {
		return nil, err
	}
	var bs []bool
	for _, x := range l {
		v, err := e.value(x, depth)
		if err != nil {
			return nil, err
		}
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: %v is not a boolean", fn, v)
		}
		bs = append(bs, b)
	}
	return bs, nil
}

func evalNot(e *Evaluation, arg any, depth int) (any, error) {
	bs, err := booleans(e, "Fn::Not", arg, depth)
	if err != nil {
		return nil, err
	}
	if len(bs) != 1 {
		return nil, errors.New("Fn::Not wants 1 argument")
	}
	return !bs[0], nil
}

func evalAnd(e *Evaluation, arg any, depth int) (any, error) {
	bs, err := booleans(e, "Fn::And", arg, depth)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if !b {
			return false, nil
		}
	}
	return true, nil
}

func evalOr(e *Evaluation, arg any, depth int) (any, error) {
	bs, err := booleans(e, "Fn::Or", arg, depth)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if b {
			return true, nil
		}
	}
	return false, nil
}

// evalIf evaluates only the branch the condition picks.
func evalIf(e *Evaluation, arg any, depth int) (any, error) {
	l, err := args("Fn::If", arg, 3)
	if err != nil {
		return nil, err
	}
	c, err := e.condition(fmt.Sprint(l[0]), depth+1)
	if err != nil {
		return nil, err
	}
	if c {
		return e.value(l[1], depth)
	}
	return e.value(l[2], depth)
}

func evalFindInMap(e *Evaluation, arg any, depth int) (any, error) {
	l, err := args("Fn::FindInMap", arg, 3)
	if err != nil {
		return nil, err
	}
	var keys [3]string
	for i, x := range l {
		v, err := e.value(x, depth)
		if err != nil {
			return nil, err
		}
		keys[i] = Scalar(v)
	}
	v, ok := e.t.Mappings[keys[0]][keys[1]][keys[2]]
	if !ok {
		return nil, fmt.Errorf("Fn::FindInMap %v: no such entry", keys)
	}
	return v, nil
}

func evalSelect(e *Evaluation, arg any, depth int) (any, error) {
	l, err := args("Fn::Select", arg, 2)
	if err != nil {
		return nil, err
	}
	idx, err := e.value(l[0], depth)
	if err != nil {
		return nil, err
	}
	lst, err := e.value(l[1], depth)
	if err != nil {
		return nil, err
	}
	i, err := strconv.Atoi(Scalar(idx))
	items, ok := lst.([]any)
	if err != nil || !ok || i < 0 || i >= len(items) {
		return nil, fmt.Errorf("Fn::Select %v from %v", idx, lst)
	}
	return items[i], nil
}

func evalSplit(e *Evaluation, arg any, depth int) (any, error) {
	l, err := args("Fn::Split", arg, 2)
	if err != nil {
		return nil, err
	}
	s, err := e.value(l[1], depth)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, p := range strings.Split(Scalar(s), fmt.Sprint(l[0])) {
		out = append(out, p)
	}
	return out, nil
}

func evalJoin(e *Evaluation, arg any, depth int) (any, error) {
	l, err := args("Fn::Join", arg, 2)
	if err != nil {
		return nil, err
	}
	items, err := e.value(l[1], depth)
	if err != nil {
		return nil, err
	}
	list, ok := items.([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Join of %v, not a list", items)
	}
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = Scalar(x)
	}
	return strings.Join(parts, fmt.Sprint(l[0])), nil
}

// subVar matches ${Name} and ${Resource.Attr}; ${!Literal} is an escape and stays.
var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// evalSub replaces ${Name} with the variable, parameter, pseudo parameter or {Resource}, and
// ${Resource.Attr} with {Resource.Attr}.
func evalSub(e *Evaluation, arg any, depth int) (any, error) {
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
			v, err := e.value(x, depth)
			if err != nil {
				return nil, err
			}
			vars[k] = v
		}
	default:
		return nil, fmt.Errorf("bad Fn::Sub %v", arg)
	}
	var subErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return Scalar(v)
		}
		if id, attr, ok := strings.Cut(name, "."); ok {
			return ResourceValue{ID: id, Attr: attr}.String()
		}
		v, err := evalRef(e, name, depth)
		if err != nil && subErr == nil {
			subErr = err
		}
		return Scalar(v)
	})
	return out, subErr
}

// evalGetAZs returns three zones of EvalRegion, whatever region is asked for.
func evalGetAZs(*Evaluation, any, int) (any, error) {
	return []any{EvalRegion + "a", EvalRegion + "b", EvalRegion + "c"}, nil
}

func unsupported(fn string) intrinsic {
	return func(*Evaluation, any, int) (any, error) {
		return nil, fmt.Errorf("%s is not supported by the evaluator", fn)
	}
}

// Scalar renders a resolved value as a string: numbers in canonical form (so "2.0" and 2 agree),
// references as {ID} or {ID.Attr}, anything else as JSON.
func Scalar(v any) string {
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
	case ResourceValue:
		return t.String()
	case noValue:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
