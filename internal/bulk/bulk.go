// Package bulk reads and writes the catalog's bulk file layouts: JSONL (one product per line,
// the JSON of POST /products) and CSV (one row per variant, grouped into products by a
// handle). Readers stream: they hold one product at a time, and a line or row over its limit is
// an error for that line, never an allocation of its size.
package bulk

import (
	"errors"
	"fmt"
	"io"

	"github.com/acme/catalog/internal/catalog"
)

// Format is a bulk file layout.
type Format string

// Formats.
const (
	JSONL Format = "jsonl"
	CSV   Format = "csv"
)

// Media types of the formats, as POST /imports and GET /exports speak them.
const (
	MediaJSONL = "application/x-ndjson"
	MediaCSV   = "text/csv"
)

// Limits.
const (
	// MaxLineBytes bounds one JSONL line: the body limit of POST /products, so a line is never
	// bigger than the request that creates the same product.
	MaxLineBytes = 1 << 20
	// MaxRowBytes bounds one CSV record (quoted newlines included).
	MaxRowBytes = 64 << 10
	// MaxProductBytes bounds the CSV rows of one product together, so 2,048 long rows cannot
	// make one product cost 2,048 times a row.
	MaxProductBytes = 4 << 20
	// MaxColumns bounds the CSV header.
	MaxColumns = 512
)

// Record is one product read from a file.
type Record struct {
	// Line is the file line the product starts on (1-based).
	Line    int
	Product catalog.ProductInput
}

// LineError is one problem with one line of a file: the field at fault and the rule it breaks.
type LineError struct {
	Line  int    `json:"line"`
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

func (e LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Rule)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Rule)
}

// RecordError says a record could not be read or is invalid. Reading may go on with the next
// record: the reader has skipped this one whole.
type RecordError struct {
	Line     int
	Problems []LineError
	// Fatal says nothing after it can be read (a CSV header that cannot be used).
	Fatal bool
}

func (e *RecordError) Error() string {
	if len(e.Problems) == 0 {
		return fmt.Sprintf("line %d: invalid", e.Line)
	}
	s := e.Problems[0].Error()
	if len(e.Problems) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(e.Problems)-1)
	}
	return s
}

// Reader yields the products of a file one at a time. Next returns io.EOF at the end, a
// *RecordError for a record that is skipped (reading may continue), and any other error when
// the file cannot be read further.
type Reader interface {
	Next() (Record, error)
	// Lines is the number of file lines read so far.
	Lines() int
}

// NewReader returns the reader of format f over r. attrs types CSV attribute cells (nil: every
// value is text); JSONL carries its own types.
func NewReader(f Format, r io.Reader, attrs AttributeTypes) (Reader, error) {
	switch f {
	case JSONL:
		return NewJSONLReader(r), nil
	case CSV:
		return NewCSVReader(r, attrs), nil
	}
	return nil, fmt.Errorf("bulk: unknown format %q", f)
}

// FormatOf returns the format of a media type (parameters already stripped).
func FormatOf(mediaType string) (Format, bool) {
	switch mediaType {
	case MediaJSONL, "application/jsonl", "application/json-seq":
		return JSONL, mediaType != "application/json-seq"
	case MediaCSV:
		return CSV, true
	}
	return "", false
}

// AttributeTypes returns the type of a defined attribute key, for typing CSV cells.
type AttributeTypes func(key string) (catalog.AttributeType, bool)

// TypesOf returns the AttributeTypes of definitions.
func TypesOf(defs []catalog.AttributeDefinition) AttributeTypes {
	m := make(map[string]catalog.AttributeType, len(defs))
	for _, d := range defs {
		m[d.Key] = d.Type
	}
	return func(k string) (catalog.AttributeType, bool) { t, ok := m[k]; return t, ok }
}

// validate normalizes and validates p as POST /products does, adding the problems at line.
func validate(line int, p *catalog.ProductInput) []LineError {
	p.Normalize()
	return problemsOf(line, p.Validate())
}

// problemsOf turns an error into line errors: one per field of a *catalog.Error.
func problemsOf(line int, err error) []LineError {
	if err == nil {
		return nil
	}
	var ce *catalog.Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		out := make([]LineError, len(ce.Fields))
		for i, f := range ce.Fields {
			out[i] = LineError{Line: line, Field: f.Field, Rule: f.Problem}
		}
		return out
	}
	if errors.As(err, &ce) {
		return []LineError{{Line: line, Rule: ce.Message}}
	}
	return []LineError{{Line: line, Rule: err.Error()}}
}

// lineReader reads lines (or CSV records) of at most max bytes from r, counting lines. A longer
// one is skipped to its end without being kept.
type lineReader struct {
	r    io.Reader
	buf  []byte // read-ahead
	pos  int
	end  int
	line int  // lines consumed
	csv  bool // a newline inside double quotes does not end a record
	eof  bool
	err  error
	out  []byte
	max  int
	long bool
}

func newLineReader(r io.Reader, max int, csv bool) *lineReader {
	return &lineReader{r: r, buf: make([]byte, 64<<10), max: max, csv: csv}
}

var errLineTooLong = errors.New("too long")

// next returns the next record without its line ending, the line it starts on, and
// errLineTooLong (with the record skipped) when it is over the limit; io.EOF at the end. The
// returned slice is valid until the next call.
func (lr *lineReader) next() ([]byte, int, error) {
	lr.out, lr.long = lr.out[:0], false
	start := lr.line + 1
	quoted := false
	started := false
	for {
		if lr.pos == lr.end {
			if lr.eof {
				if lr.err != nil {
					return nil, start, lr.err
				}
				if !started {
					return nil, start, io.EOF
				}
				lr.line++
				return lr.finish(start)
			}
			n, err := lr.r.Read(lr.buf)
			lr.pos, lr.end = 0, n
			if err == io.EOF {
				lr.eof = true
			} else if err != nil {
				lr.eof, lr.err = true, err
			}
			continue
		}
		started = true
		chunk := lr.buf[lr.pos:lr.end]
		i := 0
		for ; i < len(chunk); i++ {
			c := chunk[i]
			if c == '"' && lr.csv {
				quoted = !quoted
			} else if c == '\n' {
				lr.line++
				if !quoted {
					break
				}
			}
		}
		take := chunk[:min(i, len(chunk))]
		if !lr.long {
			if len(lr.out)+len(take) > lr.max {
				lr.long, lr.out = true, lr.out[:0]
			} else {
				lr.out = append(lr.out, take...)
			}
		}
		if i < len(chunk) { // found the end
			lr.pos += i + 1
			return lr.finish(start)
		}
		lr.pos = lr.end
	}
}

func (lr *lineReader) finish(start int) ([]byte, int, error) {
	if lr.long {
		return nil, start, errLineTooLong
	}
	out := lr.out
	if n := len(out); n > 0 && out[n-1] == '\r' {
		out = out[:n-1]
	}
	return out, start, nil
}
