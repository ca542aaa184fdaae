package readcache_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/readcache"
)

// fake answers every write successfully, naming product "p1" where a write names products.
// Methods it does not define panic through the nil embedded interface; the cache must not
// call them on these paths.
type fake struct {
	catalog.Store
	reads            int
	collectionWrites int
}

var p1 = catalog.Product{ID: "p1", Version: 1}

func (f *fake) Product(context.Context, string) (catalog.Product, error) {
	f.reads++
	return p1, nil
}

func (f *fake) CreateProduct(context.Context, catalog.ProductInput) (catalog.Product, error) {
	return p1, nil
}

func (f *fake) ReplaceProduct(context.Context, string, catalog.ProductInput, int64) (catalog.Product, error) {
	return p1, nil
}

func (f *fake) SetProductStatus(context.Context, string, catalog.Status, int64) (catalog.Product, error) {
	return p1, nil
}

func (f *fake) DeleteProduct(context.Context, string, int64) error { return nil }

func (f *fake) CreateCategory(context.Context, catalog.CategoryInput) (catalog.Category, error) {
	return catalog.Category{}, nil
}

func (f *fake) UpdateCategory(context.Context, string, catalog.CategoryPatch) (catalog.Category, error) {
	return catalog.Category{}, nil
}

func (f *fake) DeleteCategory(context.Context, string) error       { return nil }
func (f *fake) Import(context.Context, []catalog.NewProduct) error { return nil }

func (f *fake) UpsertProducts(context.Context, []catalog.ImportItem, bool) (catalog.ImportResult, error) {
	return catalog.ImportResult{}, nil
}

func (f *fake) AdjustStock(context.Context, string, catalog.Adjustment, string, *catalog.Idempotency) (catalog.Movement, error) {
	return catalog.Movement{VariantID: "v1", ProductID: "p1"}, nil
}

func (f *fake) AdjustStockBatch(context.Context, []catalog.StockLine, string, *catalog.Idempotency) ([]catalog.Movement, error) {
	return []catalog.Movement{{VariantID: "v2", ProductID: "p2"}, {VariantID: "v1", ProductID: "p1"}}, nil
}

func (f *fake) SetPriceBatch(context.Context, []catalog.PriceLine, string, *catalog.Idempotency) ([]catalog.PriceEvent, error) {
	return []catalog.PriceEvent{{ProductID: "p2", PriceEntry: catalog.PriceEntry{VariantID: "v2"}}, {ProductID: "p1", PriceEntry: catalog.PriceEntry{VariantID: "v1"}}}, nil
}

func reservation() catalog.Reservation {
	return catalog.Reservation{Lines: []catalog.ReservationLine{{ProductID: "p1", Quantity: 1}}}
}

func (f *fake) Reserve(context.Context, catalog.ReservationInput, string, *catalog.Idempotency) (catalog.Reservation, error) {
	return reservation(), nil
}

func (f *fake) CommitReservation(context.Context, string, string, *catalog.Idempotency) (catalog.Reservation, error) {
	return reservation(), nil
}

func (f *fake) ReleaseReservation(context.Context, string, string, *catalog.Idempotency) (catalog.Reservation, error) {
	return reservation(), nil
}

func (f *fake) ExpireReservations(context.Context, int) ([]catalog.Reservation, error) {
	return []catalog.Reservation{reservation()}, nil
}

// v1 is p1's variant; its ID differs from the product's, so an invalidation by variant ID
// alone would not forget p1.
var v1 = catalog.Variant{ID: "v1", ProductID: "p1"}

func (f *fake) SetPrice(context.Context, string, catalog.PriceChange, string, int64) (catalog.Variant, catalog.PriceEntry, error) {
	return v1, catalog.PriceEntry{}, nil
}

func (f *fake) RemovePrice(context.Context, string, string, string, int64) (catalog.Variant, error) {
	return v1, nil
}

func (f *fake) AddVariant(context.Context, string, catalog.VariantInput, int64) (catalog.Variant, error) {
	return v1, nil
}

func (f *fake) UpdateVariant(context.Context, string, string, catalog.VariantPatch, int64) (catalog.Variant, error) {
	return v1, nil
}

