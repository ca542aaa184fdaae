package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxBatchLines bounds the lines of one batch update.
const MaxBatchLines = 1000

// StockLine is one line of a stock batch: an adjustment of the variant with SKU.
type StockLine struct {
	SKU string `json:"sku"`
	Adjustment
}

// PriceLine is one line of a price batch: a price change of the variant with SKU (now,
// scheduled, or a sale window, as PUT .../prices/{currency} takes it).
type PriceLine struct {
	SKU string `json:"sku"`
	PriceChange
}

// Batcher applies batches of stock and price changes by SKU, each batch all or nothing in one
// transaction, taking its locks in the order of ADR 0006 so two overlapping batches queue
// instead of deadlocking. A line naming an unknown SKU, or one the current state refuses,
// refuses the whole batch with a BatchRefused error naming every such line.
type Batcher interface {
	// AdjustStockBatch applies every adjustment, one movement (and one stock event) per line;
	// idem replays the first answer for a repeated key.
	AdjustStockBatch(ctx context.Context, lines []StockLine, actor string, idem *Idempotency) ([]Movement, error)
	// SetPriceBatch sets, schedules or opens a sale window for every line, as SetPrice does
	// each (one history line and one price event per line), and returns each line's history
	// line with its product; idem as above.
	SetPriceBatch(ctx context.Context, lines []PriceLine, actor string, idem *Idempotency) ([]PriceEvent, error)
}

// batchProblems collects a batch's field errors, every line's, unlike Problems, which stops at
// MaxProblems: a client fixing a 1,000-line file needs each bad line at once. At most a few
// problems per line, so the list stays bounded by MaxBatchLines.
type batchProblems []FieldError

func (p *batchProblems) add(i int, field, format string, args ...any) {
	*p = append(*p, FieldError{Field: fmt.Sprintf("lines[%d].%s", i, field), Problem: fmt.Sprintf(format, args...)})
}

// lineProblems adds err's fields (from validating line i alone) under lines[i].
func (p *batchProblems) lineProblems(i int, err error) {
	e, ok := err.(*Error)
	if !ok {
		return
	}
	for _, f := range e.Fields {
		p.add(i, f.Field, "%s", f.Problem)
	}
}

func (p batchProblems) err(code Code, what string) error {
	if len(p) == 0 {
		return nil
	}
	lines := map[string]bool{}
	for _, f := range p {
		line, _, _ := strings.Cut(f.Field, ".")
		lines[line] = true
	}
	return &Error{Code: code, Message: fmt.Sprintf("%d of the batch's lines %s; nothing was changed", len(lines), what), Fields: p}
}

// checkBatchSize refuses an empty batch or one over MaxBatchLines.
func checkBatchSize(n int) error {
	if n == 0 || n > MaxBatchLines {
		return InvalidField("lines", "must hold 1 to %d lines (there are %d)", MaxBatchLines, n)
	}
	return nil
}

// checkSKUs refuses malformed SKUs and repeated lines: the same SKU (in any case: SKUs are
// unique ignoring case) and, for prices, the same currency, so each line is one change.
func checkSKUs(p *batchProblems, skus, currencies []string) {
	first := map[string]int{}
	for i, sku := range skus {
		if !ValidSKU(sku) {
			p.add(i, "sku", "must be a SKU: 3-64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
			continue
		}
		k, what := strings.ToLower(sku), "SKU"
		if currencies != nil {
			k, what = k+" "+currencies[i], "SKU and currency"
		}
		if j, ok := first[k]; ok {
			p.add(i, "sku", "repeats lines[%d]: one line per %s", j, what)
			continue
		}
		first[k] = i
	}
}

// ValidateStockLines checks a stock batch before any store sees it: an invalid one answers
// invalid, naming every bad line.
func ValidateStockLines(lines []StockLine) error {
	if err := checkBatchSize(len(lines)); err != nil {
		return err
	}
	var p batchProblems
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
		p.lineProblems(i, l.Adjustment.Validate())
	}
	checkSKUs(&p, skus, nil)
	return p.err(CodeInvalid, "are invalid")
}

// ValidatePriceLines checks a price batch against now (the store's clock, inside its
// transaction), as ValidateStockLines does.
func ValidatePriceLines(lines []PriceLine, now time.Time) error {
	if err := checkBatchSize(len(lines)); err != nil {
		return err
	}
	var p batchProblems
	skus, currencies := make([]string, len(lines)), make([]string, len(lines))
	for i, l := range lines {
		skus[i], currencies[i] = l.SKU, l.Currency
		p.lineProblems(i, l.PriceChange.Validate(now))
	}
	checkSKUs(&p, skus, currencies)
	return p.err(CodeInvalid, "are invalid")
}

// BatchRefused is the answer to a well-formed batch the catalog refuses: problems name each
// line (unknown SKUs, stock that would go negative, a sale window without a price to revert to).
func BatchRefused(problems []FieldError) error {
	p := batchProblems(problems)
	return p.err(CodeUnprocessable, "cannot be applied")
}

// BatchInvalid is the answer to a batch with malformed lines: problems (found in several
// passes) ordered by line, every one listed.
func BatchInvalid(problems []FieldError) error {
	p := batchProblems(slices.Clone(problems))
	slices.SortStableFunc(p, func(a, b FieldError) int { return cmp.Compare(lineOf(a.Field), lineOf(b.Field)) })
	return p.err(CodeInvalid, "are invalid")
}

// lineOf is the line index a batch field names ("lines[12].sku" is 12), -1 for another field.
func lineOf(field string) int {
	rest, ok := strings.CutPrefix(field, "lines[")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, ']'), 0)])
	if err != nil {
		return -1
	}
	return n
}

// BatchLineProblem is the problem of line i's field, for BatchRefused.
func BatchLineProblem(i int, field, format string, args ...any) FieldError {
	var p batchProblems
	p.add(i, field, format, args...)
	return p[0]
}

// BatchLineErrors returns the problems of a rule the single path also applies (CheckStockLeft,
// CheckSaleWindow), as line i's, so a batch line and a single write say the same thing; ok is
// false for an error naming no field (not a rule's answer: return it as it is).
func BatchLineErrors(i int, err error) (problems []FieldError, ok bool) {
	e, isErr := err.(*Error)
	if !isErr || len(e.Fields) == 0 {
		return nil, false
	}
	var p batchProblems
	for _, f := range e.Fields {
		p.add(i, f.Field, "%s", f.Problem)
	}
	return p, true
}
