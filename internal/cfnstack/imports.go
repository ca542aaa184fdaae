package cfnstack

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Import parallelism parameter, mapping key and condition.
const (
	ParamImportParallel = "ImportParallel"
	// MapKeyImportParallel is the environment mapping's IMPORT_PARALLEL (blueprint.Environment).
	MapKeyImportParallel = "ImportParallel"
	// CondEnvironmentImportParallel: ImportParallel 0 takes the environment's.
	CondEnvironmentImportParallel = "UseEnvironmentImportParallel"
	// varImportParallel is blueprint.PhImportParallel's Fn::Sub variable (computed).
	varImportParallel = "ImportParallelValue"
)

// importParallelParameter adds the parameter, the mapping's column and the condition; parameters
// calls it once the mapping exists.
func (b *builder) importParallelParameter() {
	values := []string{"0"}
	for n := blueprint.MinImportParallel; n <= blueprint.MaxImportParallel; n++ {
		values = append(values, strconv.Itoa(n))
	}
	var envDefaults []string
	for _, e := range blueprint.Environments {
		envDefaults = append(envDefaults, fmt.Sprintf("%s %d", e.Name, e.ImportParallel))
		b.t.Mappings[MapEnvironment][e.Name][MapKeyImportParallel] = strconv.Itoa(e.ImportParallel)
	}
	b.t.Parameters[ParamImportParallel] = &cfn.Parameter{
		Type: "String",
		Description: "Batches of one import job (POST /imports) the writer works on at once, each on its own connection (the service's IMPORT_PARALLEL). " +
			"0 uses the environment's default (" + strings.Join(envDefaults, ", ") + "). Each batch keeps at most one writer vCPU busy: " +
			fmt.Sprintf("%d products/s needs %.0f or more, and a TaskSize of %s for the job.", blueprint.ImportTargetPerSecond, math.Ceil(blueprint.ImportWriterVCPUs), blueprint.ImportTaskSize),
		Default:       "0",
		AllowedValues: values,
	}
	b.t.Conditions[CondEnvironmentImportParallel] = cfn.Equals(cfn.Ref(ParamImportParallel), "0")
}

// importParallel is the deployment's IMPORT_PARALLEL: the environment's while the parameter is 0.
func importParallel() any {
	return environmentDefault(CondEnvironmentImportParallel, ParamImportParallel, MapKeyImportParallel)
}
