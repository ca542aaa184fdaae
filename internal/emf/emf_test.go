package emf_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/emf"
)

// TestParseAppliesTheSpecification: each rule of the EMF specification CloudWatch applies
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// refuses a line that breaks it, so a writer's test fails where AWS would silently extract
// nothing.
func TestParseAppliesTheSpecification(t *testing.T) {
	line := func(metrics, dims int, mutate func(string) string) []byte {
		var defs, members, keys []string
		for i := range metrics {
			defs = append(defs, fmt.Sprintf(`{"Name":"M%d","Unit":"Count"}`, i))
			members = append(members, fmt.Sprintf(`"M%d":%d`, i, i))
		}
		for i := range dims {
			keys = append(keys, fmt.Sprintf(`"D%d"`, i))
			members = append(members, fmt.Sprintf(`"D%d":"v"`, i))
		}
		s := fmt.Sprintf(`{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Catalog","Dimensions":[[%s]],"Metrics":[%s]}]},%s}`,
			strings.Join(keys, ","), strings.Join(defs, ","), strings.Join(members, ","))
		if mutate != nil {
			s = mutate(s)
		}
		return []byte(s)
	}
	got, err := emf.Parse(line(emf.MaxMetrics, emf.MaxDimensions, nil))
	if err != nil || len(got) != emf.MaxMetrics || len(got[0].Dimensions) != emf.MaxDimensions || got[7].Value != 7 {
		t.Fatalf("a line at the limits: %d metrics, err %v", len(got), err)
	}
	for _, tc := range []struct {
		name string
		line []byte
		want string
	}{
		{"101 metrics", line(emf.MaxMetrics+1, 1, nil), "101 metrics"},
		{"31 dimensions", line(1, emf.MaxDimensions+1, nil), "31 dimensions"},
		{"no timestamp", line(1, 1, func(s string) string { return strings.Replace(s, `"Timestamp":1700000000000,`, "", 1) }), "Timestamp"},
		{"metric without a value", line(1, 1, func(s string) string { return strings.Replace(s, `"M0":0,`, "", 1) }), "no numeric value"},
		{"value as text", line(1, 1, func(s string) string { return strings.Replace(s, `"M0":0`, `"M0":"0"`, 1) }), "no numeric value"},
		{"dimension without a value", line(1, 1, func(s string) string { return strings.Replace(s, `,"D0":"v"`, "", 1) }), `dimension "D0"`},
		{"unknown unit", line(1, 1, func(s string) string { return strings.Replace(s, `"Unit":"Count"`, `"Unit":"Events"`, 1) }), "unit"},
		{"long name", line(1, 1, func(s string) string { return strings.ReplaceAll(s, `"M0"`, `"`+strings.Repeat("m", 256)+`"`) }), "1-255"},
		{"no _aws", []byte(`{"M0":1}`), "_aws"},
		{"trailing data", append(line(1, 1, nil), " x"...), "JSON"},
	} {
		if _, err := emf.Parse(tc.line); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Parse = %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}
