package cfnstack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// TestSaleWarmRendersTheModel: in every deployment and environment, the template schedules the
// database's warming exactly with a sale window: at SaleStart the cluster's minimum becomes the
// sale's minimum (SaleMinACU, or the environment's with 0), at SaleEnd exactly the
// deployment's own minimum again, the maximum the deployment's both times; at the minute
// (flexible window OFF), UTC, as the role only Scheduler of this account assumes.
func TestSaleWarmRendersTheModel(t *testing.T) {
	tmpl := underTest(t)
	w := blueprint.Model().SaleWarm
	for _, c := range blueprint.AllChoices() {
		for _, env := range blueprint.Environments {
			for _, set := range [][3]string{{"0", "0", "0"}, {"2", "16", "64"}} { // DBMin, SaleMinACU, DBMax
				p := parametersFor(c)
				p[ParamEnvironment], p[ParamDBMinCapacity], p[ParamSaleMinACU], p[ParamDBMaxCapacity] = env.Name, set[0], set[1], set[2]
				e, err := cfn.Evaluate(tmpl, p)
				if err != nil {
					t.Fatal(err)
				}
				min, sale, max := parseACU(set[0], env.MinACU), parseACU(set[1], env.SaleMinACU), parseACU(set[2], env.MaxACU)
				var got []string
				for _, s := range w.Schedules {
					r, ok := tmpl.Resources[s.ID]
					if !ok {
						t.Fatalf("the template has no %s", s.ID)
					}
					if !e.Present(r.Condition) {
						continue
					}
					props, err := e.Properties(r)
					if err != nil {
						t.Fatal(err)
					}
					target := props["Target"].(map[string]any)
					var in struct {
						DbClusterIdentifier              string
						ServerlessV2ScalingConfiguration struct{ MinCapacity, MaxCapacity float64 }
					}
					if err := json.Unmarshal([]byte(fmt.Sprint(target["Input"])), &in); err != nil {
						t.Fatalf("%s input %v: %v", s.ID, target["Input"], err)
					}
					sc := in.ServerlessV2ScalingConfiguration
					got = append(got, fmt.Sprintf("%v %s %v-%v", props["ScheduleExpression"], in.DbClusterIdentifier, sc.MinCapacity, sc.MaxCapacity))
					if props["ScheduleExpressionTimezone"] != "UTC" || fmt.Sprint(props["FlexibleTimeWindow"]) != "map[Mode:OFF]" || props["State"] != "ENABLED" ||
						target["Arn"] != "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster" || fmt.Sprint(target["RoleArn"]) != "{"+w.Role.ID+".Arn}" {
						t.Errorf("%s: %v", s.ID, props)
					}
					if a, ok := props["ActionAfterCompletion"]; ok && a != "NONE" {
						t.Errorf("%s: ActionAfterCompletion %v: a deleted schedule is drift", s.ID, a)
					}
				}
				var want []string
				if c.Has(blueprint.WithSale) {
					want = []string{
						fmt.Sprintf("at(%s) {%s} %v-%v", p[ParamSaleStart], IDDBCluster, sale, max),
						fmt.Sprintf("at(%s) {%s} %v-%v", p[ParamSaleEnd], IDDBCluster, min, max),
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%v, %s, %v: schedules\n got  %q\n want %q", c, env.Name, set, got, want)
				}
			}
		}
	}
	// The role: Scheduler of this account only, and only ModifyDBCluster on this cluster.
	role := tmpl.Resources[w.Role.ID]
	if role == nil || role.Condition != CondHasSale {
		t.Fatalf("the sale role %+v, want it with the sale (%s)", role, CondHasSale)
	}
	js, _ := json.Marshal(role.Properties["AssumeRolePolicyDocument"])
	if want := `{"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}},"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"}}],"Version":"2012-10-17"}`; string(js) != want {
		t.Errorf("sale role trust %s, want %s", js, want)
	}
	js, _ = json.Marshal(role.Properties["Policies"])
	if want := `"Action":["rds:ModifyDBCluster"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["DBCluster","DBClusterArn"]}]`; !strings.Contains(string(js), want) {
		t.Errorf("sale role policy %s, want %s", js, want)
	}
}

// TestDeploySaleMinACURules: with a sale window, the template refuses a sale minimum outside the
// database's minimum and maximum (each 0 meaning the environment's default) before anything is
// created, for every combination of the three; without a window SaleMinACU is never checked.
func TestDeploySaleMinACURules(t *testing.T) {
	tp := underTest(t)
	values := []string{"0"}
	for _, v := range blueprint.ACUChoices {
		values = append(values, acuString(v))
	}
	if got := tp.Parameters[ParamSaleMinACU].AllowedValues; !slices.Equal(got, values) {
		t.Errorf("SaleMinACU AllowedValues = %v, want %v", got, values)
	}
	refusedBySale := func(failed []string) bool {
		return slices.ContainsFunc(failed, func(f string) bool { return strings.HasPrefix(f, "SaleMinACU") })
	}
	for _, env := range blueprint.Environments {
		for _, sale := range values {
			for _, min := range values {
				for _, max := range values {
					params := map[string]string{ParamEnvironment: env.Name, ParamSaleMinACU: sale, ParamDBMinCapacity: min, ParamDBMaxCapacity: max,
						ParamCloudFrontPrefixListID: testPrefixList, ParamSaleStart: "2026-12-24T08:55:00", ParamSaleEnd: "2026-12-24T12:00:00"}
					effSale, effMin, effMax := parseACU(sale, env.SaleMinACU), parseACU(min, env.MinACU), parseACU(max, env.MaxACU)
					failed := failedRules(t, tp, params)
					if want := effSale < effMin || effSale > effMax; refusedBySale(failed) != want {
						t.Errorf("%s: sale %s within %s..%s: failed rules %v, want refused = %v", env.Name, sale, min, max, failed, want)
					}
					if max != "0.5" {
						continue // without a window: where a window's sale minimum is refused most
					}
					params[ParamSaleStart], params[ParamSaleEnd] = "", ""
					if failed := failedRules(t, tp, params); refusedBySale(failed) {
						t.Errorf("%s: no sale, SaleMinACU %s: refused %v", env.Name, sale, failed)
					}
				}
			}
		}
	}
}
