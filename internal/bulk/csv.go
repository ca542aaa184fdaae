package bulk

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// CSV columns. One row per variant; rows of one product are consecutive and share its handle.
// Product columns may repeat the first row's value or be blank on the product's other rows.
const (
	ColHandle        = "handle"
	ColName          = "name"
	ColDescription   = "description"
	ColCategory      = "category"
	ColBrand         = "brand"
	ColStatus        = "status"
	ColMedia         = "media"     // image URLs separated by "|"
	ColMediaAlt      = "media_alt" // their alt texts, in the same order, separated by "|"
	ColSKU           = "sku"
	ColBarcode       = "barcode"
	ColWeightGrams   = "weight_grams"
	ColImage         = "image"
	ColPurchaseLimit = "purchase_limit"
	ColInitialStock  = "initial_stock"

	PrefixOption      = "option."        // option.Size: the variant's value of option Size
	PrefixOptionList  = "option_values." // option_values.Size: all of Size's values in order, "|"-separated (product column; optional)
	PrefixAttr        = "attr."          // attr.material: the product's attribute
	PrefixVariantAttr = "variant_attr."  // variant_attr.colour: the variant's attribute
	PrefixPrice       = "price."         // price.USD: amount in minor units
	PrefixCompareAt   = "compare_at."    // compare_at.USD: the "was" amount in minor units
)

var productColumns = []string{ColName, ColDescription, ColCategory, ColBrand, ColStatus, ColMedia, ColMediaAlt}

var variantColumns = []string{ColSKU, ColBarcode, ColWeightGrams, ColImage, ColPurchaseLimit, ColInitialStock}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// column is what one header cell means.
type column struct {
	kind string // a fixed column name, or one of the prefixes
	key  string // the option name, attribute key or currency after the prefix
}

// CSVReader reads the CSV layout: a header row, then one row per variant.
type CSVReader struct {
	lr      *lineReader
	attrs   AttributeTypes
	cols    []column
	header  error
	started bool

	pending     []string // the next product's first row, read ahead
	pendingLine int
	done        bool
}

// NewCSVReader returns a reader of the CSV layout over r; attrs types attribute cells.
func NewCSVReader(r io.Reader, attrs AttributeTypes) *CSVReader {
	return &CSVReader{lr: newLineReader(r, MaxRowBytes, true), attrs: attrs}
}

// readRow returns the next non-blank row's cells and line. A row that cannot be split into
// cells is a *RecordError naming its line.
func (c *CSVReader) readRow() ([]string, int, error) {
	for {
		b, line, err := c.lr.next()
		switch {
		case errors.Is(err, errLineTooLong):
			return nil, line, &RecordError{Line: line, Problems: []LineError{{Line: line, Rule: fmt.Sprintf("row is longer than %d bytes", MaxRowBytes)}}}
		case err != nil:
			return nil, line, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		cr := csv.NewReader(bytes.NewReader(b))
		if c.cols != nil {
			cr.FieldsPerRecord = len(c.cols)
		}
		row, err := cr.Read()
		if err != nil {
			rule := "is not a CSV row"
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rule = pe.Err.Error()
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					rule = fmt.Sprintf("has %d cells, the header %d", len(row), len(c.cols))
				}
			}
			return nil, line, &RecordError{Line: line, Problems: []LineError{{Line: line, Rule: rule}}}
		}
		return row, line, nil
	}
}

// readHeader reads and checks the header row.
func (c *CSVReader) readHeader() error {
	row, line, err := c.readRow()
	if err == io.EOF {
		return &RecordError{Line: 1, Problems: []LineError{{Line: 1, Rule: "the file is empty: a CSV import starts with a header row"}}}
	}
	if err != nil {
		return err
	}
	if len(row) > MaxColumns {
		return &RecordError{Line: line, Problems: []LineError{{Line: line, Rule: fmt.Sprintf("has %d columns, at most %d", len(row), MaxColumns)}}}
	}
	var p []LineError
	seen := map[string]bool{}
	cols := make([]column, len(row))
	for i, h := range row {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark from a spreadsheet
		}
		field := printable(h)
		if seen[h] {
			p = append(p, LineError{Line: line, Field: field, Rule: "appears more than once in the header"})
			continue
		}
		seen[h] = true
		col, ok := parseColumn(h)
		if !ok {
			p = append(p, LineError{Line: line, Field: field, Rule: "is not a known column (see the CSV layout: handle, name, ..., option.<name>, attr.<key>, variant_attr.<key>, price.<CUR>, compare_at.<CUR>)"})
		}
		cols[i] = col
	}
	for _, req := range []string{ColHandle, ColSKU} {
		if !seen[req] {
			p = append(p, LineError{Line: line, Field: req, Rule: "is a required column"})
		}
	}
	if len(p) > 0 {
		return &RecordError{Line: line, Problems: p[:min(len(p), catalog.MaxProblems)]}
	}
	c.cols = cols
	return nil
}

