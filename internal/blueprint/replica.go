package blueprint

import "time"

// Replica reads (ADR 0022): the service reads public data from the cluster's reader endpoint
// (DB_READER_HOST) while the reader is within this bound of the writer, and from the writer
// otherwise. Stated in the task's environment so the bound an operator tunes is in the stack.
const (
	EnvDBReaderMaxLag = "DB_READER_MAX_LAG"
	DBReaderMaxLag    = time.Second
)

// ReplicaReads reports whether the stacks send public reads to a reader instance: the cluster
// has one and the service is given its endpoint. The capacity model then puts the reads'
// database CPU on the reader and the writes' on the writer, each sized and capped on its own.
func ReplicaReads() bool {
	a := Model()
	// An Aurora cluster has one writer; every other instance is a reader, whatever its
	// promotion tier (the tier only orders failover).
	reader := len(a.Database.Instances) > 1
	for _, e := range a.Service.Container.Secrets {
		if e.Name == EnvDBReaderHost {
			return reader
		}
	}
	return false
}
