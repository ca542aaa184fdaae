package httpapi

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
)

// UploadTimeout bounds reading an import's upload (and writing its answer): the connection's
// deadlines are moved for that request only, past the server's ReadTimeout and WriteTimeout.
const UploadTimeout = 30 * time.Minute

// isUpload reports whether r is an import upload, whose body may exceed MaxBodyBytes.
func isUpload(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/imports" }

// createImport spools an upload and answers 202 with the queued job and its Location; the
// job runs in the background (internal/importer).
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) {
	if s.imports == nil {
		writeError(w, r, catalog.Errorf(catalog.CodeUnavailable, "imports are not enabled on this instance"))
		return
	}
	q, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p catalog.Problems
	flag := func(name string) bool {
		switch q.Get(name) {
		case "", "false":
			return false
		case "true":
			return true
		}
		p.Add(name, "must be true or false")
		return false
	}
	up := importer.Upload{DryRun: flag("dry_run"), Partial: flag("partial"), IdempotencyKey: r.Header.Get("Idempotency-Key")}
	for name, vs := range q {
		if name != "dry_run" && name != "partial" {
			p.Add(name, "is not a known query parameter (known: dry_run, partial)")
		} else if len(vs) > 1 {
			p.Add(name, "must be given once")
		}
	}
	if up.IdempotencyKey != "" {
		if _, err := catalog.NewIdempotency(Actor(r.Context()), up.IdempotencyKey, "import", nil); err != nil {
			writeError(w, r, err)
			return
		}
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	format, ok := bulk.FormatOf(mt)
	if cs, has := params["charset"]; err != nil || !ok || (has && !strings.EqualFold(cs, "utf-8")) {
		problem(w, r, http.StatusUnsupportedMediaType, codeMediaType,
			fmt.Sprintf("an import is %s (JSON lines) or %s, in UTF-8", bulk.MediaJSONL, bulk.MediaCSV))
		return
	}
	up.Format = format
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		up.Gzip = true
	default:
		problem(w, r, http.StatusUnsupportedMediaType, codeMediaType, "Content-Encoding must be gzip or absent")
		return
	}
	if !up.Gzip && r.ContentLength > s.imports.MaxBytes() {
		w.Header().Set("Connection", "close")
		problem(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("an import is at most %d bytes", s.imports.MaxBytes()))
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(UploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(UploadTimeout))
	up.Body = r.Body
	// The request's deadline is for ordinary requests; an upload has UploadTimeout, and the
	// store calls after it their own bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), UploadTimeout)
	defer cancel()
	job, _, err := s.imports.Submit(ctx, up)
	switch {
	case errors.Is(err, importer.ErrTooLarge):
		w.Header().Set("Connection", "close")
		problem(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("an import is at most %d bytes (decompressed)", s.imports.MaxBytes()))
		return
	case errors.Is(err, importer.ErrBusy):
		w.Header().Set("Retry-After", "30")
		problem(w, r, http.StatusServiceUnavailable, string(catalog.CodeUnavailable), "this instance has as many imports waiting as it takes; retry later")
		return
	case err != nil:
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/imports/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	job, err := s.store.ImportJob(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !job.State.Finished() {
		w.Header().Set("Retry-After", "1") // a polling client's pace
	}
	writeJSON(w, http.StatusOK, job)
}
