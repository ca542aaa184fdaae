package blueprint

// EnvImportParallel is how many batches of one import job the service has PostgreSQL work on
// at once, each on its own pool connection (ADR 0026).
const EnvImportParallel = "IMPORT_PARALLEL"

// The service's default and bounds for IMPORT_PARALLEL, which the stacks' parameter and
// configuration check repeat (a test holds them to internal/config).
const (
	DefaultImportParallel = 2
	MinImportParallel     = 1
	MaxImportParallel     = 8
)

// PhImportParallel stands for the deployment's IMPORT_PARALLEL: the ImportParallel parameter or
// importParallel configuration, else the environment's ImportParallel.
const PhImportParallel = "${importparallel}"

// ImportTargetPerSecond is the import speed issue 17 asks of PostgreSQL: 100,000 products with
// variants at 5,000 a second.
const ImportTargetPerSecond = 5000

// ImportWriterVCPUs is the writer's CPU an import of new products needs at
// ImportTargetPerSecond beside a job of ImportTaskSize: derived by `go run ./cmd/bench -import
// jsonl -store postgres -products 100000` from the CPU both sides spent per 1,000 products
// (2026-12-03, quiet: PostgreSQL 692 ms, the job 224 ms; "writer for 5000/s" 4.75 vCPUs,
// docs/performance.md). Each batch in flight keeps one backend, so one vCPU, busy at most:
// IMPORT_PARALLEL must be at least this, rounded up, for the writer to be given that much work.
const ImportWriterVCPUs = 4.75

// ImportTaskSize is the task the job needs beside that writer: the same derivation gives the
// job two cores (224 ms per 1,000 products is 1.1 vCPUs at 5,000/s, more than DefaultTaskSize
// has while it also serves). The stacks keep DefaultTaskSize; a bulk onboarding sets TaskSize
// (taskCpu and taskMemory) to this for its duration.
var ImportTaskSize = TaskSize{CPU: 2048, Memory: 4096}
