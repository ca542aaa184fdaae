package cfnstack

import (
	"fmt"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Sale-warming parameter, mapping key and condition.
const (
	ParamSaleMinACU = "SaleMinACU"
	// MapKeySaleMinACU is the environment mapping's sale minimum (blueprint.Environment).
	MapKeySaleMinACU = "SaleMinACU"
	// CondEnvironmentSaleMinACU: SaleMinACU 0 takes the environment's sale minimum.
	CondEnvironmentSaleMinACU = "UseEnvironmentSaleMinACU"
)

// saleMinACUParameter adds the parameter, the mapping's column and the condition; parameters
// calls it so the mapping exists before the rules read it.
func (b *builder) saleMinACUParameter() {
	values := []string{"0"}
	for _, v := range blueprint.ACUChoices {
		values = append(values, acuString(v))
	}
	var envDefaults []string
	for _, e := range blueprint.Environments {
		envDefaults = append(envDefaults, e.Name+" "+acuString(e.SaleMinACU))
		b.t.Mappings[MapEnvironment][e.Name][MapKeySaleMinACU] = acuString(e.SaleMinACU)
	}
	b.t.Parameters[ParamSaleMinACU] = &cfn.Parameter{
		Type: "String",
		Description: "Aurora Serverless v2 minimum capacity in ACUs during the planned sale (SaleStart to SaleEnd): an EventBridge Scheduler schedule sets it at the start and restores the database's minimum at the end. " +
			"0 uses the environment's default (" + strings.Join(envDefaults, ", ") + "). Must lie within the database's minimum and maximum; both instances stay at or above it for the window.",
		Default:       "0",
		AllowedValues: values,
	}
	b.t.Conditions[CondEnvironmentSaleMinACU] = cfn.Equals(cfn.Ref(ParamSaleMinACU), "0")
}

// saleMinACURules refuse, with a sale window, a sale minimum outside the database's minimum and
// maximum before anything is created. As capacityRules: rules cannot compare numbers, so each
// names the values a given sale minimum allows (0 meaning an environment's default).
func (b *builder) saleMinACURules() {
	sale := cfn.Not(cfn.Equals(cfn.Ref(ParamSaleStart), ""))
	choices := func(keep func(float64) bool) []any {
		var out []any
		for _, v := range blueprint.ACUChoices {
			if keep(v) {
				out = append(out, acuString(v))
			}
		}
		return out
	}
	contains := func(list []any, param string) any { return cfn.Fn{"Fn::Contains": []any{list, cfn.Ref(param)}} }
	envs := func(keep func(blueprint.Environment) bool) []any {
		var out []any
		for _, e := range blueprint.Environments {
			if keep(e) {
				out = append(out, e.Name)
			}
		}
		return out
	}
	// orDefault: the bound is one of list, or 0 in an environment whose default fits.
	orDefault := func(list []any, param string, fits []any) any {
		assert := contains(list, param)
		if len(fits) > 0 {
			assert = cfn.Or(assert, cfn.And(cfn.Equals(cfn.Ref(param), "0"), contains(fits, ParamEnvironment)))
		}
		return assert
	}
	rule := func(id string, cond any, as ...cfn.Assertion) {
		if err := b.t.AddRule(id, &cfn.Rule{RuleCondition: cond, Assertions: as}); err != nil && b.err == nil {
			b.err = err
		}
	}
	for i, v := range blueprint.ACUChoices {
		rule(fmt.Sprintf("SaleMinACU%d", i+1), cfn.And(sale, cfn.Equals(cfn.Ref(ParamSaleMinACU), acuString(v))),
			cfn.Assertion{
				Assert: orDefault(choices(func(x float64) bool { return x <= v }), ParamDBMinCapacity,
					envs(func(e blueprint.Environment) bool { return e.MinACU <= v })),
				AssertDescription: fmt.Sprintf("SaleMinACU (%s ACUs) must be at least DBMinCapacity (or the environment's default minimum when it is 0)", acuString(v)),
			},
			cfn.Assertion{
				Assert: orDefault(choices(func(x float64) bool { return x >= v }), ParamDBMaxCapacity,
					envs(func(e blueprint.Environment) bool { return e.MaxACU >= v })),
				AssertDescription: fmt.Sprintf("SaleMinACU (%s ACUs) must not exceed DBMaxCapacity (or the environment's default maximum when it is 0)", acuString(v)),
			})
	}
	for _, e := range blueprint.Environments {
		title := strings.ToUpper(e.Name[:1]) + e.Name[1:]
		rule("SaleMinACUDefault"+title,
			cfn.And(sale, cfn.Equals(cfn.Ref(ParamEnvironment), e.Name), cfn.Equals(cfn.Ref(ParamSaleMinACU), "0")),
			cfn.Assertion{
				Assert:            contains(append([]any{"0"}, choices(func(x float64) bool { return x <= e.SaleMinACU })...), ParamDBMinCapacity),
				AssertDescription: fmt.Sprintf("SaleMinACU 0 is the %s default, %s ACUs: DBMinCapacity must be 0 or at most that", e.Name, acuString(e.SaleMinACU)),
			},
			cfn.Assertion{
				Assert:            contains(append([]any{"0"}, choices(func(x float64) bool { return x >= e.SaleMinACU })...), ParamDBMaxCapacity),
				AssertDescription: fmt.Sprintf("SaleMinACU 0 is the %s default, %s ACUs: DBMaxCapacity must be 0 or at least that", e.Name, acuString(e.SaleMinACU)),
			})
	}
}

// saleWarm renders blueprint.SaleWarm: the schedules' role and the two schedules, with the
// sale window (WithSale).
func (b *builder) saleWarm(Options) error {
	w := b.m.SaleWarm
	b.serviceRole(w.Role, w.Trust)
	// The same bounds the cluster's ServerlessV2ScalingConfiguration takes (database).
	bounds := map[string]any{
		"DBMin":   environmentDefault(CondEnvironmentMinCapacity, ParamDBMinCapacity, "DBMinCapacity"),
		"SaleMin": environmentDefault(CondEnvironmentSaleMinACU, ParamSaleMinACU, MapKeySaleMinACU),
		"DBMax":   environmentDefault(CondEnvironmentMaxCapacity, ParamDBMaxCapacity, "DBMaxCapacity"),
	}
	for _, s := range w.Schedules {
		input := s.Input("${"+IDDBCluster+"}", "${DBMin}", "${SaleMin}", "${DBMax}")
		vars := map[string]any{}
		for k, v := range bounds {
			if strings.Contains(input, "${"+k+"}") {
				vars[k] = v
			}
		}
		// Ref on the cluster is its identifier, and a dependency; GetAtt on the role too. The
		// template cannot state ActionAfterCompletion (the resource type has no such property);
		// its default is the model's NONE.
		b.add(s.ID, "AWS::Scheduler::Schedule", map[string]any{
			"Name":                       modelName(s.Resource),
			"Description":                "At " + map[bool]string{false: "SaleStart", true: "SaleEnd"}[s.AtEnd] + ": " + s.Description,
			"ScheduleExpression":         cfn.Sub(s.Expression("${"+ParamSaleStart+"}", "${"+ParamSaleEnd+"}")),
			"ScheduleExpressionTimezone": w.TimeZone,
			"FlexibleTimeWindow":         map[string]any{"Mode": w.FlexibleWindow},
			"State":                      "ENABLED",
			"Target": map[string]any{
				"Arn":     expand(w.Target),
				"RoleArn": cfn.GetAtt(w.Role.ID, "Arn"),
				"Input":   cfn.SubWith(input, vars),
			},
		}, b.when(s.When))
	}
	return nil
}
