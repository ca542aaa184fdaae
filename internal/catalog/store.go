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
	// CreateProduct creates a product with its variants (and their initial stock).
	CreateProduct(ctx context.Context, in ProductInput) (Product, error)
	// Product returns a product with all its variants.
	Product(ctx context.Context, id string) (Product, error)
	// VariantBySKU returns the variant with sku (any case) and its product.
	VariantBySKU(ctx context.Context, sku string) (Product, Variant, error)
	// ReplaceProduct replaces the product's own fields (not its variants: in.Variants must be
	// nil). A change of options reconciles the variants (ReconcileOptions).
	ReplaceProduct(ctx context.Context, id string, in ProductInput, ifVersion int64) (Product, error)
	// PatchProduct merges patch into the product's current state in one transaction that holds
	// the row, so concurrent patches of different fields all apply. ifVersion is compared inside
	// that transaction. A patch that changes nothing writes nothing and returns the product as it
	// is (same version).
	PatchProduct(ctx context.Context, id string, patch ProductPatch, ifVersion int64) (Product, error)
	SetProductStatus(ctx context.Context, id string, status Status, ifVersion int64) (Product, error)
	// DeleteProduct removes a product and its variants, keeping their stock movements and price
	// history (the audit). It refuses while units are on hand or reserved (see CanDelete).
	DeleteProduct(ctx context.Context, id string, ifVersion int64) error
	ListProducts(ctx context.Context, q ListQuery) (ProductPage, error)

	// Variant returns one variant of a product, with ProductVersion set.
	Variant(ctx context.Context, productID, variantID string) (Variant, error)
	// AddVariant adds a variant to a product; its SKU must be new to the catalog and its
	// combination of option values new to the product. It writes that variant only: its cost
	// does not grow with the product's variant count. The product's version moves.
	AddVariant(ctx context.Context, productID string, in VariantInput, ifVersion int64) (Variant, error)
	// UpdateVariant merges patch into one variant, writing that variant only (and a price
	// history line per changed price). A patch that changes nothing writes nothing.
	UpdateVariant(ctx context.Context, productID, variantID string, patch VariantPatch, ifVersion int64) (Variant, error)
	// DeleteVariant removes a variant, keeping its movements and price history. It refuses
	// the product's last variant, and while the variant has units on hand or reserved.
	DeleteVariant(ctx context.Context, productID, variantID string, ifVersion int64) error

	AttributeDefinitions
	Faceter

	CreateCategory(ctx context.Context, in CategoryInput) (Category, error)
	Category(ctx context.Context, slug string) (Category, error)
	// Categories returns the whole tree, parents before children, siblings by name.
	Categories(ctx context.Context) ([]Category, error)
	UpdateCategory(ctx context.Context, slug string, patch CategoryPatch) (Category, error)
	// DeleteCategory refuses while the category has products or sub-categories.
	DeleteCategory(ctx context.Context, slug string) error

	// Import adds many products with their variants and initial stock in few transactions; the
	// seed and load tests use it. It fails on the first invalid product, keeping earlier
	// batches.
	Import(ctx context.Context, products []NewProduct) error
	// Empty reports whether the store holds no products and no categories.
	Empty(ctx context.Context) (bool, error)

	Inventory
	VersionReader
	Collections
	EventFeed
	Webhooks
	FeedConsumers
	Exporter
	Batcher
	Importer

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// AttributeDefinitions keeps the typed attribute definitions products and variants are
// validated against (ValidateAttributes, inside the write's transaction).
type AttributeDefinitions interface {
	CreateAttribute(ctx context.Context, in AttributeDefinitionInput) (AttributeDefinition, error)
	Attribute(ctx context.Context, key string) (AttributeDefinition, error)
	// AttributeList returns every definition, by key.
	AttributeList(ctx context.Context) ([]AttributeDefinition, error)
	// UpdateAttribute replaces a definition; CanRedefine decides what may change while values
	// use it.
	UpdateAttribute(ctx context.Context, key string, in AttributeDefinitionInput, ifVersion int64) (AttributeDefinition, error)
	// DeleteAttribute refuses while any product or variant has a value for it.
	DeleteAttribute(ctx context.Context, key string, ifVersion int64) error
}

// NewProduct is a product with its variants and their initial stock, for Import.
type NewProduct struct {
	ProductInput
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
// conditional GET that ends in 304 costs one index lookup. stockVersion summarizes the
// variants' stock versions (their sum: it moves whenever any of them does). Every Store is one.
type VersionReader interface {
	ProductVersions(ctx context.Context, id string) (version, stockVersion int64, err error)
}
