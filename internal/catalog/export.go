package catalog

import "context"

// ExportQuery selects the products an export streams: any list filter (status, category,
// collection, brand, currency and prices, attributes, in_stock, q). Products come in creation
// order, oldest first, then by ID.
type ExportQuery struct {
	Filter ProductFilter
}

// Validate checks the filter.
func (q ExportQuery) Validate() error { return q.Filter.Validate() }

// ExportPageSize is how many products an export reads per statement inside its snapshot: the
// store holds at most one page in memory whatever the catalog's size.
const ExportPageSize = 500

// Exporter streams the catalog from one consistent snapshot (ADR 0020).
type Exporter interface {
	// Export opens one read snapshot, calls begin with the change-feed cursor that snapshot
	// corresponds to, then each with every product matching q (with all its variants, as
	// Product returns it), in creation order. Every change the snapshot does not show has an
	// event with a sequence above the cursor, so following the feed from it misses nothing.
	// An error from begin or each stops the export and is returned as it is.
	Export(ctx context.Context, q ExportQuery, begin func(cursor int64) error, each func(Product) error) error
}
