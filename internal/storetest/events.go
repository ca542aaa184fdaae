package storetest

import (
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Events conformance (issue 17): the transactional outbox and the change feed.

func eventTests() []namedTest {
	return []namedTest{
		{"EventForEveryWrite", testEventForEveryWrite},
		{"NoEventForRefusedWrite", testNoEventForRefusedWrite},
		{"EventRetention", testEventRetention},
		{"FeedOrderUnderConcurrentWriters", testFeedOrderUnderConcurrentWriters},
	}
}

// feed reads every event after cursor, page by page, and returns them with the last cursor.
func feed(t *testing.T, s catalog.Store, after int64, types ...string) ([]catalog.Event, int64) {
	t.Helper()
	var out []catalog.Event
	for {
		page := must(s.Events(ctx(t), catalog.EventQuery{After: after, Types: types, Limit: 7}))(t)
		out = append(out, page.Events...)
		if len(page.Events) == 0 {
			if page.Next != after {
				t.Fatalf("empty page moved the cursor from %d to %d", after, page.Next)
			}
			return out, after
		}
		after = page.Next
	}
}

// readMethods are the Store methods that change nothing a consumer follows: reads, and the
// housekeeping of records that are already finished. Every other method is a write and must
// appear in testEventForEveryWrite's table.
var readMethods = []string{
	"Attribute", "AttributeList", "Categories", "Category", "Close", "Collection", "Collections", "Empty",
	"Events", "Facets", "ListProducts", "Movements", "Ping", "PriceHistory", "Product", "ProductVersions",
	"Reservation", "Variant", "VariantBySKU", "PurgeEvents", "PurgeIdempotencyKeys", "PurgeReservations",
	// Webhook subscriptions are the feed's consumers, not catalog changes (issue 17).
	"CreateWebhook", "Webhook", "ListWebhooks", "UpdateWebhook", "DeleteWebhook", "RotateWebhookSecret",
	"WebhookDeliveries", "ClaimWebhook", "RecordWebhookAttempt", "PurgeWebhookDeliveries",
	"ClaimFeedConsumer", "AdvanceFeedConsumer", "ReleaseFeedConsumer", // a consumer's position, not the catalog
	"Export",
	// An import job's own record is bookkeeping; the products it writes go through UpsertProducts.
	"CreateImportJob", "ImportJob", "SaveImportJob", "FailStaleImportJobs", "PurgeImportJobs",
}

func testEventForEveryWrite(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:events")
	category(t, s, "ev", "")
	var p catalog.Product
	var v, added catalog.Variant
	var r catalog.Reservation
	steps := []struct {
		method string
		write  func() error
		want   []string // types the write must record (stock and price events may come beside)
	}{
		{"CreateAttribute", func() error {
			_, err := s.CreateAttribute(c, catalog.AttributeDefinitionInput{Key: "ev_fabric", Name: "Fabric", Type: catalog.AttrText})
			return err
		}, []string{catalog.EventAttributeChanged}},
		{"UpdateAttribute", func() error {
			_, err := s.UpdateAttribute(c, "ev_fabric", catalog.AttributeDefinitionInput{Key: "ev_fabric", Name: "Fabric (main)", Type: catalog.AttrText}, 0)
			return err
		}, []string{catalog.EventAttributeChanged}},
		{"DeleteAttribute", func() error { return s.DeleteAttribute(c, "ev_fabric", 0) }, []string{catalog.EventAttributeDeleted}},
		{"CreateCategory", func() error {
			_, err := s.CreateCategory(c, catalog.CategoryInput{Slug: "ev-sub", Name: "Sub", Parent: "ev"})
			return err
		}, []string{catalog.EventCategoryCreated}},
		{"UpdateCategory", func() error {
			name := "Subcategory"
			_, err := s.UpdateCategory(c, "ev-sub", catalog.CategoryPatch{Name: &name})
			return err
		}, []string{catalog.EventCategoryUpdated}},
		{"DeleteCategory", func() error { return s.DeleteCategory(c, "ev-sub") }, []string{catalog.EventCategoryDeleted}},
		{"CreateProduct", func() error {
			var err error
			in := shirt("EV", "ev", []string{"S", "M", "L"}, []string{"Red"}, 1000)
			in.Variants = in.Variants[:2] // L is added below
			p, err = s.CreateProduct(c, in)
			if err == nil {
				v = p.Variants[0]
			}
			return err
		}, []string{catalog.EventProductCreated}},
		{"ReplaceProduct", func() error {
			in := own(shirt("EV", "ev", []string{"S", "M", "L"}, []string{"Red"}, 1000))
			in.Name = "Shirt EV (replaced)"
			_, err := s.ReplaceProduct(c, p.ID, in, 0)
			return err
		}, []string{catalog.EventProductUpdated}},
		{"PatchProduct", func() error {
			name := "Shirt EV (patched)"
			_, err := s.PatchProduct(c, p.ID, catalog.ProductPatch{Name: &name}, 0)
			return err
		}, []string{catalog.EventProductUpdated}},
		{"SetProductStatus", func() error {
			_, err := s.SetProductStatus(c, p.ID, catalog.StatusActive, 0)
			return err
		}, []string{catalog.EventProductUpdated}},
		{"AddVariant", func() error {
			var err error
			added, err = s.AddVariant(c, p.ID, variantInput("EV-L-Red", map[string]string{"Size": "L", "Colour": "Red"}, 1200), 0)
			return err
		}, []string{catalog.EventVariantCreated}},
		{"UpdateVariant", func() error {
			_, err := s.UpdateVariant(c, p.ID, added.ID, catalog.VariantPatch{Barcode: ptr("4006381333931")}, 0)
			return err
		}, []string{catalog.EventVariantUpdated}},
		{"DeleteVariant", func() error { return s.DeleteVariant(c, p.ID, added.ID, 0) }, []string{catalog.EventVariantDeleted}},
		{"SetPrice", func() error {
			_, _, err := s.SetPrice(c, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 900}, "apikey:events", 0)
			return err
		}, []string{catalog.EventPriceChanged}},
		{"SetPrice (scheduled)", func() error {
			from := clock.Now().Add(time.Hour)
			_, _, err := s.SetPrice(c, v.ID, catalog.PriceChange{Currency: "USD", Amount: 800, ValidFrom: &from}, "apikey:events", 0)
			return err
		}, []string{catalog.EventPriceScheduled}},
		{"ApplyDuePrices", func() error {
			clock.Advance(2 * time.Hour)
			ap, err := s.ApplyDuePrices(c, 10)
			if err == nil && len(ap) != 1 {
				t.Errorf("ApplyDuePrices applied %d prices, want 1", len(ap))
			}
			return err
		}, []string{catalog.EventPriceChanged}},
		{"RemovePrice", func() error {
			_, err := s.RemovePrice(c, v.ID, "EUR", "apikey:events", 0)
			return err
		}, []string{catalog.EventVariantUpdated}},
		{"AdjustStock", func() error {
			_, err := s.AdjustStock(c, v.ID, catalog.Adjustment{Delta: 10, Reason: "received"}, "apikey:events", nil)
			return err
		}, []string{catalog.EventStockChanged}},
		{"AdjustStockBatch", func() error {
			_, err := s.AdjustStockBatch(c, []catalog.StockLine{{SKU: v.SKU, Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}}}, "apikey:events", nil)
			return err
		}, []string{catalog.EventStockChanged}},
		{"SetPriceBatch", func() error {
			_, err := s.SetPriceBatch(c, []catalog.PriceLine{{SKU: v.SKU, PriceChange: catalog.PriceChange{Currency: "EUR", Amount: 950}}}, "apikey:events", nil)
			return err
		}, []string{catalog.EventPriceChanged}},
		{"Reserve", func() error {
			var err error
			r, err = s.Reserve(c, reserve(v.SKU, 2), "apikey:events", nil)
			return err
		}, []string{catalog.EventReservationCreated, catalog.EventStockChanged}},
		{"CommitReservation", func() error {
			_, err := s.CommitReservation(c, r.ID, "apikey:events", nil)
			return err
		}, []string{catalog.EventReservationCommitted, catalog.EventStockChanged}},
		{"ReleaseReservation", func() error {
			r2, err := s.Reserve(c, reserve(v.SKU, 1), "apikey:events", nil)
			if err != nil {
				return err
			}
			_, err = s.ReleaseReservation(c, r2.ID, "apikey:events", nil)
			return err
		}, []string{catalog.EventReservationReleased}},
		{"ExpireReservations", func() error {
			if _, err := s.Reserve(c, reserve(v.SKU, 1), "apikey:events", nil); err != nil {
				return err
			}
			clock.Advance(24 * time.Hour)
			got, err := s.ExpireReservations(c, 10)
			if err == nil && len(got) != 1 {
				t.Errorf("ExpireReservations expired %d, want 1", len(got))
			}
			return err
		}, []string{catalog.EventReservationExpired}},
		{"CreateCollection", func() error {
			_, err := s.CreateCollection(c, catalog.CollectionInput{Slug: "ev-picks", Name: "Picks"})
			return err
		}, []string{catalog.EventCollectionChanged}},
		{"UpdateCollection", func() error {
			name := "Our picks"
			_, err := s.UpdateCollection(c, "ev-picks", catalog.CollectionPatch{Name: &name}, 0)
			return err
		}, []string{catalog.EventCollectionChanged}},
		{"SetCollectionProducts", func() error {
			_, err := s.SetCollectionProducts(c, "ev-picks", []string{p.ID}, 0)
			return err
		}, []string{catalog.EventCollectionChanged}},
		{"RemoveFromCollection", func() error {
			_, err := s.RemoveFromCollection(c, "ev-picks", p.ID)
			return err
		}, []string{catalog.EventCollectionChanged}},
		{"AddToCollection", func() error {
			_, err := s.AddToCollection(c, "ev-picks", []string{p.ID}, nil)
			return err
		}, []string{catalog.EventCollectionChanged}},
		{"DeleteCollection", func() error { return s.DeleteCollection(c, "ev-picks", 0) }, []string{catalog.EventCollectionDeleted}},
		{"Import", func() error {
			return s.Import(c, []catalog.NewProduct{{ProductInput: input("EV-IMP", "Imported", "ev", 500)}})
		}, []string{catalog.EventProductCreated}},
		{"UpsertProducts", func() error {
			in := input("EV-UPS", "Upserted", "ev", 700)
			if _, err := s.UpsertProducts(c, []catalog.ImportItem{{Line: 1, Product: in}}, false); err != nil {
				return err
			}
			in.Name = "Upserted again"
			_, err := s.UpsertProducts(c, []catalog.ImportItem{{Line: 1, Product: in}}, false)
			return err
		}, []string{catalog.EventProductCreated, catalog.EventProductUpdated}},
		{"DeleteProduct", func() error {
			ip, _ := bySKU(t, s, "EV-IMP")
			return s.DeleteProduct(c, ip.ID, 0)
		}, []string{catalog.EventProductDeleted}},
	}

	// A write method of the Store missing from the table fails here: a new write must come with
	// its event and this test's row.
	covered := map[string]bool{}
	for _, st := range steps {
		covered[st.method] = true
	}
	ty := reflect.TypeFor[catalog.Store]()
	for i := range ty.NumMethod() {
		if m := ty.Method(i).Name; !covered[m] && !slices.Contains(readMethods, m) {
			t.Errorf("Store.%s is neither a read nor a write with an event in this table", m)
		}
	}

	_, cursor := feed(t, s, 0)
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.method, err)
		}
		var evs []catalog.Event
		evs, cursor = feed(t, s, cursor)
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
			checkEvent(t, st.method, e)
		}
		for _, w := range st.want {
			if !slices.Contains(types, w) {
				t.Errorf("%s recorded %v, want %s among them", st.method, types, w)
			}
		}
	}
}