func (f *fake) DeleteVariant(context.Context, string, string, int64) error { return nil }

func (f *fake) ApplyDuePrices(context.Context, int) ([]catalog.AppliedPrice, error) {
	return []catalog.AppliedPrice{{ProductID: "p1"}}, nil
}

func (f *fake) PatchProduct(context.Context, string, catalog.ProductPatch, int64) (catalog.Product, error) {
	return p1, nil
}

// TestEveryWriteInvalidates: after each write, the next read of the product it changed goes to
// the store. Every method of catalog.Store is either a read listed here or a write with a case,
// so a new write method fails this test until its invalidation is written and checked.
func TestEveryWriteInvalidates(t *testing.T) {
	ctx := context.Background()
	writes := map[string]func(*readcache.Store) error{
		"CreateProduct": func(c *readcache.Store) error { _, err := c.CreateProduct(ctx, catalog.ProductInput{}); return err },
		"ReplaceProduct": func(c *readcache.Store) error {
			_, err := c.ReplaceProduct(ctx, "p1", catalog.ProductInput{}, 0)
			return err
		},
		"PatchProduct": func(c *readcache.Store) error {
			_, err := c.PatchProduct(ctx, "p1", catalog.ProductPatch{}, 0)
			return err
		},
		"SetProductStatus": func(c *readcache.Store) error {
			_, err := c.SetProductStatus(ctx, "p1", catalog.StatusArchived, 0)
			return err
		},
		"DeleteProduct": func(c *readcache.Store) error { return c.DeleteProduct(ctx, "p1", 0) },
		"CreateCategory": func(c *readcache.Store) error {
			_, err := c.CreateCategory(ctx, catalog.CategoryInput{})
			return err
		},
		"UpdateCategory": func(c *readcache.Store) error {
			_, err := c.UpdateCategory(ctx, "c", catalog.CategoryPatch{})
			return err
		},
		"DeleteCategory": func(c *readcache.Store) error { return c.DeleteCategory(ctx, "c") },
		"Import":         func(c *readcache.Store) error { return c.Import(ctx, nil) },
		"UpsertProducts": func(c *readcache.Store) error { _, err := c.UpsertProducts(ctx, nil, false); return err },
		"AdjustStock": func(c *readcache.Store) error {
			_, err := c.AdjustStock(ctx, "v1", catalog.Adjustment{}, "t", nil)
			return err
		},
		"RemovePrice": func(c *readcache.Store) error {
			_, err := c.RemovePrice(ctx, "v1", "EUR", "t", 0)
			return err
		},
		"AddVariant": func(c *readcache.Store) error {
			_, err := c.AddVariant(ctx, "p1", catalog.VariantInput{}, 0)
			return err
		},
		"UpdateVariant": func(c *readcache.Store) error {
			_, err := c.UpdateVariant(ctx, "p1", "v1", catalog.VariantPatch{}, 0)
			return err
		},
		"DeleteVariant": func(c *readcache.Store) error { return c.DeleteVariant(ctx, "p1", "v1", 0) },
		"Reserve": func(c *readcache.Store) error {
			_, err := c.Reserve(ctx, catalog.ReservationInput{}, "t", nil)
			return err
		},
		"CommitReservation": func(c *readcache.Store) error {
			_, err := c.CommitReservation(ctx, "r", "t", nil)
			return err
		},
		"ReleaseReservation": func(c *readcache.Store) error {
			_, err := c.ReleaseReservation(ctx, "r", "t", nil)
			return err
		},
		"ExpireReservations": func(c *readcache.Store) error { _, err := c.ExpireReservations(ctx, 10); return err },
		"SetPrice": func(c *readcache.Store) error {
			_, _, err := c.SetPrice(ctx, "v1", catalog.PriceChange{}, "t", 0)
			return err
		},
		"ApplyDuePrices": func(c *readcache.Store) error { _, err := c.ApplyDuePrices(ctx, 10); return err },
		"AdjustStockBatch": func(c *readcache.Store) error {
			_, err := c.AdjustStockBatch(ctx, nil, "t", nil)
			return err
		},
		"SetPriceBatch": func(c *readcache.Store) error { _, err := c.SetPriceBatch(ctx, nil, "t", nil); return err },
	}
	// Collection writes change no product a read shows (see readcache.go): they must reach the
	// store and leave the cached product where it is; TestCollectionWritesPassThrough checks it.
	for name := range collectionWrites(ctx) {
		writes[name] = nil
	}
	reads := map[string]bool{
		"Product": true, "Variant": true, "VariantBySKU": true, "ProductVersions": true, "ListProducts": true, "Facets": true,
		"Attribute": true, "AttributeList": true,
		// Attribute definitions are not part of a cached product, and a definition in use cannot
		// change what a cached value means (see readcache.go); these writes forget the cached
		// definitions instead (TestAttributeWritesForgetDefinitions).
		"CreateAttribute": true, "UpdateAttribute": true, "DeleteAttribute": true,
		"Category": true, "Categories": true, "Empty": true, "Movements": true, "Reservation": true,
		"PriceHistory": true, "Ping": true, "Close": true,
		// Writes that remove only finished records, which no product read shows.
		"PurgeIdempotencyKeys": true, "PurgeReservations": true,
		"Events": true, "PurgeEvents": true, // the feed and its housekeeping show no product
		"Collection": true, "Collections": true,
		"ClaimFeedConsumer": true, "AdvanceFeedConsumer": true, "ReleaseFeedConsumer": true, // feed positions show no product
		// Webhook subscriptions, their delivery state and log: no product read shows them.
		"CreateWebhook": true, "Webhook": true, "ListWebhooks": true, "UpdateWebhook": true, "DeleteWebhook": true,
		"RotateWebhookSecret": true, "WebhookDeliveries": true, "ClaimWebhook": true, "RecordWebhookAttempt": true,
		"PurgeWebhookDeliveries": true,
		"Export":                 true,
		// Import jobs' bookkeeping shows no product (UpsertProducts is the write).
		"CreateImportJob": true, "ImportJob": true, "SaveImportJob": true, "FailStaleImportJobs": true, "PurgeImportJobs": true,
	}
	st := reflect.TypeFor[catalog.Store]()
	for i := range st.NumMethod() {
		name := st.Method(i).Name
		if _, ok := writes[name]; !ok && !reads[name] {
			t.Errorf("catalog.Store.%s is neither a known read nor a write with an invalidation case here", name)
		}
	}
	for name, write := range writes {
		if write == nil {
			continue
		}
		f := &fake{}
		c := readcache.New(f, time.Hour, 1<<20)
		c.Product(ctx, "p1")
		c.Product(ctx, "p1")
		if f.reads != 1 {
			t.Fatalf("%s: the cache did not serve the second read (%d store reads)", name, f.reads)
		}
		if err := write(c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.Product(ctx, "p1")
		if f.reads != 2 {
			t.Errorf("%s: the product was still served from the cache after the write", name)
		}
	}
}

// failing answers SetPrice with err and reads any product.
type failing struct {
	catalog.Store
	err   error
	reads int
}

func (f *failing) Product(_ context.Context, id string) (catalog.Product, error) {
	f.reads++
	return catalog.Product{ID: id, Version: 1}, nil
}

func (f *failing) SetPrice(context.Context, string, catalog.PriceChange, string, int64) (catalog.Variant, catalog.PriceEntry, error) {
	return catalog.Variant{}, catalog.PriceEntry{}, f.err
}

// TestFailedVariantWriteOfUnknownOutcome: a write naming a variant that fails gives no product
// to forget. A refusal changed nothing, so the cache stays; an outcome the store cannot vouch
// for (unavailable, internal: the commit may have happened) clears the cache, since the
// product is unknown.
func TestFailedVariantWriteOfUnknownOutcome(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err     error
		cleared bool
	}{
		{catalog.InvalidField("amount", "must not be negative"), false},
		{catalog.ErrVariantNotFound, false},
		{catalog.StaleVersion(2, 1), false},
		{catalog.Errorf(catalog.CodeUnavailable, "the store is busy"), true},
		{context.DeadlineExceeded, true},
	} {
		f := &failing{err: tc.err}
		c := readcache.New(f, time.Hour, 1<<20)
		c.Product(ctx, "other")
		c.SetPrice(ctx, "v9", catalog.PriceChange{}, "t", 0)
		c.Product(ctx, "other")
		if cleared := f.reads == 2; cleared != tc.cleared {
			t.Errorf("after SetPrice failed with %v: cache cleared = %v, want %v", tc.err, cleared, tc.cleared)
		}
	}
}

