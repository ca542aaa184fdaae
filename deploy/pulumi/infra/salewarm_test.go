package infra_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/stacksummary"
)

// TestSaleWarmSchedules: with a sale window the program makes the model's two schedules: at
// saleStart the cluster's minimum becomes saleMinAcu, at saleEnd exactly dbMinAcu again, the
// maximum dbMaxAcu both times; at the minute, UTC, kept after they ran (NONE), as the sale
// role, after its policy. Without a window there are neither schedules nor the role.
func TestSaleWarmSchedules(t *testing.T) {
	prod, _ := blueprint.LookupEnvironment("prod")
	withProd := func() infra.Config {
		c := fullConfig()
		c.Environment, c.DBMinACU, c.DBMaxACU, c.SaleMinACU = prod, prod.MinACU, prod.MaxACU, prod.SaleMinACU
		return c
	}
	noSale := func() infra.Config { c := fullConfig(); c.SaleStart, c.SaleEnd = "", ""; return c }
	for name, cfg := range map[string]func() infra.Config{"dev, explicit": fullConfig, "prod, defaults": withProd, "no sale": noSale} {
		t.Run(name, func(t *testing.T) {
			c := cfg()
			r := runStack(t, c)
			roles := 0
			for _, x := range r.of(tRole) {
				if x.Name == "role-sale-db-"+c.Suffix {
					roles++
				}
			}
			schedules := r.of(tSchedule)
			if c.SaleStart == "" {
				if len(schedules) != 0 || roles != 0 {
					t.Errorf("no sale window, yet %d schedules and %d sale roles", len(schedules), roles)
				}
				return
			}
			if roles != 1 {
				t.Fatalf("%d sale roles, want 1", roles)
			}
			policy := r.named(t, tRolePolicy, "policy-sale-db-"+c.Suffix)
			acu := func(v float64) string { return fmt.Sprint(v) }
			want := []string{
				fmt.Sprintf("schedule-sale-db-start-%s at(%s) db-catalog-%s %s-%s", c.Suffix, c.SaleStart, c.Suffix, acu(c.SaleMinACU), acu(c.DBMaxACU)),
				fmt.Sprintf("schedule-sale-db-end-%s at(%s) db-catalog-%s %s-%s", c.Suffix, c.SaleEnd, c.Suffix, acu(c.DBMinACU), acu(c.DBMaxACU)),
			}
			var got []string
			for _, s := range schedules {
				var in struct {
					DbClusterIdentifier              string
					ServerlessV2ScalingConfiguration struct{ MinCapacity, MaxCapacity float64 }
				}
				jsonInput(t, res{Type: s.Type, Name: s.Name, Inputs: s.get("target").(map[string]any)}, "input", &in)
				sc := in.ServerlessV2ScalingConfiguration
				got = append(got, fmt.Sprintf("%s %s %s %s-%s", s.Name, s.str("scheduleExpression"), in.DbClusterIdentifier, acu(sc.MinCapacity), acu(sc.MaxCapacity)))
				if s.str("scheduleExpressionTimezone") != "UTC" || s.str("flexibleTimeWindow.mode") != "OFF" || s.str("state") != "ENABLED" ||
					s.str("actionAfterCompletion") != "NONE" || s.str("target.arn") != "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster" ||
					!strings.HasSuffix(s.str("target.roleArn"), "/role-sale-db-"+c.Suffix) {
					t.Errorf("%s: %v", s.Name, s.Inputs)
				}
				if !slices.ContainsFunc(s.Deps, func(u string) bool { return strings.HasSuffix(u, "::"+policy.Name) }) {
					t.Errorf("%s does not wait for its role's policy %s: its first run could be refused", s.Name, policy.Name)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("schedules\n got  %q\n want %q", got, want)
			}
		})
	}
}

// TestParityDetectsSaleScheduleDifference: an end schedule that restored the sale's minimum
// instead of the database's own is a difference the parity comparison names.
func TestParityDetectsSaleScheduleDifference(t *testing.T) {
	tmpl, err := loadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	c := fullConfig()
	p, _ := pulumiSummary(t, c)
	params := templateParams(c)
	if d := stacksummary.Compare(p, cfnSummary(t, tmpl, params, c.Suffix)); len(d) != 0 {
		t.Fatalf("differences before the change: %q", d)
	}
	end := tmpl.Resources[blueprint.IDSaleWarmEndSchedule].Properties["Target"].(map[string]any)
	sub := end["Input"].(map[string]any)["Fn::Sub"].([]any)
	b, _ := json.Marshal(sub[0])
	if !strings.Contains(string(b), "DBMin") {
		t.Fatalf("the end schedule's input %s does not restore DBMin", b)
	}
	end["Input"] = map[string]any{"Fn::Sub": []any{strings.ReplaceAll(sub[0].(string), "${DBMin}", "${DBMax}"), sub[1]}}
	diffs := stacksummary.Compare(p, cfnSummary(t, tmpl, params, c.Suffix))
	if !slices.ContainsFunc(diffs, func(d string) bool { return strings.Contains(d, "Database.SaleSchedules") }) {
		t.Errorf("after the end schedule restores the maximum, differences = %q, want one about Database.SaleSchedules", diffs)
	}
}

// Without a window saleMinAcu sets nothing, so it is not held to the database's bounds (as the
// template's rules, which hold only with SaleStart): prod's default stays valid when a stack
// lowers dbMaxAcu and plans no sale.
func TestSaleMinACUCheckedOnlyWithAWindow(t *testing.T) {
	get := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	set := map[string]string{infra.KeyAPIKeys: strings.Repeat("k", 32), infra.KeyEnvironment: "prod", infra.KeyDBMaxACU: "32"}
	if _, err := infra.LoadConfig(get(set), "dev"); err != nil {
		t.Errorf("no sale, prod, dbMaxAcu 32: %v", err)
	}
	set[infra.KeySaleStart], set[infra.KeySaleEnd] = "2026-12-24T08:55:00", "2026-12-24T12:00:00"
	if _, err := infra.LoadConfig(get(set), "dev"); err == nil || !strings.Contains(err.Error(), infra.ConfigNamespace+":"+infra.KeySaleMinACU) {
		t.Errorf("a sale, prod, dbMaxAcu 32 (below the sale's 48): %v, want catalog:saleMinAcu refused", err)
	}
}
