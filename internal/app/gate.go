package app

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// gate is the store the HTTP server talks to from the first moment: until the real store is
// open (PostgreSQL may still be being created) every call fails with CodeUnavailable, which
// the HTTP layer answers with 503 and Retry-After; afterwards every call goes to the store.
// It implements every method explicitly, so a method added to catalog.Store fails to compile
// here instead of slipping past.
type gate struct {
	store atomic.Pointer[catalog.Store]
}

var _ catalog.Store = (*gate)(nil)

// errNotYet is what every call answers before the store is open.
var errNotYet = catalog.Errorf(catalog.CodeUnavailable, "the database is not reachable yet; retry shortly")

func (g *gate) open(s catalog.Store) { g.store.Store(&s) }

func (g *gate) get() (catalog.Store, error) {
	if p := g.store.Load(); p != nil {
		return *p, nil
	}
	return nil, errNotYet
}

func (g *gate) CreateProduct(ctx context.Context, in catalog.ProductInput) (catalog.Product, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Product{}, err
	}
	return s.CreateProduct(ctx, in)
}

func (g *gate) Product(ctx context.Context, id string) (catalog.Product, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Product{}, err
	}
	return s.Product(ctx, id)
}

func (g *gate) VariantBySKU(ctx context.Context, sku string) (catalog.Product, catalog.Variant, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Product{}, catalog.Variant{}, err
	}
	return s.VariantBySKU(ctx, sku)
}

func (g *gate) Variant(ctx context.Context, productID, variantID string) (catalog.Variant, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Variant{}, err
	}
	return s.Variant(ctx, productID, variantID)
}

func (g *gate) AddVariant(ctx context.Context, productID string, in catalog.VariantInput, ifVersion int64) (catalog.Variant, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Variant{}, err
	}
	return s.AddVariant(ctx, productID, in, ifVersion)
}

func (g *gate) UpdateVariant(ctx context.Context, productID, variantID string, patch catalog.VariantPatch, ifVersion int64) (catalog.Variant, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Variant{}, err
	}
	return s.UpdateVariant(ctx, productID, variantID, patch, ifVersion)
}

func (g *gate) DeleteVariant(ctx context.Context, productID, variantID string, ifVersion int64) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.DeleteVariant(ctx, productID, variantID, ifVersion)
}

func (g *gate) CreateAttribute(ctx context.Context, in catalog.AttributeDefinitionInput) (catalog.AttributeDefinition, error) {
	s, err := g.get()
	if err != nil {
		return catalog.AttributeDefinition{}, err
	}
	return s.CreateAttribute(ctx, in)
}

func (g *gate) Attribute(ctx context.Context, key string) (catalog.AttributeDefinition, error) {
	s, err := g.get()
	if err != nil {
		return catalog.AttributeDefinition{}, err
	}
	return s.Attribute(ctx, key)
}

func (g *gate) AttributeList(ctx context.Context) ([]catalog.AttributeDefinition, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.AttributeList(ctx)
}

func (g *gate) UpdateAttribute(ctx context.Context, key string, in catalog.AttributeDefinitionInput, ifVersion int64) (catalog.AttributeDefinition, error) {
	s, err := g.get()
	if err != nil {
		return catalog.AttributeDefinition{}, err
	}
	return s.UpdateAttribute(ctx, key, in, ifVersion)
}

func (g *gate) DeleteAttribute(ctx context.Context, key string, ifVersion int64) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.DeleteAttribute(ctx, key, ifVersion)
}

func (g *gate) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	s, err := g.get()
	if err != nil {
		return 0, 0, err
	}
	return s.ProductVersions(ctx, id)
}

func (g *gate) ReplaceProduct(ctx context.Context, id string, in catalog.ProductInput, ifVersion int64) (catalog.Product, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Product{}, err
	}
	return s.ReplaceProduct(ctx, id, in, ifVersion)
}

