package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/acme/catalog/internal/catalog"
)

// errorBody is the one error shape every 4xx and 5xx response has.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string               `json:"code"`
	Message   string               `json:"message"`
	Fields    []catalog.FieldError `json:"fields,omitempty"`
	Shortages []catalog.Shortage   `json:"shortages,omitempty"`
	// MissingScopes names the scopes of which a 403's key needed one.
	MissingScopes []string `json:"missing_scopes,omitempty"`
	RequestID     string   `json:"request_id,omitempty"`
}

// Codes the HTTP layer adds to the domain's.
const (
	codeUnauthorized     = "unauthorized"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "request_too_large"
	codeMediaType        = "unsupported_media_type"
	codeTimeout          = "request_timeout"
	codeHeaderTooLarge   = "header_too_large"
)

// statusOf maps a domain error code to its HTTP status. The mapping is total: an unknown code is
// a bug, reported as 500.
func statusOf(code catalog.Code) int {
	switch code {
	case catalog.CodeInvalid:
		return http.StatusBadRequest
	case catalog.CodeNotFound:
		return http.StatusNotFound
	case catalog.CodeConflict, catalog.CodeInsufficientStock, catalog.CodePurchaseLimit:
		return http.StatusConflict
	case catalog.CodePreconditionFailed:
		return http.StatusPreconditionFailed
	case catalog.CodeIdempotencyMismatch, catalog.CodeUnprocessable:
		return http.StatusUnprocessableEntity
	case catalog.CodeUnavailable:
		return http.StatusServiceUnavailable
	case catalog.CodeGone:
		return http.StatusGone
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers with err as the JSON error shape. Internal details stay in the log.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads this answer and nothing is wrong with the server.
		logger(r.Context()).DebugContext(r.Context(), "client gone", "request_id", requestID(r.Context()))
		w.WriteHeader(499) // nginx's "client closed request", for the access log
		return
	}
	var e *catalog.Error
	if !errors.As(err, &e) {
		e = catalog.Wrap(catalog.CodeInternal, err, "")
	}
	status := statusOf(e.Code)
	msg := e.Message
	switch {
	case status == http.StatusInternalServerError:
		msg = "an unexpected error occurred; it has been logged with the request ID"
		logger(r.Context()).ErrorContext(r.Context(), "request failed", "err", err, "request_id", requestID(r.Context()))
	case e.Code == catalog.CodeUnavailable:
		w.Header().Set("Retry-After", "1")
		logger(r.Context()).WarnContext(r.Context(), "store unavailable", "err", err, "request_id", requestID(r.Context()))
	}
	if msg == "" {
		msg = string(e.Code)
	}
	writeProblem(w, r, status, errorDetail{Code: string(e.Code), Message: msg, Fields: e.Fields, Shortages: e.Shortages})
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, d errorDetail) {
	d.RequestID = requestID(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, errorBody{Error: d})
}

func problem(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeProblem(w, r, status, errorDetail{Code: code, Message: message})
}