// defs answers Attribute from a counter, and every attribute write successfully.
type defs struct {
	catalog.Store
	reads int
}

func (f *defs) Attribute(_ context.Context, key string) (catalog.AttributeDefinition, error) {
	f.reads++
	return catalog.AttributeDefinition{Key: key, Type: catalog.AttrEnum, Values: []string{"red"}, Filterable: true, Version: 1}, nil
}

func (f *defs) CreateAttribute(context.Context, catalog.AttributeDefinitionInput) (catalog.AttributeDefinition, error) {
	return catalog.AttributeDefinition{}, nil
}

func (f *defs) UpdateAttribute(context.Context, string, catalog.AttributeDefinitionInput, int64) (catalog.AttributeDefinition, error) {
	return catalog.AttributeDefinition{}, nil
}

func (f *defs) DeleteAttribute(context.Context, string, int64) error { return nil }

// TestAttributeWritesForgetDefinitions: definitions are served from the cache (lists look one
// up per attr.<key> filter), every attribute write through the cache forgets them, and a
// caller changing what it was given does not change the cached copy.
func TestAttributeWritesForgetDefinitions(t *testing.T) {
	ctx := context.Background()
	for name, write := range map[string]func(*readcache.Store) error{
		"CreateAttribute": func(c *readcache.Store) error {
			_, err := c.CreateAttribute(ctx, catalog.AttributeDefinitionInput{})
			return err
		},
		"UpdateAttribute": func(c *readcache.Store) error {
			_, err := c.UpdateAttribute(ctx, "colour", catalog.AttributeDefinitionInput{}, 0)
			return err
		},
		"DeleteAttribute": func(c *readcache.Store) error { return c.DeleteAttribute(ctx, "colour", 0) },
		"Clear":           func(c *readcache.Store) error { c.Clear(); return nil },
	} {
		f := &defs{}
		c := readcache.New(f, time.Hour, 1<<20)
		d, _ := c.Attribute(ctx, "colour")
		d.Values[0] = "changed by a caller"
		if d, _ := c.Attribute(ctx, "colour"); f.reads != 1 || d.Values[0] != "red" {
			t.Fatalf("%s: the second read went to the store (%d reads) or shows a caller's change (%v)", name, f.reads, d.Values)
		}
		if err := write(c); err != nil {
			t.Fatal(err)
		}
		c.Attribute(ctx, "colour")
		if f.reads != 2 {
			t.Errorf("%s: the definition was still served from the cache after the write", name)
		}
	}
}

