package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Export conformance (issue 17, ADR 0020): an export is one snapshot, its cursor splits the
// feed exactly where the snapshot does, and export + feed from the cursor rebuilds the catalog.
func exportTests() []struct {
	name string
	fn   func(*testing.T, catalog.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"ExportMatchesReads", testExportMatchesReads},
		{"ExportIsOneSnapshot", testExportIsOneSnapshot},
		{"ExportPlusFeedRebuildsCatalog", testExportPlusFeedRebuildsCatalog},
		{"ExportPagesOfBigProducts", testExportPagesOfBigProducts},
	}
}

// export runs s.Export and returns its cursor and products.
func export(t testing.TB, s catalog.Store, q catalog.ExportQuery, each func(catalog.Product)) (int64, []catalog.Product) {
	t.Helper()
	var (
		cursor int64
		begun  int
		out    []catalog.Product
	)
	err := s.Export(context.Background(), q, func(h catalog.ExportHead) error {
		cursor = h.Cursor
		begun++
		return nil
	}, func(p catalog.Product) error {
		if begun != 1 {
			t.Errorf("a product came before begin (begin called %d times)", begun)
		}
		out = append(out, p)
		if each != nil {
			each(p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Export(%+v) = %v", q.Filter, err)
	}
	return cursor, out
}

func testExportMatchesReads(t *testing.T, s catalog.Store) {
	category(t, s, "home", "")
	category(t, s, "mugs", "home")
	category(t, s, "garden", "")
	var want []catalog.Product
	for i := range 7 {
		cat := []string{"mugs", "home", "garden"}[i%3]
		in := input(fmt.Sprintf("EXP-%d", i), fmt.Sprintf("Export %d", i), cat, int64(100+i))
		if i == 3 {
			in = catalog.ProductInput{Name: "Tee", Category: "mugs", Status: catalog.StatusDraft,
				Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}},
				Variants: []catalog.VariantInput{
					{SKU: "EXP-TEE-S", Options: map[string]string{"Size": "S"}, InitialStock: 4,
						Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1200}, {Currency: "EUR", Amount: 1100}}},
					{SKU: "EXP-TEE-M", Options: map[string]string{"Size": "M"}, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1300}}}}}
			in.Normalize()
		}
		want = append(want, must(s.CreateProduct(ctx(t), in))(t))
	}
	_, got := export(t, s, catalog.ExportQuery{}, nil)
	if len(got) != len(want) {
		t.Fatalf("Export() gave %d products, want %d", len(got), len(want))
	}
	for i, p := range got {
		read, _ := json.Marshal(must(s.Product(ctx(t), want[i].ID))(t))
		if exported, _ := json.Marshal(p); string(read) != string(exported) {
			t.Errorf("exported product %d differs from Product(%s):\nread   %s\nexport %s", i, want[i].ID, read, exported)
		}
	}
	// Filters are the list's: a category with its sub-categories, statuses, search.
	_, got = export(t, s, catalog.ExportQuery{Filter: catalog.ProductFilter{Category: "home", Statuses: []catalog.Status{catalog.StatusActive}}}, nil)
	var ids []string
	for _, p := range got {
		ids = append(ids, p.Name)
	}
	if w := []string{"Export 0", "Export 1", "Export 4", "Export 6"}; !slices.Equal(ids, w) {
		t.Errorf("Export(category=home, status=active) = %v, want %v", ids, w)
	}
	_, got = export(t, s, catalog.ExportQuery{Filter: catalog.ProductFilter{Query: "exp-tee-m"}}, nil)
	if len(got) != 1 || got[0].Name != "Tee" {
		t.Errorf("Export(q=exp-tee-m) = %d products, want the Tee", len(got))
	}
	err := s.Export(ctx(t), catalog.ExportQuery{Filter: catalog.ProductFilter{Category: "nope"}}, func(catalog.ExportHead) error {
		t.Error("begin called for an unknown category")
		return nil
	}, func(catalog.Product) error { return nil })
	wantCode(t, err, catalog.CodeNotFound)
	err = s.Export(ctx(t), catalog.ExportQuery{Filter: catalog.ProductFilter{Collection: "nope"}}, func(catalog.ExportHead) error { return nil }, func(catalog.Product) error { return nil })
	wantCode(t, err, catalog.CodeNotFound)
	// The caller's error stops the export and comes back as it is.
	stop := errors.New("client went away")
	n := 0
	err = s.Export(ctx(t), catalog.ExportQuery{}, func(catalog.ExportHead) error { return nil }, func(catalog.Product) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("Export with a failing callback = %v after %d products, want the callback's error after 2", err, n)
	}
}

