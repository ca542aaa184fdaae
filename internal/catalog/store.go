package catalog

import (
	"context"
	"time"
)

// Store keeps the catalog. Every method is one transaction: it either completes or changes
// nothing. Methods return *Error values with a Code, and translate driver errors by code.
//
// Conditional writes take the product version the caller last saw; 0 means "whatever the current
// version is". A stale version fails with CodePreconditionFailed and changes nothing.
type Store interface {
	CreateProduct(ctx context.Context, in ProductInput) (Product, error)
	Product(ctx context.Context, id string) (Product, error)
	ProductBySKU(ctx context.Context, sku string) (Product, error)
	ReplaceProduct(ctx context.Context, id string, in ProductInput, ifVersion int64) (Product, error)
	// PatchProduct merges patch into the product's current state in one transaction that holds
	// the row, so concurrent patches of different fields all apply. ifVersion is compared inside
	// that transaction. A patch that changes nothing writes nothing and returns the product as it
	// is (same version, no price history row).
	PatchProduct(ctx context.Context, id string, patch ProductPatch, ifVersion int64) (Product, error)
	SetProductStatus(ctx context.Context, id string, status Status, ifVersion int64) (Product, error)
	// DeleteProduct removes a product, keeping its stock movements and price history (the
	// audit). It refuses while units are on hand or reserved (see CanDelete).
	DeleteProduct(ctx context.Context, id string, ifVersion int64) error
	ListProducts(ctx context.Context, q ListQuery) (ProductPage, error)

	CreateCategory(ctx context.Context, in CategoryInput) (Category, error)
	Category(ctx context.Context, slug string) (Category, error)
	// Categories returns the whole tree, parents before children, siblings by name.
	Categories(ctx context.Context) ([]Category, error)
	UpdateCategory(ctx context.Context, slug string, patch CategoryPatch) (Category, error)
	// DeleteCategory refuses while the category has products or sub-categories.
	DeleteCategory(ctx context.Context, slug string) error

	// Import adds many products with their initial stock in few transactions; the seed and load
	// tests use it. It fails on the first invalid product, keeping earlier batches.
	Import(ctx context.Context, products []NewProduct) error
	// Empty reports whether the store holds no products and no categories.
	Empty(ctx context.Context) (bool, error)

	Inventory
	VersionReader
	Collections

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// NewProduct is a product with its initial stock, for Import.
type NewProduct struct {
	ProductInput
	OnHand int64
	// CreatedAt, when set, backdates the product (synthetic catalogs spread creation times).
	CreatedAt time.Time
}

// Clock returns the current time. Stores take one so tests can move time forward.
type Clock func() time.Time

// Now truncates to microseconds, the precision both stores keep, so a value written and read
// back compares equal.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return c().UTC().Truncate(time.Microsecond)
}

type actorKey struct{}

// WithActor records who is making the request, for the logs the stores keep (stock movements,
// price history).
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor recorded in ctx, or "system".
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// VersionReader answers "which version is current" without reading the whole product, so a
// conditional GET that ends in 304 costs one index lookup. Every Store is one.
type VersionReader interface {
	ProductVersions(ctx context.Context, id string) (version, stockVersion int64, err error)
}