func parseColumn(h string) (column, bool) {
	if h == ColHandle || slices.Contains(productColumns, h) || slices.Contains(variantColumns, h) {
		return column{kind: h}, true
	}
	for _, pre := range []string{PrefixOptionList, PrefixOption, PrefixAttr, PrefixVariantAttr, PrefixPrice, PrefixCompareAt} {
		if key, ok := strings.CutPrefix(h, pre); ok && key != "" {
			if (pre == PrefixPrice || pre == PrefixCompareAt) && !currencyRE.MatchString(key) {
				return column{}, false
			}
			return column{kind: pre, key: key}, true
		}
	}
	return column{}, false
}

// Lines is the number of lines read so far (one row ahead of the product returned last).
func (c *CSVReader) Lines() int { return c.lr.line }

// Next returns the next product: the run of consecutive rows with one handle.
func (c *CSVReader) Next() (Record, error) {
	if !c.started {
		c.started = true
		c.header = c.readHeader()
	}
	if c.header != nil {
		err := c.header
		var re *RecordError
		if errors.As(err, &re) {
			// A bad header makes every row meaningless: report it once, then end.
			re.Fatal, c.header = true, io.EOF
		}
		return Record{}, err
	}
	if c.pending == nil {
		if c.done {
			return Record{}, io.EOF
		}
		row, line, err := c.readRow()
		if err != nil {
			return Record{Line: line}, err
		}
		c.pending, c.pendingLine = row, line
	}
	b := newBuilder(c, c.pendingLine)
	handle := strings.TrimSpace(c.pending[0])
	if i := slices.IndexFunc(c.cols, func(col column) bool { return col.kind == ColHandle }); i >= 0 {
		handle = strings.TrimSpace(c.pending[i])
	}
	if handle == "" {
		b.problem(c.pendingLine, ColHandle, "is required: it groups a product's rows")
	}
	b.add(c.pending, c.pendingLine)
	c.pending = nil
	for {
		row, line, err := c.readRow()
		if err == io.EOF {
			c.done = true
			break
		}
		var re *RecordError
		if errors.As(err, &re) {
			// A row that cannot be split belongs to no handle we can tell: it fails the product
			// being read, which it most likely continues.
			b.problems = append(b.problems, re.Problems...)
			continue
		}
		if err != nil {
			return Record{}, err
		}
		if c.handleOf(row) != handle || handle == "" {
			c.pending, c.pendingLine = slices.Clone(row), line
			break
		}
		b.add(row, line)
	}
	return b.finish()
}

func (c *CSVReader) handleOf(row []string) string {
	for i, col := range c.cols {
		if col.kind == ColHandle {
			return strings.TrimSpace(row[i])
		}
	}
	return ""
}

// builder assembles one product from its rows.
type builder struct {
	c        *CSVReader
	line     int
	p        catalog.ProductInput
	set      map[string]bool // product columns given a value
	lines    []int           // each variant's line
	bytes    int
	problems []LineError
	tooBig   bool
	alts     string // media_alt, applied once the row is read (media may come after it)
	lists    map[string]string
}

func newBuilder(c *CSVReader, line int) *builder {
	return &builder{c: c, line: line, set: map[string]bool{}}
}

func (b *builder) problem(line int, field, format string, args ...any) {
	if len(b.problems) < catalog.MaxProblems {
		b.problems = append(b.problems, LineError{Line: line, Field: printable(field), Rule: fmt.Sprintf(format, args...)})
	}
}