// checkEvent checks the envelope every event carries.
func checkEvent(t *testing.T, what string, e catalog.Event) {
	t.Helper()
	seq, err := strconv.ParseInt(e.Sequence, 10, 64)
	switch {
	case e.SpecVersion != catalog.CloudEventsVersion || e.ID == "" || e.Source == "" || e.Subject == "" || e.Time.IsZero():
		t.Errorf("%s: incomplete event %+v", what, e)
	case err != nil || seq <= 0:
		t.Errorf("%s: sequence %q", what, e.Sequence)
	case !slices.Contains(catalog.EventTypes, e.Type):
		t.Errorf("%s: unknown type %q", what, e.Type)
	case e.Actor == "":
		t.Errorf("%s: no actor on %s", what, e.Type)
	case e.Data == nil && !isDeletion(e.Type):
		t.Errorf("%s: %s carries no data", what, e.Type)
	}
}

func isDeletion(typ string) bool {
	return typ == catalog.EventProductDeleted || typ == catalog.EventVariantDeleted || typ == catalog.EventCategoryDeleted ||
		typ == catalog.EventCollectionDeleted || typ == catalog.EventAttributeDeleted
}

func testNoEventForRefusedWrite(t *testing.T, s catalog.Store, _ *FakeClock) {
	v := stocked(t, s, map[string]int64{"EVR-1": 1})["EVR-1"]
	_, cursor := feed(t, s, 0)
	c := ctx(t)
	refusals := map[string]error{}
	_, refusals["stale ReplaceProduct"] = s.SetProductStatus(c, v.ProductID, catalog.StatusDraft, 999)
	_, refusals["oversell"] = s.Reserve(c, reserve("EVR-1", 5), "apikey:t", nil)
	_, refusals["negative stock"] = s.AdjustStock(c, v.ID, catalog.Adjustment{Delta: -5, Reason: "damaged"}, "apikey:t", nil)
	_, refusals["duplicate category"] = s.CreateCategory(c, catalog.CategoryInput{Slug: "stock", Name: "Again"})
	refusals["delete with stock"] = s.DeleteProduct(c, v.ProductID, 0)
	_, refusals["duplicate SKU"] = s.CreateProduct(c, input("EVR-1", "Clash", "stock", 100))
	for what, err := range refusals {
		if err == nil {
			t.Errorf("%s was not refused", what)
		}
	}
	if evs, _ := feed(t, s, cursor); len(evs) != 0 {
		t.Fatalf("refused writes recorded %d events: first %s %s", len(evs), evs[0].Type, evs[0].Subject)
	}
}

