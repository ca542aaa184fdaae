package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Importer applies bulk imports: products upserted by SKU in batches, and the jobs that
// follow an upload from spool to report (ADR 0019).
type Importer interface {
	// UpsertProducts applies items in one transaction. A product none of whose SKUs exists is
	// created; one whose SKUs all belong to one existing product (or some do and the rest are
	// new) updates that product: its own fields are replaced, its variants named by SKU are
	// replaced (fields and prices; stock is left alone), new SKUs are added as variants, and
	// variants the line does not name are kept. A line whose SKUs belong to two different
	// products, or that repeats a SKU of an earlier line of the batch, or that the store
	// refuses (unknown category, undefined attribute, a removed option value in use, ...) is
	// reported in Problems and skipped; the rest apply. With dryRun the transaction is rolled
	// back: the result says what would happen and nothing is written.
	UpsertProducts(ctx context.Context, items []ImportItem, dryRun bool) (ImportResult, error)

	// CreateImportJob records a queued job. With an idempotency key already used by the same
	// actor it returns that job and created false (CodeIdempotencyMismatch when the upload's
	// digest differs).
	CreateImportJob(ctx context.Context, in ImportJobInput) (job ImportJob, created bool, err error)
	// ImportJob returns a job by ID.
	ImportJob(ctx context.Context, id string) (ImportJob, error)
	// SaveImportJob stores a job's state, counts and errors, and moves its heartbeat.
	SaveImportJob(ctx context.Context, job ImportJob) error
	// FailStaleImportJobs marks failed every unfinished job whose heartbeat is older than
	// before (its instance stopped mid-way), with reason, and returns how many it marked.
	FailStaleImportJobs(ctx context.Context, before time.Time, reason string) (int, error)
	// PurgeImportJobs deletes at most limit finished jobs (succeeded or failed) that finished
	// longer than retention ago, oldest first, and returns how many. Their idempotency keys
	// are free again.
	PurgeImportJobs(ctx context.Context, retention time.Duration, limit int) (int, error)
}

// whenHeld is the context key of WhenHeld.
type whenHeld struct{}

// WhenHeld marks ctx for UpsertProducts: the store calls held (through Held) once the batch
// holds the locks of every existing product it may write and before it writes any, or not at
// all. From then another batch that names none of this batch's SKUs commutes with it: it waits
// for every product both write, and it cannot meet this batch's new SKUs. The importer starts
// such a batch beside this one then, so update batches run side by side (ADR 0026). held may
// be called again if the store retries the transaction; it must be idempotent.
func WhenHeld(ctx context.Context, held func()) context.Context {
	return context.WithValue(ctx, whenHeld{}, held)
}

// Held tells ctx's WhenHeld function, if any, that the batch holds its locks.
func Held(ctx context.Context) {
	if held, ok := ctx.Value(whenHeld{}).(func()); ok {
		held()
	}
}

// DefaultImportJobRetention is how long a finished import job (its report) is kept.
const DefaultImportJobRetention = 7 * 24 * time.Hour

// ImportItem is one product of an import and the file line it starts on.
type ImportItem struct {
	Line    int
	Product ProductInput
	// Checked says Product is already normalized and valid as it stands (Normalize and
	// Validate were run on it and changed nothing since), so CheckImportBatch does not run
	// them again. Only the importer sets it, for what a bulk reader returned (the readers run
	// both) and what it reads back from its own parsed spool; nothing decoded from a client can
	// set it (json:"-").
	Checked bool `json:"-"`
}

// ImportProblem is one refused line: the field at fault and the rule it breaks.
type ImportProblem struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	Rule  string `json:"rule"`
}

// ImportResult is what one batch did (or, in a dry run, would do).
type ImportResult struct {
	Created, Updated int
	// Unchanged counts lines that matched a product exactly: nothing was written for them (no
	// version, no event).
	Unchanged int
	Problems  []ImportProblem
}

