package cfn

import (
	"encoding/json"
	"sort"
	"strings"
)

// Reference is one use of a name inside a template: a Ref, a GetAtt, a Sub placeholder, a
// condition named by Fn::If or {"Condition": ...}, or a mapping named by Fn::FindInMap.
type Reference struct {
	Kind      string // "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Condition" or "Fn::FindInMap"
	Target    string // the logical ID, parameter, pseudo parameter, condition or mapping
	Attribute string // GetAtt's attribute, or the part after the dot in ${X.Attr}
}

// References lists every reference inside v, in a stable order (depth first, object keys
// sorted). v is anything Marshal accepts, a decoded template included. Placeholders that a Fn::Sub defines in its own variable map are not
// references; ${!Literal} is not one either.
func References(v any) []Reference {
	b, err := Marshal(v)
	if err != nil {
		return nil
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil
	}
	var out []Reference
	walkRefs(generic, &out)
	return out
}

func walkRefs(v any, out *[]Reference) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walkRefs(e, out)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if handled := intrinsicRefs(k, arg, out); handled {
					return
				}
			}
		}
		for _, k := range sortedKeys(x) {
			walkRefs(x[k], out)
		}
	}
}

// intrinsicRefs records what a one-key object refers to and walks its arguments. It reports
// whether the key was an intrinsic it knows.
func intrinsicRefs(key string, arg any, out *[]Reference) bool {
	switch key {
	case "Ref":
		if s, ok := arg.(string); ok {
			*out = append(*out, Reference{Kind: key, Target: s})
			return true
		}
	case "Condition":
		if s, ok := arg.(string); ok {
			*out = append(*out, Reference{Kind: key, Target: s})
			return true
		}
	case "Fn::GetAtt":
		switch a := arg.(type) {
		case []any:
			if len(a) == 2 {
				id, _ := a[0].(string)
				attr, _ := a[1].(string)
				*out = append(*out, Reference{Kind: key, Target: id, Attribute: attr})
				walkRefs(a[1], out)
				return true
			}
		case string:
			id, attr, _ := strings.Cut(a, ".")
			*out = append(*out, Reference{Kind: key, Target: id, Attribute: attr})
			return true
		}
	case "Fn::Sub":
		var text string
		var vars map[string]any
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) == 2 {
				text, _ = a[0].(string)
				vars, _ = a[1].(map[string]any)
			}
		}
		for _, p := range SubPlaceholders(text) {
			name, attr, _ := strings.Cut(p, ".")
			if _, local := vars[p]; local {
				continue
			}
			*out = append(*out, Reference{Kind: key, Target: name, Attribute: attr})
		}
		for _, k := range sortedKeys(vars) {
			walkRefs(vars[k], out)
		}
		return true
	case "Fn::If":
		if a, ok := arg.([]any); ok && len(a) == 3 {
			if s, ok := a[0].(string); ok {
				*out = append(*out, Reference{Kind: key, Target: s})
			}
			walkRefs(a[1], out)
			walkRefs(a[2], out)
			return true
		}
	case "Fn::FindInMap":
		if a, ok := arg.([]any); ok && len(a) >= 3 {
			if s, ok := a[0].(string); ok {
				*out = append(*out, Reference{Kind: key, Target: s})
			}
			for _, e := range a[1:] {
				walkRefs(e, out)
			}
			return true
		}
	}
	return false
}

// SubPlaceholders returns the names inside ${...} in a Fn::Sub text, in order, skipping the
// ${!Literal} escape.
func SubPlaceholders(text string) []string {
	var names []string
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			return names
		}
		text = text[i+2:]
		j := strings.Index(text, "}")
		if j < 0 {
			return names
		}
		name := text[:j]
		text = text[j+1:]
		if strings.HasPrefix(name, "!") {
			continue
		}
		names = append(names, strings.TrimSpace(name))
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