func (f *fake) CreateCollection(context.Context, catalog.CollectionInput) (catalog.Collection, error) {
	f.collectionWrites++
	return catalog.Collection{}, nil
}

func (f *fake) UpdateCollection(context.Context, string, catalog.CollectionPatch, int64) (catalog.Collection, error) {
	f.collectionWrites++
	return catalog.Collection{}, nil
}

func (f *fake) DeleteCollection(context.Context, string, int64) error {
	f.collectionWrites++
	return nil
}

func (f *fake) SetCollectionProducts(context.Context, string, []string, int64) (catalog.Collection, error) {
	f.collectionWrites++
	return catalog.Collection{}, nil
}

func (f *fake) AddToCollection(context.Context, string, []string, *int) (catalog.Collection, error) {
	f.collectionWrites++
	return catalog.Collection{}, nil
}

func (f *fake) RemoveFromCollection(context.Context, string, string) (catalog.Collection, error) {
	f.collectionWrites++
	return catalog.Collection{}, nil
}

func collectionWrites(ctx context.Context) map[string]func(*readcache.Store) error {
	ignore := func(_ catalog.Collection, err error) error { return err }
	return map[string]func(*readcache.Store) error{
		"CreateCollection": func(c *readcache.Store) error {
			return ignore(c.CreateCollection(ctx, catalog.CollectionInput{}))
		},
		"UpdateCollection": func(c *readcache.Store) error {
			return ignore(c.UpdateCollection(ctx, "c", catalog.CollectionPatch{}, 0))
		},
		"DeleteCollection": func(c *readcache.Store) error { return c.DeleteCollection(ctx, "c", 0) },
		"SetCollectionProducts": func(c *readcache.Store) error {
			return ignore(c.SetCollectionProducts(ctx, "c", []string{"p1"}, 0))
		},
		"AddToCollection": func(c *readcache.Store) error {
			return ignore(c.AddToCollection(ctx, "c", []string{"p1"}, nil))
		},
		"RemoveFromCollection": func(c *readcache.Store) error {
			return ignore(c.RemoveFromCollection(ctx, "c", "p1"))
		},
	}
}