// testExportIsOneSnapshot writes while an export of more than one page is under way: the
// export shows none of it, and the feed after the export's cursor shows all of it.
func testExportIsOneSnapshot(t *testing.T, s catalog.Store) {
	category(t, s, "bulk", "")
	n := catalog.ExportPageSize + 37
	batch := make([]catalog.NewProduct, n)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	for i := range batch {
		in := input(fmt.Sprintf("SNAP-%04d", i), fmt.Sprintf("Snap %04d", i), "bulk", 500)
		in.Variants[0].InitialStock = 3
		if i == 1 {
			in.Variants[0].InitialStock = 0 // deletable
		}
		batch[i] = catalog.NewProduct{ProductInput: in, CreatedAt: base.Add(time.Duration(i) * time.Millisecond)}
	}
	if err := s.Import(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	first := must(s.ListProducts(ctx(t), catalog.ListQuery{Sort: catalog.SortOldest, Limit: 2, Filter: catalog.ProductFilter{Category: "bulk"}}))(t)
	_, lastV := bySKU(t, s, fmt.Sprintf("SNAP-%04d", n-1))
	var (
		created  catalog.Product
		wrote    bool
		writeErr error
	)
	cursor, got := export(t, s, catalog.ExportQuery{}, func(p catalog.Product) {
		if wrote {
			return
		}
		wrote = true
		// Writes after the snapshot began, while its first page is being read.
		c := context.Background()
		name := "Changed during the export"
		_, err1 := s.PatchProduct(c, lastV.ProductID, catalog.ProductPatch{Name: &name}, 0)
		var err2 error
		created, err2 = s.CreateProduct(c, input("SNAP-NEW", "New during the export", "bulk", 700))
		err3 := s.DeleteProduct(c, first.Items[1].ID, 0)
		_, err4 := s.AdjustStock(c, lastV.ID, catalog.Adjustment{Delta: 5, Reason: "received"}, "apikey:snap", nil)
		writeErr = errors.Join(err1, err2, err3, err4)
	})
	if writeErr != nil {
		t.Fatalf("writes during the export: %v", writeErr)
	}
	if len(got) != n {
		t.Fatalf("export gave %d products, want %d (the catalog as it was when it began)", len(got), n)
	}
	last := got[n-1]
	if last.Name != fmt.Sprintf("Snap %04d", n-1) || last.Variants[0].Stock.OnHand != 3 {
		t.Errorf("the last product exported is %q with %d on hand: a write after the snapshot shows", last.Name, last.Variants[0].Stock.OnHand)
	}
	if got[1].ID != first.Items[1].ID {
		t.Errorf("the product deleted during the export is missing from it")
	}
	for _, p := range got {
		if p.ID == created.ID {
			t.Errorf("the product created during the export is in it")
		}
	}
	// Every change the export does not show is after its cursor; nothing of them before it.
	after := feedAfter(t, s, cursor)
	want := map[string]string{
		"products/" + lastV.ProductID + ":" + catalog.EventProductUpdated:                         "the patch",
		"products/" + created.ID + ":" + catalog.EventProductCreated:                              "the create",
		"products/" + first.Items[1].ID + ":" + catalog.EventProductDeleted:                       "the delete",
		"products/" + lastV.ProductID + "/variants/" + lastV.ID + ":" + catalog.EventStockChanged: "the adjustment",
	}
	for _, e := range after {
		delete(want, e.Subject+":"+e.Type)
	}
	for _, what := range want {
		t.Errorf("the feed after the export's cursor %d lacks the event of %s made during the export", cursor, what)
	}
	for _, e := range feedAfter(t, s, 0) {
		if seq(t, e) <= cursor && e.Subject == "products/"+created.ID {
			t.Errorf("event %s %s of a write the export does not show is at or below its cursor %d", e.Type, e.Subject, cursor)
		}
	}
}

// testExportPagesOfBigProducts: pages end at catalog.ExportPageVariants variants (so memory
// holds a bounded number of variants whatever the products' sizes) and no product is lost or
// repeated where a page ends early: four products of 1,700 variants make two pages.
func testExportPagesOfBigProducts(t *testing.T, s catalog.Store) {
	category(t, s, "big", "")
	sizes, colours := make([]string, 50), make([]string, 34)
	for i := range sizes {
		sizes[i] = fmt.Sprintf("S%02d", i)
	}
	for i := range colours {
		colours[i] = fmt.Sprintf("C%02d", i)
	}
	if n := len(sizes) * len(colours); 3*n < catalog.ExportPageVariants || 2*n >= catalog.ExportPageVariants {
		t.Fatalf("%d variants a product do not end a page at the third product", n)
	}
	var want []string
	for i := range 4 {
		want = append(want, must(s.CreateProduct(ctx(t), shirt(fmt.Sprintf("BIG%d", i), "big", sizes, colours, 1000)))(t).ID)
	}
	small := must(s.CreateProduct(ctx(t), input("BIG-SMALL", "Small", "big", 100)))(t)
	want = append(want, small.ID)
	var got []string
	variants := 0
	export(t, s, catalog.ExportQuery{}, func(p catalog.Product) {
		got = append(got, p.ID)
		variants += len(p.Variants)
	})
	if !slices.Equal(got, want) || variants != 4*len(sizes)*len(colours)+1 {
		t.Errorf("export across early page ends gave %d products (%d variants), want %d in creation order (%d)",
			len(got), variants, len(want), 4*len(sizes)*len(colours)+1)
	}
}

// feedAfter reads the whole feed after cursor.
func feedAfter(t testing.TB, s catalog.Store, cursor int64) []catalog.Event {
	t.Helper()
	var out []catalog.Event
	for {
		page := must(s.Events(context.Background(), catalog.EventQuery{After: cursor, Limit: catalog.MaxEventLimit}))(t)
		out = append(out, page.Events...)
		if len(page.Events) == 0 {
			return out
		}
		cursor = page.Next
	}
}

func seq(t testing.TB, e catalog.Event) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(e.Sequence, &n); err != nil {
		t.Fatalf("event sequence %q: %v", e.Sequence, err)
	}
	return n
}