// add takes one row (one variant).
func (b *builder) add(row []string, line int) {
	if b.tooBig {
		return
	}
	for _, cell := range row {
		b.bytes += len(cell)
	}
	if b.bytes > MaxProductBytes || len(b.lines) >= catalog.MaxVariants {
		b.tooBig = true
		b.problem(line, ColHandle, "the product's rows exceed %d variants or %d bytes", catalog.MaxVariants, MaxProductBytes)
		b.p.Variants, b.lines = nil, nil
		return
	}
	v := catalog.VariantInput{Prices: []catalog.PriceInput{}}
	compare := map[string]int64{}
	for i, col := range b.c.cols {
		cell := strings.TrimSpace(row[i])
		name := col.kind + col.key
		switch col.kind {
		case ColHandle:
		case ColName, ColDescription, ColCategory, ColBrand, ColStatus, ColMedia, ColMediaAlt:
			if col.kind == ColDescription {
				cell = row[i] // keep a description's own spacing
			}
			b.productCell(line, col.kind, cell)
		case PrefixAttr:
			if cell == "" {
				continue
			}
			val := b.typed(line, name, col.key, cell)
			if b.p.Attributes == nil {
				b.p.Attributes = catalog.Attributes{}
			}
			if old, ok := b.p.Attributes[col.key]; ok && old != val {
				b.problem(line, name, "differs from the product's first row (%v)", old)
			}
			b.p.Attributes[col.key] = val
		case PrefixOptionList:
			if cell == "" {
				continue
			}
			if old, ok := b.lists[col.key]; ok && old != cell {
				b.problem(line, name, "differs from the product's first row")
			}
			if b.lists == nil {
				b.lists = map[string]string{}
			}
			b.lists[col.key] = cell
		case PrefixOption:
			if cell == "" {
				continue
			}
			if v.Options == nil {
				v.Options = map[string]string{}
			}
			v.Options[col.key] = cell
			b.optionValue(col.key, cell)
		case PrefixVariantAttr:
			if cell == "" {
				continue
			}
			if v.Attributes == nil {
				v.Attributes = catalog.Attributes{}
			}
			v.Attributes[col.key] = b.typed(line, name, col.key, cell)
		case PrefixPrice:
			if cell == "" {
				continue
			}
			if n, ok := b.integer(line, name, cell); ok {
				v.Prices = append(v.Prices, catalog.PriceInput{Currency: col.key, Amount: n})
			}
		case PrefixCompareAt:
			if cell == "" {
				continue
			}
			if n, ok := b.integer(line, name, cell); ok {
				compare[col.key] = n
			}
		case ColSKU:
			v.SKU = cell
		case ColBarcode:
			v.Barcode = cell
		case ColImage:
			v.Image = cell
		case ColWeightGrams:
			if cell != "" {
				if n, ok := b.integer(line, name, cell); ok {
					v.WeightGrams = &n
				}
			}
		case ColPurchaseLimit:
			if cell != "" {
				v.PurchaseLimit, _ = b.integer(line, name, cell)
			}
		case ColInitialStock:
			if cell != "" {
				v.InitialStock, _ = b.integer(line, name, cell)
			}
		}
	}
	for cur, n := range compare {
		i := slices.IndexFunc(v.Prices, func(p catalog.PriceInput) bool { return p.Currency == cur })
		if i < 0 {
			b.problem(line, PrefixCompareAt+cur, "needs a price in %s (%s%s)", cur, PrefixPrice, cur)
			continue
		}
		v.Prices[i].CompareAt = &n
	}
	b.p.Variants = append(b.p.Variants, v)
	b.lines = append(b.lines, line)
}

// productCell sets a product column from its first non-blank value; later rows must agree.
func (b *builder) productCell(line int, col, cell string) {
	if cell == "" || (col == ColDescription && strings.TrimSpace(cell) == "") {
		return
	}
	var cur string
	switch col {
	case ColName:
		cur = b.p.Name
	case ColDescription:
		cur = b.p.Description
	case ColCategory:
		cur = b.p.Category
	case ColBrand:
		cur = b.p.Brand
	case ColStatus:
		cur = string(b.p.Status)
	case ColMedia:
		urls := make([]string, len(b.p.Media))
		for i, m := range b.p.Media {
			urls[i] = m.URL
		}
		cur = strings.Join(urls, "|")
	case ColMediaAlt:
		cur = b.alts
	}
	if b.set[col] {
		if cur != cell {
			b.problem(line, col, "differs from the product's first row")
		}
		return
	}
	b.set[col] = true
	switch col {
	case ColName:
		b.p.Name = cell
	case ColDescription:
		b.p.Description = cell
	case ColCategory:
		b.p.Category = cell
	case ColBrand:
		b.p.Brand = cell
	case ColStatus:
		b.p.Status = catalog.Status(cell)
	case ColMedia:
		for _, u := range strings.Split(cell, "|") {
			if u = strings.TrimSpace(u); u != "" {
				b.p.Media = append(b.p.Media, catalog.Media{URL: u})
			}
		}
	case ColMediaAlt:
		b.alts = cell
	}
}