func testEventRetention(t *testing.T, s catalog.Store, clock *FakeClock) {
	category(t, s, "old", "")
	_, first := feed(t, s, 0)
	if first == 0 {
		t.Fatal("creating a category recorded no event")
	}
	clock.Advance(catalog.DefaultEventRetention + time.Hour)
	category(t, s, "new", "")
	n := 0
	for {
		k, err := s.PurgeEvents(ctx(t), catalog.DefaultEventRetention, 1)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		n += k
	}
	if n != int(first) {
		t.Fatalf("purged %d events, want the %d older than retention", n, first)
	}
	_, err := s.Events(ctx(t), catalog.EventQuery{After: 0, Limit: 10})
	wantCode(t, err, catalog.CodeGone)
	evs, _ := feed(t, s, first)
	if len(evs) != 1 || evs[0].Type != catalog.EventCategoryCreated || evs[0].Subject != "categories/new" {
		t.Fatalf("after the purge the feed holds %+v, want the new category's event", evs)
	}
	if evs, _ := feed(t, s, first, catalog.EventProductCreated); len(evs) != 0 {
		t.Fatalf("a types filter let through %+v", evs)
	}
}

// testFeedOrderUnderConcurrentWriters runs 8 writers while a consumer follows the feed: the
// consumer must see every event exactly once, in increasing sequence, never one numbered below
// a cursor it already passed (on PostgreSQL, the case an identity column would get wrong).
func testFeedOrderUnderConcurrentWriters(t *testing.T, s catalog.Store, _ *FakeClock) {
	const writers, each = 8, 25
	units := map[string]int64{}
	for w := range writers {
		units["EVC-"+strconv.Itoa(w)] = 0
	}
	vs := stocked(t, s, units)
	_, start := feed(t, s, 0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := vs["EVC-"+strconv.Itoa(w)]
			for range each {
				if _, err := s.AdjustStock(ctx(t), v.ID, catalog.Adjustment{Delta: 1, Reason: "received"}, "apikey:t", nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	cursor, last := start, start
	consume := func() {
		page, err := s.Events(ctx(t), catalog.EventQuery{After: cursor, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			seq, _ := strconv.ParseInt(e.Sequence, 10, 64)
			if seq <= last {
				t.Fatalf("event %d came after %d", seq, last)
			}
			if seen[e.ID] {
				t.Fatalf("event %s delivered twice", e.ID)
			}
			seen[e.ID], last = true, seq
		}
		cursor = page.Next
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			consume()
		}
	}
	for range 1000 { // the writers have committed: drain what the horizon still held back
		n := len(seen)
		consume()
		if len(seen) == n && len(seen) >= writers*each {
			break
		}
		if len(seen) == n {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(seen) != writers*each {
		t.Fatalf("the consumer saw %d events, want %d (one stock.changed per adjustment)", len(seen), writers*each)
	}
}
