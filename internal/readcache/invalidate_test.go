package readcache_test

import (
	"context"
	"reflect"
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

func (f *fake) AdjustStock(context.Context, string, catalog.Adjustment, string, *catalog.Idempotency) (catalog.Movement, error) {
	return catalog.Movement{}, nil
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

func (f *fake) SetPrice(context.Context, string, catalog.PriceChange, string, int64) (catalog.Product, catalog.PriceEntry, error) {
	return p1, catalog.PriceEntry{}, nil
}

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
		"AdjustStock": func(c *readcache.Store) error {
			_, err := c.AdjustStock(ctx, "p1", catalog.Adjustment{}, "t", nil)
			return err
		},
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
			_, _, err := c.SetPrice(ctx, "p1", catalog.PriceChange{}, "t", 0)
			return err
		},
		"ApplyDuePrices": func(c *readcache.Store) error { _, err := c.ApplyDuePrices(ctx, 10); return err },
	}
	// Collection writes change no product a read shows (see readcache.go): they must reach the
	// store and leave the cached product where it is; TestCollectionWritesPassThrough checks it.
	for name := range collectionWrites(ctx) {
		writes[name] = nil
	}
	reads := map[string]bool{
		"Product": true, "ProductBySKU": true, "ProductVersions": true, "ListProducts": true,
		"Category": true, "Categories": true, "Empty": true, "Movements": true, "Reservation": true,
		"PriceHistory": true, "Ping": true, "Close": true,
		// Writes that remove only finished records, which no product read shows.
		"PurgeIdempotencyKeys": true, "PurgeReservations": true,
		"Collection": true, "Collections": true,
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
		c := readcache.New(f, time.Hour, 100)
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
		c := readcache.New(f, time.Hour, 100)
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