func (g *gate) PatchProduct(ctx context.Context, id string, patch catalog.ProductPatch, ifVersion int64) (catalog.Product, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Product{}, err
	}
	return s.PatchProduct(ctx, id, patch, ifVersion)
}

func (g *gate) SetProductStatus(ctx context.Context, id string, status catalog.Status, ifVersion int64) (catalog.Product, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Product{}, err
	}
	return s.SetProductStatus(ctx, id, status, ifVersion)
}

func (g *gate) DeleteProduct(ctx context.Context, id string, ifVersion int64) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.DeleteProduct(ctx, id, ifVersion)
}

func (g *gate) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	s, err := g.get()
	if err != nil {
		return catalog.ProductPage{}, err
	}
	return s.ListProducts(ctx, q)
}

func (g *gate) Facets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]catalog.Facet, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.Facets(ctx, q, r)
}

func (g *gate) CreateCategory(ctx context.Context, in catalog.CategoryInput) (catalog.Category, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Category{}, err
	}
	return s.CreateCategory(ctx, in)
}

func (g *gate) Category(ctx context.Context, slug string) (catalog.Category, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Category{}, err
	}
	return s.Category(ctx, slug)
}

func (g *gate) Categories(ctx context.Context) ([]catalog.Category, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.Categories(ctx)
}

func (g *gate) UpdateCategory(ctx context.Context, slug string, patch catalog.CategoryPatch) (catalog.Category, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Category{}, err
	}
	return s.UpdateCategory(ctx, slug, patch)
}

func (g *gate) DeleteCategory(ctx context.Context, slug string) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.DeleteCategory(ctx, slug)
}

func (g *gate) Import(ctx context.Context, products []catalog.NewProduct) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.Import(ctx, products)
}

func (g *gate) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dryRun bool) (catalog.ImportResult, error) {
	s, err := g.get()
	if err != nil {
		return catalog.ImportResult{}, err
	}
	return s.UpsertProducts(ctx, items, dryRun)
}

func (g *gate) CreateImportJob(ctx context.Context, in catalog.ImportJobInput) (catalog.ImportJob, bool, error) {
	s, err := g.get()
	if err != nil {
		return catalog.ImportJob{}, false, err
	}
	return s.CreateImportJob(ctx, in)
}

func (g *gate) ImportJob(ctx context.Context, id string) (catalog.ImportJob, error) {
	s, err := g.get()
	if err != nil {
		return catalog.ImportJob{}, err
	}
	return s.ImportJob(ctx, id)
}

func (g *gate) SaveImportJob(ctx context.Context, job catalog.ImportJob) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.SaveImportJob(ctx, job)
}

func (g *gate) FailStaleImportJobs(ctx context.Context, before time.Time, reason string) (int, error) {
	s, err := g.get()
	if err != nil {
		return 0, err
	}
	return s.FailStaleImportJobs(ctx, before, reason)
}

func (g *gate) PurgeImportJobs(ctx context.Context, retention time.Duration, limit int) (int, error) {
	s, err := g.get()
	if err != nil {
		return 0, err
	}
	return s.PurgeImportJobs(ctx, retention, limit)
}

func (g *gate) Empty(ctx context.Context) (bool, error) {
	s, err := g.get()
	if err != nil {
		return false, err
	}
	return s.Empty(ctx)
}

func (g *gate) AdjustStock(ctx context.Context, productID string, a catalog.Adjustment, actor string, idem *catalog.Idempotency) (catalog.Movement, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Movement{}, err
	}
	return s.AdjustStock(ctx, productID, a, actor, idem)
}

func (g *gate) Movements(ctx context.Context, variantID string, before int64, limit int) ([]catalog.Movement, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.Movements(ctx, variantID, before, limit)
}

func (g *gate) Reserve(ctx context.Context, in catalog.ReservationInput, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Reservation{}, err
	}
	return s.Reserve(ctx, in, actor, idem)
}

