package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
)

// ReadAfterHeader carries read-your-writes across requests when reads may be served by a
// replica (ADR 0022): a successful write answers with the writer's position after it, and a
// read presenting that position is answered only by a replica that has replayed that far, or
// else by the writer. Clients treat the value as opaque and send back the last one they got.
const ReadAfterHeader = "Catalog-Read-After"

// ErrNoWritePositions is what WritePositions answers when the writer cannot give positions at
// all (an Aurora writer without logical replication): writes then answer without the header.
var ErrNoWritePositions = errors.New("the writer gives no WAL positions")

// WritePositions tells where the writer's history stands, for the header of write responses.
type WritePositions interface {
	WritePosition(ctx context.Context) (catalog.ReadPosition, error)
}

// writePositionTimeout bounds the position lookup a write's answer waits for; past it the
// answer goes without the header (the client then reads as any other, within the lag bound).
const writePositionTimeout = time.Second

// stockRoute's reads are stock decisions a client acts on (ADR 0004): never from a replica.
const stockRoute = "GET /products/{id}/variants/{variantID}/stock"

// routeReads marks, for the store's replica routing, which reads of r must be current: every
// read of a write request (a write checks what it changes against the writer, never a copy
// that may not have the caller's previous write yet), back-office reads (callers with the read
// scope see drafts and act on what they read), and stock reads. It takes the client's
// Catalog-Read-After and, on a successful write, sets it on the answer. Without replica reads
// (positions nil) it does nothing: every read is current then.
func (s *Server) routeReads(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	if s.positions == nil {
		return w, r
	}
	ctx := r.Context()
	if v := r.Header.Get(ReadAfterHeader); v != "" {
		pos, err := catalog.ParseReadPosition(v)
		if err != nil {
			var p catalog.Problems
			p.Add(ReadAfterHeader, "must be a value from a write's %s header, such as 16/B374D848", ReadAfterHeader)
			writeError(w, r, p.Err())
			return w, nil
		}
		ctx = catalog.WithReadAfter(ctx, pos)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		// The answer may differ with the position (writer or replica): caches key on it.
		w.Header().Add("Vary", ReadAfterHeader)
		if principal(r).Has(access.Read) || r.Pattern == stockRoute {
			ctx = catalog.WithWriterReads(ctx)
		}
	default:
		ctx = catalog.WithWriterReads(ctx)
		w = &positionWriter{ResponseWriter: w, ctx: ctx, positions: s.positions}
	}
	return w, r.WithContext(ctx)
}

// positionWriter adds the writer's position to a successful write's answer. It is looked up
// when the status is written, after the handler's store call has committed, so it is at or
// past that write.
type positionWriter struct {
	http.ResponseWriter
	ctx       context.Context
	positions WritePositions
	done      bool
}

func (p *positionWriter) WriteHeader(status int) {
	if !p.done {
		p.done = true
		if status >= 200 && status < 300 {
			ctx, cancel := context.WithTimeout(p.ctx, writePositionTimeout)
			pos, err := p.positions.WritePosition(ctx)
			cancel()
			switch {
			case err == nil:
				p.Header().Set(ReadAfterHeader, pos.String())
			case errors.Is(err, ErrNoWritePositions):
				// Said once where it was found; reads then rely on the lag bound alone.
			default:
				logger(p.ctx).WarnContext(p.ctx, "no read-after position for a write's answer", "err", err, "request_id", requestID(p.ctx))
			}
		}
	}
	p.ResponseWriter.WriteHeader(status)
}

func (p *positionWriter) Write(b []byte) (int, error) {
	if !p.done {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

func (p *positionWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
