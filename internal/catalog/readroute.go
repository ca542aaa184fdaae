package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// A ReadPosition is a point in the writer's history (a PostgreSQL WAL position): a read that
// carries one must see every write that had committed when the writer was there. Stores with
// replicas use it to pick a replica that has replayed that far, or the writer (ADR 0022).
type ReadPosition uint64

// String formats p as PostgreSQL writes an LSN ("16/B374D848"), the form of the
// Catalog-Read-After header.
func (p ReadPosition) String() string {
	return fmt.Sprintf("%X/%X", uint64(p)>>32, uint32(p))
}

// ParseReadPosition parses the form String writes. Hex digits are case-insensitive; each half
// has 1-8 digits, as in PostgreSQL's pg_lsn.
func ParseReadPosition(s string) (ReadPosition, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || !hexHalf(hi) || !hexHalf(lo) {
		return 0, Errorf(CodeInvalid, "a read position is two hexadecimal numbers of 1-8 digits separated by a slash, such as 16/B374D848, as a write's Catalog-Read-After header gives it")
	}
	h, _ := strconv.ParseUint(hi, 16, 32)
	l, _ := strconv.ParseUint(lo, 16, 32)
	return ReadPosition(h<<32 | l), nil
}

func hexHalf(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

type readAfterKey struct{}
type writerReadsKey struct{}

// WithReadAfter records that the caller has written up to p, so its reads must not be answered
// from anything older (a replica behind p, a cached copy).
func WithReadAfter(ctx context.Context, p ReadPosition) context.Context {
	return context.WithValue(ctx, readAfterKey{}, p)
}

// ReadAfter returns the position recorded by WithReadAfter.
func ReadAfter(ctx context.Context) (ReadPosition, bool) {
	p, ok := ctx.Value(readAfterKey{}).(ReadPosition)
	return p, ok
}

// WithWriterReads marks the reads of ctx as back-office reads that must be current: they go to
// the writer and skip caches that may lag it.
func WithWriterReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, writerReadsKey{}, true)
}

// WriterReads reports whether WithWriterReads marked ctx.
func WriterReads(ctx context.Context) bool {
	b, _ := ctx.Value(writerReadsKey{}).(bool)
	return b
}

// MustBeCurrent reports whether a read in ctx may be answered only from the writer or from a
// copy known to be at least as new as the caller's writes: a cache holding an answer of unknown
// age must pass such reads on.
func MustBeCurrent(ctx context.Context) bool {
	if WriterReads(ctx) {
		return true
	}
	_, ok := ReadAfter(ctx)
	return ok
}