// ImportChanges reports whether a line in would change cur (with its variants) under the
// upsert rules: its own fields, or a variant it names (SKU spelling, options, fields, prices),
// or a SKU cur does not have yet. A file loaded twice writes nothing the second time.
func ImportChanges(cur Product, in ProductInput) bool {
	if !cur.Input().Same(in) {
		return true
	}
	for _, v := range in.Variants {
		i := slices.IndexFunc(cur.Variants, func(c Variant) bool { return strings.EqualFold(c.SKU, v.SKU) })
		if i < 0 {
			return true
		}
		c := cur.Variants[i]
		if c.SKU != v.SKU || !maps.Equal(c.Options, v.Options) && (len(c.Options) > 0 || len(v.Options) > 0) ||
			c.Barcode != v.Barcode || !sameWeight(c.WeightGrams, v.WeightGrams) || !c.Attributes.Equal(v.Attributes) ||
			c.Image != v.Image || c.PurchaseLimit != v.PurchaseLimit || len(c.Prices) != len(v.Prices) {
			return true
		}
		for _, p := range v.Prices {
			cp, ok := c.Price(p.Currency)
			if !ok || cp.Amount != p.Amount || !sameWeight(cp.CompareAt, p.CompareAt) {
				return true
			}
		}
	}
	return false
}