// testExportPlusFeedRebuildsCatalog exports while 4 writers change products, then builds a
// replica from the export and the feed from its cursor: it must equal a fresh export. Each
// writer owns its products, so changes to one product are in commit order in the feed (see
// ADR 0020 on writes to one entity from concurrent transactions).
func testExportPlusFeedRebuildsCatalog(t *testing.T, s catalog.Store) {
	category(t, s, "live", "")
	const writers, perWriter = 4, 15
	type owned struct {
		id, variant string
		stock       int64
	}
	mine := make([][]owned, writers)
	for w := range writers {
		for i := range perWriter {
			p := must(s.CreateProduct(ctx(t), input(fmt.Sprintf("LIVE-%d-%d", w, i), fmt.Sprintf("Live %d %d", w, i), "live", 1000)))(t)
			mine[w] = append(mine[w], owned{id: p.ID, variant: p.Variants[0].ID})
		}
	}
	stop := make(chan struct{})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		writes int
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 17))
			c := catalog.WithActor(context.Background(), fmt.Sprintf("apikey:w%d", w))
			made := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				if len(mine[w]) == 0 {
					continue
				}
				k := rng.IntN(len(mine[w]))
				o := &mine[w][k]
				var err error
				switch op := rng.IntN(6); {
				case op == 0:
					name := fmt.Sprintf("Live %d renamed %d", w, rng.IntN(1000))
					_, err = s.PatchProduct(c, o.id, catalog.ProductPatch{Name: &name}, 0)
				case op == 1:
					_, _, err = s.SetPrice(c, o.variant, catalog.PriceChange{Currency: "USD", Amount: int64(900 + rng.IntN(500))}, "apikey:w", 0)
				case op == 2 || (op == 3 && o.stock == 0):
					_, err = s.AdjustStock(c, o.variant, catalog.Adjustment{Delta: 2, Reason: "received"}, "apikey:w", nil)
					o.stock += 2
				case op == 3:
					_, err = s.AdjustStock(c, o.variant, catalog.Adjustment{Delta: -1, Reason: "damaged"}, "apikey:w", nil)
					o.stock--
				case op == 4:
					made++
					var p catalog.Product
					p, err = s.CreateProduct(c, input(fmt.Sprintf("LIVE-%d-N%d", w, made), "New", "live", 1500))
					if err == nil {
						mine[w] = append(mine[w], owned{id: p.ID, variant: p.Variants[0].ID})
					}
				case op == 5 && o.stock == 0:
					err = s.DeleteProduct(c, o.id, 0)
					if err == nil {
						mine[w] = slices.Delete(mine[w], k, k+1)
					}
				}
				mu.Lock()
				writes++
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(30 * time.Millisecond)
	// A slow reader: the writers keep going while the snapshot is read.
	cursor, snapshot := export(t, s, catalog.ExportQuery{}, func(catalog.Product) { time.Sleep(2 * time.Millisecond) })
	time.Sleep(30 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d writes failed, first: %v", len(errs), writes, errs[0])
	}
	replica := map[string]catalog.Product{}
	for _, p := range snapshot {
		replica[p.ID] = p
	}
	events := feedAfter(t, s, cursor)
	for _, e := range events {
		if err := applyEvent(replica, e); err != nil {
			t.Fatalf("apply %s %s: %v", e.Type, e.Subject, err)
		}
	}
	_, fresh := export(t, s, catalog.ExportQuery{}, nil)
	want := map[string]string{}
	for _, p := range fresh {
		want[p.ID] = replicaForm(p)
	}
	got := map[string]string{}
	for id, p := range replica {
		got[id] = replicaForm(p)
	}
	for id, w := range want {
		if g := got[id]; g != w {
			t.Errorf("product %s: export at cursor %d + %d events after it != a fresh export (%d writes during it):\nfresh   %s\nreplica %s", id, cursor, len(events), writes, w, g)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("product %s is in the replica but not in a fresh export: %s", id, g)
		}
	}
	t.Logf("%d writes, export of %d products at cursor %d, %d events after it", writes, len(snapshot), cursor, len(events))
}