func (g *gate) Reservation(ctx context.Context, id string) (catalog.Reservation, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Reservation{}, err
	}
	return s.Reservation(ctx, id)
}

func (g *gate) CommitReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Reservation{}, err
	}
	return s.CommitReservation(ctx, id, actor, idem)
}

func (g *gate) ReleaseReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Reservation{}, err
	}
	return s.ReleaseReservation(ctx, id, actor, idem)
}

func (g *gate) ExpireReservations(ctx context.Context, limit int) ([]catalog.Reservation, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.ExpireReservations(ctx, limit)
}

func (g *gate) SetPrice(ctx context.Context, variantID string, c catalog.PriceChange, actor string, ifVersion int64) (catalog.Variant, catalog.PriceEntry, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Variant{}, catalog.PriceEntry{}, err
	}
	return s.SetPrice(ctx, variantID, c, actor, ifVersion)
}

func (g *gate) RemovePrice(ctx context.Context, variantID, currency, actor string, ifVersion int64) (catalog.Variant, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Variant{}, err
	}
	return s.RemovePrice(ctx, variantID, currency, actor, ifVersion)
}

func (g *gate) PriceHistory(ctx context.Context, variantID, currency string) ([]catalog.PriceEntry, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.PriceHistory(ctx, variantID, currency)
}

func (g *gate) ApplyDuePrices(ctx context.Context, limit int) ([]catalog.AppliedPrice, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.ApplyDuePrices(ctx, limit)
}

func (g *gate) PurgeIdempotencyKeys(ctx context.Context, limit int) (int, error) {
	s, err := g.get()
	if err != nil {
		return 0, err
	}
	return s.PurgeIdempotencyKeys(ctx, limit)
}

func (g *gate) PurgeReservations(ctx context.Context, retention time.Duration, limit int) (int, error) {
	s, err := g.get()
	if err != nil {
		return 0, err
	}
	return s.PurgeReservations(ctx, retention, limit)
}

func (g *gate) Ping(ctx context.Context) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

// Close does nothing: the App owns the store and closes it last.
func (g *gate) Close() error { return nil }

func (g *gate) CreateCollection(ctx context.Context, in catalog.CollectionInput) (catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Collection{}, err
	}
	return s.CreateCollection(ctx, in)
}

func (g *gate) Collection(ctx context.Context, slug string) (catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Collection{}, err
	}
	return s.Collection(ctx, slug)
}

func (g *gate) Collections(ctx context.Context) ([]catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.Collections(ctx)
}

func (g *gate) UpdateCollection(ctx context.Context, slug string, patch catalog.CollectionPatch, ifVersion int64) (catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Collection{}, err
	}
	return s.UpdateCollection(ctx, slug, patch, ifVersion)
}

func (g *gate) DeleteCollection(ctx context.Context, slug string, ifVersion int64) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.DeleteCollection(ctx, slug, ifVersion)
}

func (g *gate) SetCollectionProducts(ctx context.Context, slug string, ids []string, ifVersion int64) (catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Collection{}, err
	}
	return s.SetCollectionProducts(ctx, slug, ids, ifVersion)
}

func (g *gate) AddToCollection(ctx context.Context, slug string, ids []string, position *int) (catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Collection{}, err
	}
	return s.AddToCollection(ctx, slug, ids, position)
}

func (g *gate) RemoveFromCollection(ctx context.Context, slug, id string) (catalog.Collection, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Collection{}, err
	}
	return s.RemoveFromCollection(ctx, slug, id)
}

func (g *gate) Events(ctx context.Context, q catalog.EventQuery) (catalog.EventPage, error) {
	s, err := g.get()
	if err != nil {
		return catalog.EventPage{}, err
	}
	return s.Events(ctx, q)
}

func (g *gate) Export(ctx context.Context, q catalog.ExportQuery, begin func(catalog.ExportHead) error, each func(catalog.Product) error) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.Export(ctx, q, begin, each)
}

