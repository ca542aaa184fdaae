package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
)

// Export limits.
const (
	// MaxConcurrentExports bounds the exports served at once: each holds a database connection
	// and a snapshot for its whole length. Others get 503 with Retry-After.
	MaxConcurrentExports = 2
	// ExportTimeout bounds one export, instead of the request deadline, which a whole catalog
	// outlasts (100k products take tens of seconds).
	ExportTimeout = time.Hour
	// exportWriteTimeout bounds each write to the client: one that stops reading is cut off
	// and its snapshot released, instead of holding them until ExportTimeout.
	exportWriteTimeout = 30 * time.Second
	// exportFlushBytes is how much is buffered between writes to the connection.
	exportFlushBytes = 64 << 10
)

// ExportCursorHeader carries the change-feed cursor of an export's snapshot.
const ExportCursorHeader = "Catalog-Feed-Cursor"

// ExportCountTrailer is the trailer of a complete CSV export: the products it holds. A CSV
// export cut short has none (and no last chunk).
const ExportCountTrailer = "Catalog-Export-Count"

// exportContentType is JSON Lines (one JSON value per line), as NDJSON is registered.
const exportContentType = "application/x-ndjson"

// exportParams are the query parameters GET /exports takes besides the list filters.
var exportParams = []string{"format"}

// exportStart is the first line of an export: the feed cursor its snapshot corresponds to.
type exportStart struct {
	Cursor int64 `json:"cursor"`
}

// exportEnd is the last line of a complete export. Its absence marks a truncated one.
type exportEnd struct {
	End    bool  `json:"end"`
	Count  int64 `json:"count"`
	Cursor int64 `json:"cursor"`
}

// exportFailure is the last line of an export that failed after its first line was sent.
type exportFailure struct {
	Error errorDetail `json:"error"`
}

