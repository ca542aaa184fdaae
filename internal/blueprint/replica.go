package blueprint

import "time"

// Replica reads (ADR 0022): the service reads public data from the cluster's reader endpoint
// (DB_READER_HOST) while the reader is within this bound of the writer, and from the writer
// otherwise. Stated in the task's environment so the bound an operator tunes is in the stack.
const (
	EnvDBReaderMaxLag = "DB_READER_MAX_LAG"
	DBReaderMaxLag    = time.Second
)
