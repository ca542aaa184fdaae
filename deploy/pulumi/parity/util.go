package parity

import (
	"maps"
	"slices"

	"github.com/acme/catalog/internal/cfn"
)

func sortedIDs(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func asList(v any) []any { l, _ := v.([]any); return l }

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

// keyValues turns a list of {Key, Value} into a map.
func keyValues(v any) map[string]string {
	out := map[string]string{}
	for _, x := range asList(v) {
		m := asMap(x)
		out[cfn.Scalar(m["Key"])] = cfn.Scalar(m["Value"])
	}
	return out
}

// joinField renders one field of each element of a list, sorted.
func joinField(v any, field string) string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, str(x, field))
	}
	return sortedJoin(out)
}

// joinKV renders a list of {k: ..., v: ...} as sorted "k=v".
func joinKV(v any, k, val string) string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, str(x, k)+"="+str(x, val))
	}
	return sortedJoin(out)
}

// joinMap renders a map as sorted "k=v".
func joinMap(v any) string {
	var out []string
	for k, x := range asMap(v) {
		out = append(out, k+"="+cfn.Scalar(x))
	}
	return sortedJoin(out)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
