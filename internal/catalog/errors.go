// Package catalog is the domain of the product catalog: products, categories, prices, stock and
// reservations, their validation rules, the error codes every layer speaks, and the Store
// interface the storage adapters implement. It performs no I/O.
package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error. The set is closed: the HTTP layer maps each code to one status.
type Code string

// Error codes.
const (
	CodeInvalid             Code = "invalid"              // the request is wrong; fix it and retry
	CodeNotFound            Code = "not_found"            // no such product, category or reservation
	CodeConflict            Code = "conflict"             // the change clashes with current state
	CodeInsufficientStock   Code = "insufficient_stock"   // not enough available units
	CodePurchaseLimit       Code = "purchase_limit"       // more units of a variant than one reservation may hold
	CodePreconditionFailed  Code = "precondition_failed"  // the caller's version is stale
	CodeIdempotencyMismatch Code = "idempotency_mismatch" // an idempotency key reused for another request
	CodeUnprocessable       Code = "unprocessable"        // well-formed, but names things that do not exist or repeats them
	CodeGone                Code = "gone"                 // what was asked for existed but is no longer kept
	CodeUnavailable         Code = "unavailable"          // the store cannot be reached right now; retry later
	CodeInternal            Code = "internal"             // a bug or an unexpected failure
)

// FieldError names one problem with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Error is an error with a code and a message safe to show a client. Details that must not reach
// a client stay in Err, which is logged.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Shortages lists the lines a reservation could not satisfy (CodeInsufficientStock).
	Shortages []Shortage
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Problem)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error that carries err for the log and message for the client.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Problems collects field errors during validation.
type Problems []FieldError

// MaxProblems bounds the problems one request reports: a body with 200,000 bad image URLs must
// not cost 200,000 formatted messages and a response to match.
const MaxProblems = 20

// Add records a problem with field; past MaxProblems it records nothing.
func (p *Problems) Add(field, format string, args ...any) {
	if len(*p) >= MaxProblems {
		return
	}
	*p = append(*p, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, or an invalid-input *Error listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	msg := "the request has an invalid field"
	switch {
	case len(p) >= MaxProblems:
		msg = fmt.Sprintf("the request has at least %d invalid fields; only those are listed", len(p))
	case len(p) > 1:
		msg = fmt.Sprintf("the request has %d invalid fields", len(p))
	}
	return &Error{Code: CodeInvalid, Message: msg, Fields: p}
}

// InvalidField returns an invalid-input error for one field.
func InvalidField(field, format string, args ...any) error {
	var p Problems
	p.Add(field, format, args...)
	return p.Err()
}

// Shortage is a reservation line that could not be satisfied.
type Shortage struct {
	SKU       string `json:"sku"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"`
}

// Errors both stores return.
var (
	ErrProductNotFound     = Errorf(CodeNotFound, "product not found")
	ErrVariantNotFound     = Errorf(CodeNotFound, "variant not found")
	ErrAttributeNotFound   = Errorf(CodeNotFound, "attribute not found")
	ErrReservationNotFound = Errorf(CodeNotFound, "reservation not found")
)

// StaleVersion is the answer to a conditional write whose version is no longer current.
func StaleVersion(current, want int64) error {
	return Errorf(CodePreconditionFailed,
		"the product changed since you read it (your version %d, current %d): read it again and retry", want, current)
}