// TestCollectionWritesPassThrough: a collection write reaches the store and leaves the products
// it names cached, since no cached product shows its collections.
func TestCollectionWritesPassThrough(t *testing.T) {
	ctx := context.Background()
	for name, write := range collectionWrites(ctx) {
		f := &fake{}
		c := readcache.New(f, time.Hour, 1<<20)
		c.Product(ctx, "p1")
		if err := write(c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.collectionWrites != 1 {
			t.Errorf("%s reached the store %d times, want once", name, f.collectionWrites)
		}
		c.Product(ctx, "p1")
		if f.reads != 1 {
			t.Errorf("%s evicted the product from the cache", name)
		}
	}
}

// TestMemoLivesWithTheEntry: what Memo built from a cached product is reused until the product
// is invalidated, never built for a product the cache does not hold or for a caller that must
// read current data, and a failed build is not kept.
func TestMemoLivesWithTheEntry(t *testing.T) {
	ctx := context.Background()
	f := &fake{}
	c := readcache.New(f, time.Hour, 1<<20)
	builds := 0
	build := func(d readcache.Doc) (any, error) { builds++; return d.Version, nil }
	if _, ok, _ := c.Memo(ctx, "p1", "k", build); ok || builds != 0 {
		t.Fatalf("Memo of an uncached product: ok %v, %d builds; want false, 0", ok, builds)
	}
	c.Product(ctx, "p1")
	for range 3 {
		if v, ok, err := c.Memo(ctx, "p1", "k", build); !ok || err != nil || v != int64(1) {
			t.Fatalf("Memo = %v, %v, %v; want 1, true, nil", v, ok, err)
		}
	}
	if builds != 1 {
		t.Fatalf("%d builds for three Memo calls on one entry, want 1", builds)
	}
	if _, ok, _ := c.Memo(catalog.WithWriterReads(ctx), "p1", "k", build); ok {
		t.Fatal("Memo answered a caller that must read current data")
	}
	failed := errors.New("boom")
	if _, _, err := c.Memo(ctx, "p1", "bad", func(readcache.Doc) (any, error) { return nil, failed }); !errors.Is(err, failed) {
		t.Fatalf("Memo with a failing build: %v, want %v", err, failed)
	}
	if _, ok, _ := c.Memo(ctx, "p1", "bad", build); !ok || builds != 2 {
		t.Fatalf("after a failed build: ok %v, %d builds; want a new build", ok, builds)
	}
	c.Invalidate("p1")
	if _, ok, _ := c.Memo(ctx, "p1", "k", build); ok {
		t.Fatal("Memo answered from an invalidated product")
	}
	c.Product(ctx, "p1")
	c.Memo(ctx, "p1", "k", build)
	if builds != 3 {
		t.Fatalf("%d builds after the invalidation and a new read, want 3 (the old value dropped)", builds)
	}
	for i := range readcache.MaxMemoKeys + 3 {
		c.Memo(ctx, "p1", strconv.Itoa(i), build)
	}
	before := builds
	for i := range readcache.MaxMemoKeys + 3 {
		c.Memo(ctx, "p1", strconv.Itoa(i), build)
	}
	if kept := readcache.MaxMemoKeys + 3 - (builds - before); kept > readcache.MaxMemoKeys {
		t.Fatalf("%d values kept for one product, at most %d allowed", kept, readcache.MaxMemoKeys)
	}
}