// optionValue adds a value to the product's option name, in the order values first appear.
func (b *builder) optionValue(name, value string) {
	for i := range b.p.Options {
		if b.p.Options[i].Name == name {
			if !slices.Contains(b.p.Options[i].Values, value) {
				b.p.Options[i].Values = append(b.p.Options[i].Values, value)
			}
			return
		}
	}
	b.p.Options = append(b.p.Options, catalog.Option{Name: name, Values: []string{value}})
}

func (b *builder) integer(line int, field, cell string) (int64, bool) {
	n, err := strconv.ParseInt(cell, 10, 64)
	if err != nil {
		b.problem(line, field, "must be a whole number (minor units for prices)")
		return 0, false
	}
	return n, true
}

// typed converts an attribute cell to its definition's type; an undefined key stays text, for
// the store to refuse by name.
func (b *builder) typed(line int, field, key, cell string) any {
	if b.c.attrs == nil {
		return cell
	}
	t, ok := b.c.attrs(key)
	if !ok {
		return cell
	}
	switch t {
	case catalog.AttrNumber:
		f, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			b.problem(line, field, "must be a number")
			return cell
		}
		return f
	case catalog.AttrBoolean:
		switch strings.ToLower(cell) {
		case "true":
			return true
		case "false":
			return false
		}
		b.problem(line, field, "must be true or false")
	}
	return cell
}

// finish validates the product and names each problem's line: a variant's problems are on its
// row, the product's on its first row.
func (b *builder) finish() (Record, error) {
	if b.alts != "" {
		alts := strings.Split(b.alts, "|")
		if len(alts) > len(b.p.Media) {
			b.problem(b.line, ColMediaAlt, "has %d texts for %d media URLs", len(alts), len(b.p.Media))
		}
		for i := range min(len(alts), len(b.p.Media)) {
			b.p.Media[i].Alt = strings.TrimSpace(alts[i])
		}
	}
	for name, list := range b.lists {
		values := strings.Split(list, "|")
		for i := range values {
			values[i] = strings.TrimSpace(values[i])
		}
		i := slices.IndexFunc(b.p.Options, func(o catalog.Option) bool { return o.Name == name })
		if i < 0 {
			b.p.Options = append(b.p.Options, catalog.Option{Name: name, Values: values})
			continue
		}
		for _, v := range b.p.Options[i].Values {
			if !slices.Contains(values, v) {
				b.problem(b.line, PrefixOptionList+name, "must list %q, a value a row uses", v)
			}
		}
		b.p.Options[i].Values = values
	}
	if len(b.problems) == 0 {
		b.p.Normalize()
		for _, le := range problemsOf(b.line, b.p.Validate()) {
			b.problems = append(b.problems, b.onRow(le))
		}
	}
	if len(b.problems) > 0 {
		return Record{Line: b.line, Product: b.p}, &RecordError{Line: b.line, Problems: b.problems}
	}
	return Record{Line: b.line, Product: b.p}, nil
}

var variantField = regexp.MustCompile(`^variants\[(\d+)\]\.?`)

// onRow moves a validation problem of variants[i] to that variant's row and names the column.
func (b *builder) onRow(le LineError) LineError {
	m := variantField.FindStringSubmatch(le.Field)
	if m == nil {
		return le
	}
	i, _ := strconv.Atoi(m[1])
	if i < len(b.lines) {
		le.Line = b.lines[i]
	}
	rest := le.Field[len(m[0]):]
	switch {
	case strings.HasPrefix(rest, "prices"):
		le.Field = "price." + strings.TrimPrefix(rest, "prices")
		if cur := b.priceCurrency(i, rest); cur != "" {
			le.Field = PrefixPrice + cur
		}
	case strings.HasPrefix(rest, "attributes."):
		le.Field = PrefixVariantAttr + strings.TrimPrefix(rest, "attributes.")
	case strings.HasPrefix(rest, "options"):
		le.Field = "option" + strings.TrimPrefix(rest, "options")
	case rest != "":
		le.Field = rest
	}
	return le
}

var priceIndex = regexp.MustCompile(`^prices\[(\d+)\]`)

func (b *builder) priceCurrency(i int, rest string) string {
	m := priceIndex.FindStringSubmatch(rest)
	if m == nil {
		return ""
	}
	j, _ := strconv.Atoi(m[1])
	if i < len(b.p.Variants) && j < len(b.p.Variants[i].Prices) {
		return b.p.Variants[i].Prices[j].Currency
	}
	return ""
}