func sameWeight(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// ImportProblemsOf turns err (a *Error with fields, or any error) into problems of line.
func ImportProblemsOf(line int, err error) []ImportProblem {
	var e *Error
	if !errors.As(err, &e) {
		return []ImportProblem{{Line: line, Rule: "cannot be applied"}}
	}
	if len(e.Fields) == 0 {
		return []ImportProblem{{Line: line, Rule: e.Message}}
	}
	out := make([]ImportProblem, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = ImportProblem{Line: line, Field: f.Field, Rule: f.Problem}
	}
	return out
}

// ImportState is where a job is.
type ImportState string

// Import job states: queued (spooled, waiting for the worker), validating (reading the whole
// file and checking every line, writing nothing), running (applying batches), then
// succeeded or failed.
const (
	ImportQueued     ImportState = "queued"
	ImportValidating ImportState = "validating"
	ImportRunning    ImportState = "running"
	ImportSucceeded  ImportState = "succeeded"
	ImportFailed     ImportState = "failed"
)

// Finished reports whether the job will not change any more.
func (s ImportState) Finished() bool { return s == ImportSucceeded || s == ImportFailed }

// MaxImportErrors bounds the per-line errors a job keeps (the first ones); the failed count
// goes on counting.
const MaxImportErrors = 100

// ImportJobInput is a new job.
type ImportJobInput struct {
	Format         string
	DryRun         bool
	Partial        bool
	IdempotencyKey string
	// Digest identifies the upload (SHA-256 of its bytes as received), so a key reused for
	// another file is refused.
	Digest string
	Bytes  int64
}

// ImportJob is an import from upload to report.
type ImportJob struct {
	ID      string      `json:"id"`
	State   ImportState `json:"state"`
	Format  string      `json:"format"`
	DryRun  bool        `json:"dry_run"`
	Partial bool        `json:"partial"`
	// Bytes is the size of the upload (decompressed).
	Bytes int64 `json:"bytes"`
	// Lines is the number of file lines read so far; Products the products among them.
	Lines    int64 `json:"lines"`
	Products int64 `json:"products"`
	Created  int64 `json:"created"`
	Updated  int64 `json:"updated"`
	// Unchanged counts products that matched the catalog exactly (nothing written).
	Unchanged int64 `json:"unchanged"`
	// Failed counts refused products (lines that start a product).
	Failed int64 `json:"failed"`
	// Errors holds the first MaxImportErrors problems, by line.
	Errors []ImportProblem `json:"errors"`
	// Reason says why a job failed as a whole.
	Reason     string     `json:"reason,omitempty"`
	Actor      string     `json:"actor"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`

	IdempotencyKey string `json:"-"`
	Digest         string `json:"-"`
}

// AddProblems adds problems, keeping the MaxImportErrors of the lowest lines (a batch's store
// problems arrive after the parse problems of later lines).
func (j *ImportJob) AddProblems(ps []ImportProblem) {
	if len(ps) == 0 {
		return
	}
	j.Errors = append(j.Errors, ps...)
	slices.SortStableFunc(j.Errors, func(a, b ImportProblem) int { return a.Line - b.Line })
	if len(j.Errors) > MaxImportErrors {
		j.Errors = j.Errors[:MaxImportErrors]
	}
}

// ErrImportJobNotFound is the error for an unknown job.
var ErrImportJobNotFound = &Error{Code: CodeNotFound, Message: "no such import job"}

// CreatedProduct returns the product a create of in writes, exactly as a read returns it:
// version 1, each variant's stock version 1, its initial stock on hand, no prior prices. Stores
// build the events of a batch of created products with it instead of reading each back.
// variantIDs are the variants' IDs in in.Variants' order; in is normalized.
func CreatedProduct(id string, in ProductInput, variantIDs []string, at time.Time) Product {
	p := Product{ID: id, Name: in.Name, Description: in.Description, Category: in.Category, Brand: in.Brand,
		Attributes: in.Attributes, Media: in.Media, Options: in.Options, Status: in.Status, Version: 1,
		CreatedAt: at, UpdatedAt: at}
	if p.Attributes == nil {
		p.Attributes = Attributes{}
	}
	if p.Media == nil {
		p.Media = []Media{}
	}
	if p.Options == nil {
		p.Options = []Option{}
	}
	p.Variants = make([]Variant, len(in.Variants))
	for j, vin := range in.Variants {
		v := Variant{ID: variantIDs[j], ProductID: id, SKU: vin.SKU, Options: maps.Clone(vin.Options), Position: j,
			Barcode: vin.Barcode, WeightGrams: vin.WeightGrams, Attributes: vin.Attributes, Image: vin.Image,
			PurchaseLimit: vin.PurchaseLimit, Prices: make([]Price, len(vin.Prices)), Stock: NewStock(vin.InitialStock, 0, 1),
			CreatedAt: at, UpdatedAt: at, ProductVersion: 1}
		if v.Options == nil {
			v.Options = map[string]string{}
		}
		if v.Attributes == nil {
			v.Attributes = Attributes{}
		}
		for k, pr := range vin.Prices {
			v.Prices[k] = Price{Currency: pr.Currency, Amount: pr.Amount, CompareAt: pr.CompareAt}
		}
		p.Variants[j] = v
		p.StockVersion += v.Stock.Version
	}
	p.Summarize()
	return p
}

// SameImport checks that in, sent with the idempotency key of job, is the same upload: the
// same key with another file or other options is refused.
func SameImport(job ImportJob, in ImportJobInput) error {
	if job.Digest != in.Digest || job.Format != in.Format || job.DryRun != in.DryRun || job.Partial != in.Partial {
		return &Error{Code: CodeIdempotencyMismatch, Message: "this Idempotency-Key was used for another upload",
			Fields: []FieldError{{Field: "Idempotency-Key", Problem: "was used for import " + job.ID + " with another file or options: use a new key"}}}
	}
	return nil
}

// CheckImportBatch normalizes and validates each item of a batch (in place) unless it is
// Checked, and refuses a line that repeats a SKU (any case) of an earlier line: a SKU is
// imported once per batch (this rule depends on the batch's bounds, so it runs for every
// item). valid says which items passed; problems are the refused lines', in batch order. Both
// stores run it before any lookup, so the rules are the same on both.
func CheckImportBatch(items []ImportItem) (valid []bool, problems []ImportProblem) {
	valid = make([]bool, len(items))
	firstLine := map[string]int{} // lower SKU -> line of the batch that has it
	for i := range items {
		in := &items[i].Product
		if !items[i].Checked {
			in.Normalize()
			if err := in.Validate(); err != nil {
				problems = append(problems, ImportProblemsOf(items[i].Line, err)...)
				continue
			}
		}
		var p Problems
		for j, v := range in.Variants {
			if l, ok := firstLine[strings.ToLower(v.SKU)]; ok {
				p.Add(fmt.Sprintf("variants[%d].sku", j), "%q is also on line %d of this batch: a SKU is imported once per batch", v.SKU, l)
			}
		}
		if err := p.Err(); err != nil {
			problems = append(problems, ImportProblemsOf(items[i].Line, err)...)
			continue
		}
		valid[i] = true
		for _, v := range in.Variants {
			firstLine[strings.ToLower(v.SKU)] = items[i].Line
		}
	}
	return valid, problems
}

// ImportOwner returns the existing product a line's SKUs belong to ("" when none exists),
// given owners (lower SKU -> product ID), or the error naming two SKUs of two different
// products: a line updates one product.
func ImportOwner(in ProductInput, owners map[string]string) (string, error) {
	pid, first := "", ""
	for j, v := range in.Variants {
		o, ok := owners[strings.ToLower(v.SKU)]
		if !ok {
			continue
		}
		if pid == "" {
			pid, first = o, fmt.Sprintf("variants[%d].sku", j)
			continue
		}
		if o != pid {
			return "", InvalidField(fmt.Sprintf("variants[%d].sku", j),
				"%q belongs to product %s, %s to product %s: a line updates one product", v.SKU, o, first, pid)
		}
	}
	return pid, nil
}

// ImportUpdate is what an import line does to the existing product it updates
// (PlanImportUpdate): both stores write it, and a dry run stops after planning it.
type ImportUpdate struct {
	// Matched holds, for each of the line's variants, the product's variant with that SKU (any
	// case), nil for a new SKU.
	Matched []*Variant
	// Kept are the product's variants the line does not name: they stay.
	Kept []Variant
	// Options are the kept variants' new option values after a change of options.
	Options OptionChange
	// Total is the number of variants after the update; Next the position of the first new one.
	Total, Next int
}

// PlanImportUpdate checks a line in against the product cur (with its variants) it updates and
// returns what the update writes, or the error that refuses the line. It holds every rule the
// write could break that ProductInput.Validate and the batch lookups do not (variant count,
// options required, removed option values in use, two variants on one combination, media a
// kept variant shows), so a validation pass that plans without writing means "the store would
// accept it now".
func PlanImportUpdate(cur Product, in ProductInput) (ImportUpdate, error) {
	var u ImportUpdate
	named := make(map[string]int, len(in.Variants))
	for j, v := range in.Variants {
		named[strings.ToLower(v.SKU)] = j
	}
	u.Matched = make([]*Variant, len(in.Variants))
	for i := range cur.Variants {
		u.Next = max(u.Next, cur.Variants[i].Position+1)
		if j, ok := named[strings.ToLower(cur.Variants[i].SKU)]; ok {
			u.Matched[j] = &cur.Variants[i]
		} else {
			u.Kept = append(u.Kept, cur.Variants[i])
		}
	}
	u.Total = len(u.Kept) + len(in.Variants)
	if u.Total > MaxVariants {
		return u, InvalidField("variants", "the product would have %d variants, at most %d", u.Total, MaxVariants)
	}
	if len(in.Options) == 0 && u.Total > 1 {
		return u, InvalidField("options", "are required: the product would have %d variants (%d not in this line)", u.Total, len(u.Kept))
	}
	var err error
	if u.Options, err = ReconcileOptions(in.Options, u.Kept); err != nil {
		return u, err
	}
	for _, v := range u.Kept {
		if v.Image != "" && !slices.ContainsFunc(in.Media, func(m Media) bool { return m.URL == v.Image }) {
			return u, InvalidField("media", "must keep %s: variant %s shows it", v.Image, v.SKU)
		}
	}
	if len(in.Options) > 0 {
		// A kept variant and a named one on one combination: the stores' unique index would
		// refuse the write, so the plan refuses the line first.
		combos := make(map[string]string, len(u.Kept))
		for _, v := range u.Kept {
			vals := v.Options
			if ch, ok := u.Options.Values[v.ID]; ok {
				vals = ch
			}
			combos[ComboKey(in.Options, vals)] = v.SKU
		}
		var p Problems
		for j, v := range in.Variants {
			if other, dup := combos[ComboKey(in.Options, v.Options)]; dup {
				p.Add(fmt.Sprintf("variants[%d].options", j), "the combination %s is also variant %s's, which this line keeps: each combination at most once",
					ComboKey(in.Options, v.Options), other)
			}
		}
		if err := p.Err(); err != nil {
			return u, err
		}
	}
	return u, nil
}

// VariantFieldsChange reports whether a line's variant in changes v's own fields (not its
// options or prices): only then does the store write the variant row.
func VariantFieldsChange(v Variant, in VariantInput) bool {
	return v.SKU != in.SKU || v.Barcode != in.Barcode || !sameWeight(v.WeightGrams, in.WeightGrams) || !v.Attributes.Equal(in.Attributes) ||
		v.Image != in.Image || v.PurchaseLimit != in.PurchaseLimit
}

// UpdatedProduct returns the product an update of cur (as read under its row lock) by the
// line in under plan pl leaves, exactly as a read returns it afterwards, so a store records the
// batch's catalog.product.updated events without reading the products back. freshIDs are the
// IDs of the line's new variants in order; prior is the prior price recorded with each price
// the line changes. A variant's updated_at moves when its own fields or options change; a
// changed price keeps no sale-window end.
func UpdatedProduct(cur Product, in ProductInput, pl ImportUpdate, freshIDs []string, prior func(variantID, currency string) *int64, at time.Time) Product {
	p := cur
	p.Name, p.Description, p.Category, p.Brand, p.Status = in.Name, in.Description, in.Category, in.Brand, in.Status
	p.Attributes, p.Media, p.Options = in.Attributes, in.Media, in.Options
	p.Version, p.UpdatedAt = cur.Version+1, at
	byID := make(map[string]int, len(cur.Variants))
	p.Variants = make([]Variant, len(cur.Variants), pl.Total)
	for i, v := range cur.Variants {
		v.ProductVersion = p.Version
		if vals, ok := pl.Options.Values[v.ID]; ok {
			v.Options, v.UpdatedAt = vals, at
		}
		p.Variants[i] = v
		byID[v.ID] = i
	}
	next, k := pl.Next, 0
	for j, vin := range in.Variants {
		m := pl.Matched[j]
		if m == nil {
			v := CreatedProduct(p.ID, ProductInput{Variants: []VariantInput{vin}}, freshIDs[k:k+1], at).Variants[0]
			v.Position, v.ProductVersion = next, p.Version
			p.Variants = append(p.Variants, v)
			p.StockVersion += v.Stock.Version
			next, k = next+1, k+1
			continue
		}
		v := &p.Variants[byID[m.ID]]
		if VariantFieldsChange(*m, vin) || !maps.Equal(m.Options, vin.Options) {
			v.UpdatedAt = at
		}
		v.SKU, v.Barcode, v.WeightGrams, v.Attributes, v.Image, v.PurchaseLimit = vin.SKU, vin.Barcode, vin.WeightGrams, vin.Attributes, vin.Image, vin.PurchaseLimit
		v.Options = maps.Clone(vin.Options)
		prices := make([]Price, len(vin.Prices))
		for i, pr := range vin.Prices {
			if old, ok := m.Price(pr.Currency); ok && old.Amount == pr.Amount && sameWeight(old.CompareAt, pr.CompareAt) {
				prices[i] = old
				continue
			}
			prices[i] = Price{Currency: pr.Currency, Amount: pr.Amount, CompareAt: pr.CompareAt, PriorPrice: prior(m.ID, pr.Currency)}
		}
		v.Prices = prices
	}
	p.Summarize()
	return p
}