func (g *gate) AdjustStockBatch(ctx context.Context, lines []catalog.StockLine, actor string, idem *catalog.Idempotency) ([]catalog.Movement, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.AdjustStockBatch(ctx, lines, actor, idem)
}

func (g *gate) SetPriceBatch(ctx context.Context, lines []catalog.PriceLine, actor string, idem *catalog.Idempotency) ([]catalog.PriceEvent, error) {
	s, err := g.get()
	if err != nil {
		return nil, err
	}
	return s.SetPriceBatch(ctx, lines, actor, idem)
}

func (g *gate) PurgeEvents(ctx context.Context, retention time.Duration, limit int) (int, error) {
	s, err := g.get()
	if err != nil {
		return 0, err
	}
	return s.PurgeEvents(ctx, retention, limit)
}

func (g *gate) CreateWebhook(ctx context.Context, in catalog.WebhookInput, secret string) (catalog.Webhook, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Webhook{}, err
	}
	return s.CreateWebhook(ctx, in, secret)
}

func (g *gate) Webhook(ctx context.Context, id string) (catalog.Webhook, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Webhook{}, err
	}
	return s.Webhook(ctx, id)
}

func (g *gate) ListWebhooks(ctx context.Context, after string, limit int) (catalog.WebhookPage, error) {
	s, err := g.get()
	if err != nil {
		return catalog.WebhookPage{}, err
	}
	return s.ListWebhooks(ctx, after, limit)
}

func (g *gate) UpdateWebhook(ctx context.Context, id string, patch catalog.WebhookPatch) (catalog.Webhook, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Webhook{}, err
	}
	return s.UpdateWebhook(ctx, id, patch)
}

func (g *gate) DeleteWebhook(ctx context.Context, id string) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.DeleteWebhook(ctx, id)
}

func (g *gate) RotateWebhookSecret(ctx context.Context, id, secret string) (catalog.Webhook, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Webhook{}, err
	}
	return s.RotateWebhookSecret(ctx, id, secret)
}

func (g *gate) WebhookDeliveries(ctx context.Context, id string, before int64, limit int) (catalog.DeliveryPage, error) {
	s, err := g.get()
	if err != nil {
		return catalog.DeliveryPage{}, err
	}
	return s.WebhookDeliveries(ctx, id, before, limit)
}

func (g *gate) ClaimWebhook(ctx context.Context, owner string, lease time.Duration) (catalog.Webhook, bool, error) {
	s, err := g.get()
	if err != nil {
		return catalog.Webhook{}, false, err
	}
	return s.ClaimWebhook(ctx, owner, lease)
}

func (g *gate) RecordWebhookAttempt(ctx context.Context, id, owner string, a catalog.WebhookAttempt, lease time.Duration) (bool, error) {
	s, err := g.get()
	if err != nil {
		return false, err
	}
	return s.RecordWebhookAttempt(ctx, id, owner, a, lease)
}

func (g *gate) PurgeWebhookDeliveries(ctx context.Context, retention time.Duration, limit int) (int, error) {
	s, err := g.get()
	if err != nil {
		return 0, err
	}
	return s.PurgeWebhookDeliveries(ctx, retention, limit)
}

func (g *gate) ClaimFeedConsumer(ctx context.Context, name, owner string, ttl time.Duration, start catalog.FeedStart) (catalog.FeedLease, error) {
	s, err := g.get()
	if err != nil {
		return catalog.FeedLease{}, err
	}
	return s.ClaimFeedConsumer(ctx, name, owner, ttl, start)
}

func (g *gate) AdvanceFeedConsumer(ctx context.Context, name, owner string, position int64) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.AdvanceFeedConsumer(ctx, name, owner, position)
}

func (g *gate) ReleaseFeedConsumer(ctx context.Context, name, owner string) error {
	s, err := g.get()
	if err != nil {
		return err
	}
	return s.ReleaseFeedConsumer(ctx, name, owner)
}