// exportProducts streams GET /exports from one store snapshot (ADR 0020). JSON Lines: a
// {"cursor":N} line, one product per line (the JSON of GET /products/{id}), then
// {"end":true,"count":N,"cursor":N}. CSV: the import layout (internal/bulk), its header first,
// a row per variant, the count in the Catalog-Export-Count trailer. N, also in the
// Catalog-Feed-Cursor header, is the feed cursor to follow GET /events from afterwards.
func (s *Server) exportProducts(w http.ResponseWriter, r *http.Request) {
	q, format, err := parseExportQuery(r, func(key string) (catalog.AttributeDefinition, error) {
		return s.store.Attribute(r.Context(), key)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	select {
	case s.exportSlots <- struct{}{}:
		defer func() { <-s.exportSlots }()
	default:
		writeError(w, r, catalog.Errorf(catalog.CodeUnavailable, "%d exports are already running; retry when one has finished", MaxConcurrentExports))
		return
	}
	// The export outlives the request deadline; a client that goes away is noticed by the next
	// write failing, which ends the export.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), ExportTimeout)
	defer cancel()
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, exportFlushBytes)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var cw *bulk.CSVWriter
	flush := func() error {
		if cw != nil {
			if err := cw.Flush(); err != nil {
				return err
			}
		}
		// Best effort: a writer without deadlines keeps the server's.
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	var (
		started bool
		cursor  int64
		count   int64
	)
	begin := func(head catalog.ExportHead) error {
		started, cursor = true, head.Cursor
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set(ExportCursorHeader, strconv.FormatInt(head.Cursor, 10))
		if format == bulk.CSV {
			h.Set("Content-Type", bulk.MediaCSV+"; charset=utf-8")
			h.Set("Trailer", ExportCountTrailer)
		} else {
			h.Set("Content-Type", exportContentType)
		}
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return errHeadOnly
		}
		if format == bulk.CSV {
			// Every option, attribute and currency of the snapshot gets its column, so each
			// product's rows fit the header written before them.
			cw = bulk.NewCSVWriter(bw, bulk.CSVColumns{Options: head.Options, Attributes: head.Attributes,
				VariantAttributes: head.Attributes, Currencies: head.Currencies, CompareAt: head.CompareAt})
			return flush()
		}
		if err := enc.Encode(exportStart{Cursor: head.Cursor}); err != nil {
			return err
		}
		return flush()
	}
	each := func(p catalog.Product) error {
		var err error
		if cw != nil {
			err = cw.Write(p.ID, p.FullInput())
		} else {
			err = enc.Encode(p)
		}
		if err != nil {
			return err
		}
		count++
		if bw.Buffered() >= exportFlushBytes/2 {
			return flush()
		}
		return nil
	}
	err = s.store.Export(ctx, catalog.ExportQuery{Filter: q.Filter, Columns: format == bulk.CSV}, begin, each)
	switch {
	case !started:
		writeError(w, r, err)
	case errors.Is(err, errHeadOnly):
	case err == nil && cw != nil:
		if flush() == nil {
			w.Header().Set(ExportCountTrailer, strconv.FormatInt(count, 10))
		}
	case err == nil:
		if err := enc.Encode(exportEnd{End: true, Count: count, Cursor: cursor}); err == nil {
			_ = flush()
		}
	default:
		logger(r.Context()).ErrorContext(r.Context(), "export failed", "err", err, "products", count, "request_id", requestID(r.Context()))
		if cw != nil {
			// A CSV file has no room for an error row: the response is cut off without its
			// last chunk (and without the count trailer), which every HTTP client reports as
			// an incomplete body.
			panic(http.ErrAbortHandler)
		}
		// The status is sent: the failure goes in a last line, and the missing end line tells
		// the client the export is incomplete.
		var e *catalog.Error
		if !errors.As(err, &e) {
			e = catalog.Wrap(catalog.CodeInternal, err, "")
		}
		msg := e.Message
		if statusOf(e.Code) == http.StatusInternalServerError || msg == "" {
			msg = "the export failed part-way; it has been logged with the request ID"
		}
		if err := enc.Encode(exportFailure{Error: errorDetail{Code: string(e.Code), Message: msg, RequestID: requestID(r.Context())}}); err == nil {
			_ = flush()
		}
	}
}

// errHeadOnly stops the export of a HEAD request once the headers are known.
var errHeadOnly = errors.New("head: headers only")

// parseExportQuery reads GET /exports' parameters: the list filters (not the page's: sort,
// limit, cursor, total, fields, facets) and format. Without status every status is exported:
// an export is a back-office copy of the catalog.
func parseExportQuery(r *http.Request, attr func(key string) (catalog.AttributeDefinition, error)) (catalog.ExportQuery, bulk.Format, error) {
	v, err := queryValues(r)
	if err != nil {
		return catalog.ExportQuery{}, "", err
	}
	var p catalog.Problems
	known := []string{"format"}
	for _, name := range listParams {
		switch name {
		case "sort", "limit", "cursor", "total", "fields", "facets":
		default:
			known = append(known, name)
		}
	}
	for name := range v {
		if !strings.HasPrefix(name, attrPrefix) && !slices.Contains(known, name) {
			p.Add(name, "is not a known query parameter (known: %s, attr.<key>)", strings.Join(known, ", "))
		}
	}
	format := bulk.JSONL
	switch f := v.Get("format"); f {
	case "", "jsonl":
	case "csv":
		format = bulk.CSV
	default:
		p.Add("format", "must be jsonl or csv")
	}
	if err := p.Err(); err != nil {
		return catalog.ExportQuery{}, "", err
	}
	for _, name := range exportParams {
		v.Del(name)
	}
	if !v.Has("status") {
		v.Set("status", "all")
	}
	lq, err := ParseListQuery(v, attr)
	if err != nil {
		return catalog.ExportQuery{}, "", err
	}
	return catalog.ExportQuery{Filter: lq.Filter}, format, nil
}
