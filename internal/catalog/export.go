package catalog

import "context"

// ExportQuery selects the products an export streams: any list filter (status, category,
// collection, brand, currency and prices, attributes, in_stock, q). Products come in creation
// order, oldest first, then by ID.
type ExportQuery struct {
	Filter ProductFilter
	// Columns asks for ExportHead's columns (a CSV export's header needs them first).
	Columns bool
}

// ExportHead is what an export knows before its first product: the feed cursor of its
// snapshot and, when asked, the catalog's variable columns in that snapshot: every option
// name, attribute key (defined attributes, for products and variants alike) and currency.
type ExportHead struct {
	Cursor     int64
	Options    []string
	Attributes []string
	Currencies []string
	// CompareAt says some price has a compare-at amount.
	CompareAt bool
}

// FullInput is p as a create or import takes it: Input with its variants, each with its prices
// and its units on hand as initial stock (what a re-import of an export needs).
func (p Product) FullInput() ProductInput {
	in := p.Input()
	for _, v := range p.Variants {
		vi := VariantInput{SKU: v.SKU, Options: v.Options, Barcode: v.Barcode, WeightGrams: v.WeightGrams,
			Attributes: v.Attributes, Image: v.Image, PurchaseLimit: v.PurchaseLimit, InitialStock: v.Stock.OnHand}
		for _, pr := range v.Prices {
			vi.Prices = append(vi.Prices, PriceInput{Currency: pr.Currency, Amount: pr.Amount, CompareAt: pr.CompareAt})
		}
		in.Variants = append(in.Variants, vi)
	}
	return in
}

// Validate checks the filter.
func (q ExportQuery) Validate() error { return q.Filter.Validate() }

// ExportPageSize is how many products an export reads per statement inside its snapshot: the
// store holds at most one page in memory whatever the catalog's size. A page also ends once
// it holds ExportPageVariants variants, so 500 products of 2,048 variants are not one page.
const (
	ExportPageSize     = 500
	ExportPageVariants = 5000
)

// Exporter streams the catalog from one consistent snapshot (ADR 0020).
type Exporter interface {
	// Export opens one read snapshot, calls begin with the change-feed cursor that snapshot
	// corresponds to (and the columns, when q asks), then each with every product matching q (with all its variants, as
	// Product returns it), in creation order. Every change the snapshot does not show has an
	// event with a sequence above the cursor, so following the feed from it misses nothing.
	// An error from begin or each stops the export and is returned as it is.
	Export(ctx context.Context, q ExportQuery, begin func(ExportHead) error, each func(Product) error) error
}
