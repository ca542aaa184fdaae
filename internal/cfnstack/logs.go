package cfnstack

import (
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// placeholders turn the model's placeholders into what Fn::Sub knows.
var placeholders = strings.NewReplacer(
	blueprint.PhPartition, "${"+cfn.Partition+"}",
	blueprint.PhRegion, "${"+cfn.Region+"}",
	blueprint.PhAccount, "${"+cfn.AccountID+"}",
	blueprint.PhSuffix, "${"+ParamEnvironmentSuffix+"}",
	blueprint.PhEnvironment, "${"+ParamEnvironment+"}",
	blueprint.PhEventSource, "${"+ParamEventSource+"}",
	blueprint.PhEventBusARN, "${"+ParamEventBus+"}", // the parameter is the ARN in that mode
	blueprint.PhEventBusConcurrency, "${"+ParamEventBusConcurrency+"}",
	blueprint.PhImportParallel, "${"+varImportParallel+"}",
)

// computed are the placeholders no parameter holds as it is, by their Fn::Sub variable: a
// parameter whose 0 means the environment's default is a condition, which only a variable of
// Fn::Sub's own (or the whole value) can carry.
var computed = map[string]func() any{
	varImportParallel: importParallel,
}

// expand renders a model string: plain when it has no placeholder, a Ref (or a computed
// placeholder's value) when it is one, else Fn::Sub, with the computed placeholders' values as
// its variables. In maps and lists it renders every string.
func expand(v any) any {
	switch t := v.(type) {
	case string:
		s := placeholders.Replace(t)
		if !strings.Contains(s, "${") {
			return s
		}
		if strings.HasPrefix(s, "${") && strings.Index(s, "}") == len(s)-1 {
			if value, ok := computed[s[2:len(s)-1]]; ok {
				return value()
			}
			return cfn.Ref(s[2 : len(s)-1])
		}
		vars := map[string]any{}
		for _, name := range cfn.SubPlaceholders(s) {
			if value, ok := computed[name]; ok {
				vars[name] = value()
			}
		}
		if len(vars) > 0 {
			return cfn.SubWith(s, vars)
		}
		return cfn.Sub(s)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = expand(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = expand(x)
		}
		return out
	}
	return v
}

// logs renders the model's logs key, its alias and the log groups (blueprint.Observability).
func (b *builder) logs(Options) error {
	o := b.m.Observability
	b.add(o.LogsKey.ID, "AWS::KMS::Key", map[string]any{
		"Description":         cfn.Sub("Encrypts the catalog log groups and alarm topic of stack ${AWS::StackName}"),
		"KeySpec":             "SYMMETRIC_DEFAULT",
		"KeyUsage":            "ENCRYPT_DECRYPT",
		"EnableKeyRotation":   true,
		"PendingWindowInDays": blueprint.KeyPendingWindowDays,
		"KeyPolicy":           expand(o.LogsKeyPolicy),
	}, b.when(o.LogsKey.When))
	b.add(o.LogsKeyAlias.ID, "AWS::KMS::Alias", map[string]any{
		"AliasName":   expand("alias/" + o.LogsKey.Name(blueprint.PhSuffix)),
		"TargetKeyId": cfn.Ref(o.LogsKey.ID),
	}, b.when(o.LogsKeyAlias.When))
	for _, g := range o.LogGroups {
		b.add(g.ID, "AWS::Logs::LogGroup", map[string]any{
			"LogGroupName":    expand(g.Path),
			"RetentionInDays": cfn.Ref(ParamLogRetentionDays),
			"KmsKeyId":        cfn.GetAtt(o.LogsKey.ID, "Arn"),
		}, b.when(g.When))
	}
	return nil
}
