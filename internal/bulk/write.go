package bulk

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// WriteJSONL writes p as one JSONL line.
func WriteJSONL(w io.Writer, p catalog.ProductInput) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// CSVColumns are the variable columns of a CSV file: option names, attribute keys and
// currencies. A writer streams, so they are fixed before the first row.
type CSVColumns struct {
	Options           []string
	Attributes        []string
	VariantAttributes []string
	Currencies        []string
	// CompareAt adds a compare_at.<CUR> column beside each price column.
	CompareAt bool
}

// Add widens c to hold p.
func (c *CSVColumns) Add(p catalog.ProductInput) {
	add := func(list *[]string, s string) {
		if !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, o := range p.Options {
		add(&c.Options, o.Name)
	}
	for k := range p.Attributes {
		add(&c.Attributes, k)
	}
	for _, v := range p.Variants {
		for k := range v.Attributes {
			add(&c.VariantAttributes, k)
		}
		for _, pr := range v.Prices {
			add(&c.Currencies, pr.Currency)
			c.CompareAt = c.CompareAt || pr.CompareAt != nil
		}
	}
}

// Header returns the header row: handle, the product columns, the options, the product
// attributes, the variant columns, the variant attributes, then prices (and compare-at).
func (c CSVColumns) Header() []string {
	h := append([]string{ColHandle}, productColumns...)
	for _, o := range c.Options {
		h = append(h, PrefixOption+o)
	}
	for _, o := range c.Options {
		h = append(h, PrefixOptionList+o)
	}
	for _, a := range c.Attributes {
		h = append(h, PrefixAttr+a)
	}
	h = append(h, variantColumns...)
	for _, a := range c.VariantAttributes {
		h = append(h, PrefixVariantAttr+a)
	}
	for _, cur := range c.Currencies {
		h = append(h, PrefixPrice+cur)
		if c.CompareAt {
			h = append(h, PrefixCompareAt+cur)
		}
	}
	return h
}

// CSVWriter writes products in the CSV layout: the header first, then one row per variant, the
// product columns on its first row only.
type CSVWriter struct {
	w      *csv.Writer
	cols   CSVColumns
	header []string
	wrote  bool
	row    []string
}

// NewCSVWriter returns a writer of products with columns cols.
func NewCSVWriter(w io.Writer, cols CSVColumns) *CSVWriter {
	h := cols.Header()
	return &CSVWriter{w: csv.NewWriter(w), cols: cols, header: h, row: make([]string, len(h))}
}

// Write writes p's rows under handle. A value with no column is an error (nothing of p is
// written): the columns were chosen too narrow.
func (cw *CSVWriter) Write(handle string, p catalog.ProductInput) error {
	if !cw.wrote {
		cw.wrote = true
		if err := cw.w.Write(cw.header); err != nil {
			return err
		}
	}
	for k := range p.Attributes {
		if !slices.Contains(cw.cols.Attributes, k) {
			return fmt.Errorf("bulk: no column for attribute %q", k)
		}
	}
	for _, o := range p.Options {
		if !slices.Contains(cw.cols.Options, o.Name) {
			return fmt.Errorf("bulk: no column for option %q", o.Name)
		}
	}
	for _, v := range p.Variants {
		for k := range v.Attributes {
			if !slices.Contains(cw.cols.VariantAttributes, k) {
				return fmt.Errorf("bulk: no column for variant attribute %q", k)
			}
		}
		for _, pr := range v.Prices {
			if !slices.Contains(cw.cols.Currencies, pr.Currency) || (pr.CompareAt != nil && !cw.cols.CompareAt) {
				return fmt.Errorf("bulk: no column for price in %s", pr.Currency)
			}
		}
	}
	for i, v := range p.Variants {
		clear(cw.row)
		for j, h := range cw.header {
			cw.row[j] = cw.cell(h, handle, p, v, i == 0)
		}
		if err := cw.w.Write(cw.row); err != nil {
			return err
		}
	}
	return cw.w.Error()
}

func (cw *CSVWriter) cell(h, handle string, p catalog.ProductInput, v catalog.VariantInput, first bool) string {
	switch h {
	case ColHandle:
		return handle
	case ColSKU:
		return v.SKU
	case ColBarcode:
		return v.Barcode
	case ColImage:
		return v.Image
	case ColWeightGrams:
		if v.WeightGrams != nil {
			return strconv.FormatInt(*v.WeightGrams, 10)
		}
		return ""
	case ColPurchaseLimit:
		return intCell(v.PurchaseLimit)
	case ColInitialStock:
		return intCell(v.InitialStock)
	}
	if k, ok := strings.CutPrefix(h, PrefixOption); ok {
		return v.Options[k]
	}
	if k, ok := strings.CutPrefix(h, PrefixVariantAttr); ok {
		return attrCell(v.Attributes[k])
	}
	if cur, ok := strings.CutPrefix(h, PrefixPrice); ok {
		for _, pr := range v.Prices {
			if pr.Currency == cur {
				return strconv.FormatInt(pr.Amount, 10)
			}
		}
		return ""
	}
	if cur, ok := strings.CutPrefix(h, PrefixCompareAt); ok {
		for _, pr := range v.Prices {
			if pr.Currency == cur && pr.CompareAt != nil {
				return strconv.FormatInt(*pr.CompareAt, 10)
			}
		}
		return ""
	}
	if !first {
		return "" // product columns are on the product's first row only
	}
	if k, ok := strings.CutPrefix(h, PrefixAttr); ok {
		return attrCell(p.Attributes[k])
	}
	if k, ok := strings.CutPrefix(h, PrefixOptionList); ok {
		for _, o := range p.Options {
			if o.Name == k {
				return strings.Join(o.Values, "|")
			}
		}
		return ""
	}
	switch h {
	case ColName:
		return p.Name
	case ColDescription:
		return p.Description
	case ColCategory:
		return p.Category
	case ColBrand:
		return p.Brand
	case ColStatus:
		return string(p.Status)
	case ColMedia:
		urls := make([]string, len(p.Media))
		for i, m := range p.Media {
			urls[i] = m.URL
		}
		return strings.Join(urls, "|")
	case ColMediaAlt:
		alts := make([]string, len(p.Media))
		some := false
		for i, m := range p.Media {
			alts[i], some = m.Alt, some || m.Alt != ""
		}
		if !some {
			return ""
		}
		return strings.Join(alts, "|")
	}
	return ""
}

func intCell(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func attrCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// Flush writes what is buffered.
func (cw *CSVWriter) Flush() error {
	if !cw.wrote {
		cw.wrote = true
		if err := cw.w.Write(cw.header); err != nil {
			return err
		}
	}
	cw.w.Flush()
	return cw.w.Error()
}
