package bulk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/acme/catalog/internal/catalog"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// JSONLReader reads one product per line: the JSON of POST /products, variants included.
// Blank lines are skipped.
type JSONLReader struct {
	lr *lineReader
}

// NewJSONLReader returns a reader of the JSONL layout over r.
func NewJSONLReader(r io.Reader) *JSONLReader {
	return &JSONLReader{lr: newLineReader(r, MaxLineBytes, false)}
}

var jsonOptions = []jsonv2.Options{jsonv2.RejectUnknownMembers(true)}

// Lines is the number of lines read so far.
func (j *JSONLReader) Lines() int { return j.lr.line }

// Next returns the next product.
func (j *JSONLReader) Next() (Record, error) {
	for {
		b, line, err := j.lr.next()
		switch {
		case errors.Is(err, errLineTooLong):
			return Record{Line: line}, &RecordError{Line: line, Problems: []LineError{{Line: line,
				Rule: fmt.Sprintf("is longer than %d bytes", MaxLineBytes)}}}
		case err != nil:
			return Record{}, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		rec := Record{Line: line}
		if err := jsonv2.Unmarshal(b, &rec.Product, jsonOptions...); err != nil {
			skip, err := exportLine(b, &rec, err)
			if skip {
				continue
			}
			if err != nil {
				return rec, &RecordError{Line: line, Problems: []LineError{{Line: line, Field: jsonField(err), Rule: jsonRule(err)}}}
			}
		}
		if p := validate(line, &rec.Product); p != nil {
			return rec, &RecordError{Line: line, Problems: p}
		}
		return rec, nil
	}
}

// exportFrame is a line of GET /exports that carries no product: the cursor first, the end
// last, or the error that cut the export off.
type exportFrame struct {
	Cursor *int64         `json:"cursor"`
	End    *bool          `json:"end"`
	Count  *int64         `json:"count"`
	Error  jsontext.Value `json:"error"`
}

// readOnly are the members of a product as a read returns it that a product input does not
// have: their presence says the line comes from an export.
var readOnly = map[string]bool{"id": true, "version": true, "created_at": true, "updated_at": true, "variant_count": true,
	"price_ranges": true, "availability": true}

// exportLine reads b, which is not a product input (inputErr says why), as a line of an
// export (GET /exports), so an export imports back: its cursor and end lines are skipped; a
// product as a read returns it becomes its input (catalog.Product.FullInput: IDs, versions and
// times are ignored, SKUs match, stock on hand is a new variant's initial stock); its error
// line means the export was cut off. Anything else keeps inputErr.
func exportLine(b []byte, rec *Record, inputErr error) (skip bool, err error) {
	var f exportFrame
	if jsonv2.Unmarshal(b, &f, jsonOptions...) == nil {
		switch {
		case f.Error != nil:
			return false, errCutExport
		case f.Cursor != nil || f.End != nil:
			return true, nil
		}
	}
	if !readOnly[jsonField(inputErr)] {
		return false, inputErr
	}
	var p catalog.Product
	if err := jsonv2.Unmarshal(b, &p, jsonOptions...); err != nil {
		return false, err
	}
	rec.Product = p.FullInput()
	return false, nil
}

// errCutExport is an export's error line: the export stopped before its end.
var errCutExport = errors.New("cut export")

// jsonField names the member a decoding error is about, as validation names fields.
func jsonField(err error) string {
	var sem *jsonv2.SemanticError
	if errors.As(err, &sem) && sem.JSONPointer != "" {
		return pointerField(sem.JSONPointer)
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) && syn.JSONPointer != "" {
		return pointerField(syn.JSONPointer)
	}
	return ""
}

func jsonRule(err error) string {
	var sem *jsonv2.SemanticError
	switch {
	case errors.Is(err, errCutExport):
		return "is the error line of an export that stopped before its end: export again and import the complete file"
	case errors.Is(err, jsonv2.ErrUnknownName):
		return "is not a known field (names are case-sensitive)"
	case errors.Is(err, jsontext.ErrDuplicateName):
		return "appears more than once"
	case errors.As(err, &sem) && sem.GoType != nil:
		return fmt.Sprintf("must be a JSON value of type %s", sem.GoType.Kind())
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return fmt.Sprintf("is not valid JSON (at byte %d)", syn.ByteOffset)
	}
	return "is not a JSON product"
}

// pointerField writes a JSON pointer as "variants[0].sku"; names are cut at 64 bytes so a
// hostile member name cannot make the report large.
func pointerField(p jsontext.Pointer) string {
	var b []byte
	for tok := range p.Tokens() {
		if len(tok) > 64 {
			tok = tok[:64]
		}
		if isIndex(tok) {
			b = append(b, '[')
			b = append(b, tok...)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, tok...)
	}
	return printable(string(b))
}

// printable returns s, or s quoted in ASCII when it holds anything but printable ASCII, so a
// report never carries control characters or invalid UTF-8 from a file.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

func isIndex(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