// applyEvent applies one event's new state to a replica of the catalog, as a consumer does.
func applyEvent(replica map[string]catalog.Product, e catalog.Event) error {
	parts := strings.Split(e.Subject, "/")
	if parts[0] != "products" || len(parts) < 2 {
		return nil
	}
	pid := parts[1]
	p, known := replica[pid]
	variant := func(vid string) (*catalog.Variant, error) {
		for i := range p.Variants {
			if p.Variants[i].ID == vid {
				return &p.Variants[i], nil
			}
		}
		return nil, fmt.Errorf("variant %s is not in the replica's product", vid)
	}
	switch e.Type {
	case catalog.EventProductCreated, catalog.EventProductUpdated:
		var np catalog.Product
		if err := json.Unmarshal(e.Data, &np); err != nil {
			return err
		}
		replica[pid] = np
		return nil
	case catalog.EventProductDeleted:
		delete(replica, pid)
		return nil
	}
	if !known {
		return fmt.Errorf("product %s is not in the replica", pid)
	}
	switch e.Type {
	case catalog.EventStockChanged:
		var sl catalog.StockLevel
		if err := json.Unmarshal(e.Data, &sl); err != nil {
			return err
		}
		v, err := variant(sl.VariantID)
		if err != nil {
			return err
		}
		v.Stock = catalog.NewStock(sl.OnHand, sl.Reserved, 0)
	case catalog.EventPriceChanged:
		var pe catalog.PriceEvent
		if err := json.Unmarshal(e.Data, &pe); err != nil {
			return err
		}
		v, err := variant(pe.VariantID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(v.Prices, func(pr catalog.Price) bool { return pr.Currency == pe.Price.Currency })
		pr := catalog.Price{Currency: pe.Price.Currency, Amount: pe.Price.Amount, CompareAt: pe.CompareAt}
		if i < 0 {
			v.Prices = append(v.Prices, pr)
		} else {
			v.Prices[i] = pr
		}
	case catalog.EventVariantCreated, catalog.EventVariantUpdated:
		var nv catalog.Variant
		if err := json.Unmarshal(e.Data, &nv); err != nil {
			return err
		}
		if v, err := variant(nv.ID); err == nil {
			*v = nv
		} else {
			p.Variants = append(p.Variants, nv)
		}
	case catalog.EventVariantDeleted:
		p.Variants = slices.DeleteFunc(p.Variants, func(v catalog.Variant) bool { return v.ID == parts[len(parts)-1] })
	}
	replica[pid] = p
	return nil
}

// replicaForm is what a replica built from events can hold of a product: everything but the
// versions and times events do not all carry, and the figures derived from the variants
// (recomputed), as JSON. A price's prior_price and sale end are re-read by consumers that
// need them (catalog.price.changed carries the price line).
func replicaForm(p catalog.Product) string {
	p.Version, p.StockVersion, p.UpdatedAt = 0, 0, time.Time{}
	vs := slices.Clone(p.Variants)
	for i := range vs {
		v := &vs[i]
		v.ProductVersion, v.UpdatedAt = 0, time.Time{}
		v.Stock = catalog.NewStock(v.Stock.OnHand, v.Stock.Reserved, 0)
		ps := slices.Clone(v.Prices)
		for j := range ps {
			ps[j].PriorPrice, ps[j].SaleEndsAt = nil, nil
		}
		slices.SortFunc(ps, func(a, b catalog.Price) int { return strings.Compare(a.Currency, b.Currency) })
		v.Prices = ps
	}
	slices.SortFunc(vs, func(a, b catalog.Variant) int { return a.Position - b.Position })
	p.Variants = vs
	p.Summarize()
	b, _ := json.Marshal(p)
	return string(b)
}
