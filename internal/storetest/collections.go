package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

func collectionTests() []struct {
	name string
	fn   func(*testing.T, catalog.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"CollectionLifecycle", testCollectionLifecycle},
		{"CollectionOrderMoveRemove", testCollectionOrder},
		{"CollectionRefusals", testCollectionRefusals},
		{"CollectionProductDeleted", testCollectionProductDeleted},
		{"CollectionPagination", testCollectionPagination},
		{"CollectionConcurrentAdds", testCollectionConcurrentAdds},
		{"CollectionRandomEdits", testCollectionRandomEdits},
		{"CollectionRenumbers", testCollectionRenumbers},
		{"CollectionAddsRaceDeletes", testCollectionAddsRaceDeletes},
	}
}

// products creates n active products named "P000".. in category "coll" and returns their IDs
// in creation order.
func products(t *testing.T, s catalog.Store, n int) []string {
	t.Helper()
	if _, err := s.Category(ctx(t), "coll"); catalog.ErrorCode(err) == catalog.CodeNotFound {
		category(t, s, "coll", "")
	}
	ids := make([]string, n)
	for i := range ids {
		in := input(fmt.Sprintf("COLL-%04d", i), fmt.Sprintf("P%03d", i), "coll", int64(100+i))
		ids[i] = must(s.CreateProduct(ctx(t), in))(t).ID
	}
	return ids
}

func collection(t *testing.T, s catalog.Store, slug string) catalog.Collection {
	t.Helper()
	return must(s.CreateCollection(ctx(t), catalog.CollectionInput{Slug: slug, Name: strings.ToUpper(slug)}))(t)
}

// members lists the collection in its order, every status, one page.
func members(t *testing.T, s catalog.Store, slug string) []string {
	t.Helper()
	q := catalog.ListQuery{Filter: catalog.ProductFilter{Collection: slug}, Sort: catalog.SortPosition, Limit: catalog.MaxLimit}
	page := must(s.ListProducts(ctx(t), q))(t)
	ids := []string{}
	for _, p := range page.Items {
		ids = append(ids, p.ID)
	}
	return ids
}

func wantMembers(t *testing.T, s catalog.Store, slug string, want []string) {
	t.Helper()
	if got := members(t, s, slug); !slices.Equal(got, want) {
		t.Fatalf("collection %s holds\n %v\nwant\n %v", slug, got, want)
	}
	if c := must(s.Collection(ctx(t), slug))(t); c.ProductCount != int64(len(want)) {
		t.Fatalf("collection %s product_count = %d, want %d", slug, c.ProductCount, len(want))
	}
}

func testCollectionLifecycle(t *testing.T, s catalog.Store) {
	c := collection(t, s, "flash-sale")
	if c.Version != 1 || c.ProductCount != 0 || c.Name != "FLASH-SALE" || c.CreatedAt.IsZero() || !c.CreatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("new collection = %+v", c)
	}
	_, err := s.CreateCollection(ctx(t), catalog.CollectionInput{Slug: "flash-sale", Name: "Again"})
	wantCode(t, err, catalog.CodeConflict)
	collection(t, s, "new-this-week")
	all := must(s.Collections(ctx(t)))(t)
	if len(all) != 2 || all[0].Slug != "flash-sale" || all[1].Slug != "new-this-week" {
		t.Fatalf("Collections = %+v, want flash-sale, new-this-week", all)
	}

	name, desc := "Flash sale", "Today only"
	got := must(s.UpdateCollection(ctx(t), "flash-sale", catalog.CollectionPatch{Name: &name, Description: &desc}, 1))(t)
	if got.Version != 2 || got.Name != name || got.Description != desc {
		t.Fatalf("updated = %+v, want version 2 with the new name and description", got)
	}
	same := must(s.UpdateCollection(ctx(t), "flash-sale", catalog.CollectionPatch{Name: &name}, 0))(t)
	if same.Version != 2 {
		t.Fatalf("a patch that changes nothing moved the version to %d", same.Version)
	}
	_, err = s.UpdateCollection(ctx(t), "flash-sale", catalog.CollectionPatch{Name: &desc}, 1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, err = s.UpdateCollection(ctx(t), "no-such", catalog.CollectionPatch{Name: &desc}, 0)
	wantCode(t, err, catalog.CodeNotFound)

	ids := products(t, s, 2)
	must(s.SetCollectionProducts(ctx(t), "flash-sale", ids, 2))(t)
	wantCode(t, s.DeleteCollection(ctx(t), "flash-sale", 2), catalog.CodePreconditionFailed)
	if err := s.DeleteCollection(ctx(t), "flash-sale", 3); err != nil {
		t.Fatal(err)
	}
	_, err = s.Collection(ctx(t), "flash-sale")
	wantCode(t, err, catalog.CodeNotFound)
	wantCode(t, s.DeleteCollection(ctx(t), "flash-sale", 0), catalog.CodeNotFound)
	for _, id := range ids { // the products stay
		must(s.Product(ctx(t), id))(t)
	}
	// A new collection of the same name starts empty: the old list went with the old one.
	collection(t, s, "flash-sale")
	wantMembers(t, s, "flash-sale", []string{})
}

func testCollectionOrder(t *testing.T, s catalog.Store) {
	ids := products(t, s, 6)
	a, b, c, d, e, f := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	v := collection(t, s, "picks").Version
	step := func(got catalog.Collection, what string) {
		t.Helper()
		if got.Version != v+1 {
			t.Fatalf("%s: version %d, want %d", what, got.Version, v+1)
		}
		v = got.Version
	}
	step(must(s.SetCollectionProducts(ctx(t), "picks", []string{c, a, b}, v))(t), "set")
	wantMembers(t, s, "picks", []string{c, a, b})
	same := must(s.SetCollectionProducts(ctx(t), "picks", []string{c, a, b}, 0))(t)
	if same.Version != v {
		t.Fatalf("setting the same list moved the version to %d", same.Version)
	}
	step(must(s.AddToCollection(ctx(t), "picks", []string{d}, nil))(t), "append")
	wantMembers(t, s, "picks", []string{c, a, b, d})
	step(must(s.AddToCollection(ctx(t), "picks", []string{e, f}, ptr(0)))(t), "add at the front")
	wantMembers(t, s, "picks", []string{e, f, c, a, b, d})
	step(must(s.AddToCollection(ctx(t), "picks", []string{d}, ptr(2)))(t), "move d to 2")
	wantMembers(t, s, "picks", []string{e, f, d, c, a, b})
	step(must(s.AddToCollection(ctx(t), "picks", []string{e}, ptr(99)))(t), "move e past the end")
	wantMembers(t, s, "picks", []string{f, d, c, a, b, e})
	step(must(s.AddToCollection(ctx(t), "picks", []string{b, f}, ptr(1)))(t), "move b and f to 1")
	// Without b and f the list is d c a e; they go before index 1 of that.
	wantMembers(t, s, "picks", []string{d, b, f, c, a, e})
	step(must(s.RemoveFromCollection(ctx(t), "picks", c))(t), "remove")
	wantMembers(t, s, "picks", []string{d, b, f, a, e})
	_, err := s.RemoveFromCollection(ctx(t), "picks", c)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.SetCollectionProducts(ctx(t), "picks", []string{a}, v-1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	step(must(s.SetCollectionProducts(ctx(t), "picks", []string{}, v))(t), "set empty")
	wantMembers(t, s, "picks", []string{})
}

// wantField fails unless err has code and names field.
func wantField(t *testing.T, err error, code catalog.Code, field string) {
	t.Helper()
	wantCode(t, err, code)
	if !strings.Contains(fieldsOf(err), field) {
		t.Fatalf("error %v does not name %s", err, field)
	}
}

func testCollectionRefusals(t *testing.T, s catalog.Store) {
	ids := products(t, s, 3)
	collection(t, s, "picks")
	must(s.SetCollectionProducts(ctx(t), "picks", ids[:1], 0))(t)
	unknown := catalog.NewID()

	_, err := s.SetCollectionProducts(ctx(t), "picks", []string{ids[1], ids[2], ids[1]}, 0)
	wantField(t, err, catalog.CodeUnprocessable, "product_ids[2]")
	_, err = s.SetCollectionProducts(ctx(t), "picks", []string{ids[1], unknown}, 0)
	wantField(t, err, catalog.CodeUnprocessable, "product_ids[1]")
	_, err = s.AddToCollection(ctx(t), "picks", []string{unknown}, nil)
	wantField(t, err, catalog.CodeUnprocessable, "product_ids[0]")
	_, err = s.AddToCollection(ctx(t), "picks", []string{ids[2], ids[2]}, nil)
	wantField(t, err, catalog.CodeUnprocessable, "product_ids[1]")
	_, err = s.AddToCollection(ctx(t), "picks", []string{"not-an-id"}, nil)
	wantField(t, err, catalog.CodeInvalid, "product_ids[0]")
	_, err = s.AddToCollection(ctx(t), "picks", []string{ids[1]}, ptr(-1))
	wantField(t, err, catalog.CodeInvalid, "position")
	_, err = s.AddToCollection(ctx(t), "picks", nil, nil)
	wantField(t, err, catalog.CodeInvalid, "product_ids")
	// Every refusal changed nothing.
	wantMembers(t, s, "picks", ids[:1])

	_, err = s.AddToCollection(ctx(t), "nope", ids[:1], nil)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.SetCollectionProducts(ctx(t), "nope", ids[:1], 0)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.RemoveFromCollection(ctx(t), "nope", ids[0])
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.ListProducts(ctx(t), catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "nope"}, Sort: catalog.SortPosition, Limit: 10})
	wantField(t, err, catalog.CodeNotFound, "collection")
	_, err = s.ListProducts(ctx(t), catalog.ListQuery{Sort: catalog.SortPosition, Limit: 10})
	wantField(t, err, catalog.CodeInvalid, "sort")
}

func testCollectionProductDeleted(t *testing.T, s catalog.Store) {
	ids := products(t, s, 3)
	collection(t, s, "one")
	collection(t, s, "two")
	v1 := must(s.SetCollectionProducts(ctx(t), "one", ids, 0))(t).Version
	v2 := must(s.SetCollectionProducts(ctx(t), "two", ids[1:2], 0))(t).Version
	if err := s.DeleteProduct(ctx(t), ids[1], 0); err != nil {
		t.Fatal(err)
	}
	wantMembers(t, s, "one", []string{ids[0], ids[2]})
	wantMembers(t, s, "two", []string{})
	if c := must(s.Collection(ctx(t), "one"))(t); c.Version <= v1 {
		t.Errorf("deleting a member left collection one at version %d", c.Version)
	}
	if c := must(s.Collection(ctx(t), "two"))(t); c.Version <= v2 {
		t.Errorf("deleting a member left collection two at version %d", c.Version)
	}
}

// testCollectionPagination pages through a collection of 250 in its own order and by name,
// with filters, at several page sizes: no product is skipped or repeated.
func testCollectionPagination(t *testing.T, s catalog.Store) {
	ids := products(t, s, 250)
	order := slices.Clone(ids)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	collection(t, s, "big")
	must(s.SetCollectionProducts(ctx(t), "big", order, 0))(t)
	// Every third product in the list is a draft, which the active filter leaves out.
	var active []string
	for i, id := range order {
		if i%3 == 0 {
			must(s.SetProductStatus(ctx(t), id, catalog.StatusDraft, 0))(t)
			continue
		}
		active = append(active, id)
	}
	sku := map[string]string{}
	for i, id := range ids {
		sku[id] = fmt.Sprintf("COLL-%04d", i)
	}
	skus := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = sku[id]
		}
		return out
	}
	for _, limit := range []int{1, 7, 100} {
		q := catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "big"}, Sort: catalog.SortPosition, Limit: limit}
		if got := pageAll(t, s, q); !slices.Equal(got, skus(order)) {
			t.Fatalf("limit %d: paged %d products, want the 250 in the collection's order", limit, len(got))
		}
		q.Filter.Statuses = []catalog.Status{catalog.StatusActive}
		if got := pageAll(t, s, q); !slices.Equal(got, skus(active)) {
			t.Fatalf("limit %d, active: paged %d products, want the %d active in order", limit, len(got), len(active))
		}
	}
	byName := skus(active)
	slices.Sort(byName) // names follow SKUs: P000 is COLL-0000
	q := catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "big", Statuses: []catalog.Status{catalog.StatusActive}}, Sort: catalog.SortName, Limit: 9}
	if got := pageAll(t, s, q); !slices.Equal(got, byName) {
		t.Fatalf("by name: paged %v, want %v", got, byName)
	}
	q = catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "big", Statuses: []catalog.Status{catalog.StatusActive}}, Sort: catalog.SortPosition, Limit: 5, WithTotal: true}
	page := must(s.ListProducts(ctx(t), q))(t)
	if page.Total == nil || *page.Total != int64(len(active)) {
		t.Fatalf("total = %v, want %d", page.Total, len(active))
	}
	// A cursor from another collection's list is refused.
	collection(t, s, "other")
	q.After = page.Next
	q.Filter.Collection = "other"
	if err := q.Validate(); catalog.ErrorCode(err) != catalog.CodeInvalid {
		t.Fatalf("a cursor of collection big used on other: %v, want invalid", err)
	}
}

// testCollectionConcurrentAdds: 8 writers add to one collection at once, at the front, the
// end and in between; every product arrives exactly once.
func testCollectionConcurrentAdds(t *testing.T, s catalog.Store) {
	const writers, each = 8, 6
	ids := products(t, s, writers*each)
	collection(t, s, "rush")
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var pos *int
				switch (w + i) % 3 {
				case 0:
					pos = ptr(0)
				case 1:
					pos = ptr(w)
				}
				if _, err := s.AddToCollection(ctx(t), "rush", []string{ids[w*each+i]}, pos); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := members(t, s, "rush")
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("after concurrent adds the collection holds %d products, want all %d once", len(got), len(want))
	}
	if c := must(s.Collection(ctx(t), "rush"))(t); c.Version != 1+writers*each {
		t.Fatalf("version %d after %d adds, want %d", c.Version, writers*each, 1+writers*each)
	}
}

// testCollectionRandomEdits applies random adds, moves and removes, most of them at index 1
// (where the gap between keys runs out fastest, so renumbering happens), and compares the
// stored order with a model after each.
func testCollectionRandomEdits(t *testing.T, s catalog.Store) {
	ids := products(t, s, 30)
	collection(t, s, "mix")
	rng := rand.New(rand.NewPCG(3, 4))
	var model []string
	for op := range 150 {
		switch r := rng.IntN(10); {
		case r < 2 && len(model) > 0:
			id := model[rng.IntN(len(model))]
			must(s.RemoveFromCollection(ctx(t), "mix", id))(t)
			model = slices.DeleteFunc(model, func(m string) bool { return m == id })
		default:
			n := 1 + rng.IntN(3)
			add := slices.Clone(ids)
			rng.Shuffle(len(add), func(i, j int) { add[i], add[j] = add[j], add[i] })
			add = add[:n]
			for _, id := range add {
				model = slices.DeleteFunc(model, func(m string) bool { return m == id })
			}
			// Mostly between the first two, where the gap halves each time until the list
			// must be renumbered; sometimes at the front, or anywhere (past the end included).
			at := min(1, len(model))
			switch r {
			case 7:
				at = 0
			case 8, 9:
				at = rng.IntN(len(model) + 5)
			}
			must(s.AddToCollection(ctx(t), "mix", add, &at))(t)
			model = slices.Insert(model, min(at, len(model)), add...)
		}
		if got := members(t, s, "mix"); !slices.Equal(got, model) {
			t.Fatalf("after op %d the order is\n %v\nwant\n %v", op, got, model)
		}
	}
}

// testCollectionRenumbers inserts 40 products one at a time at index 1: each halves the gap
// between the first two keys, so the list must be renumbered about every 20 inserts, and the
// order must survive it. Then 40 more go to the front, which never renumbers.
func testCollectionRenumbers(t *testing.T, s catalog.Store) {
	ids := products(t, s, 82)
	collection(t, s, "pins")
	model := []string{ids[0], ids[1]}
	must(s.SetCollectionProducts(ctx(t), "pins", model, 0))(t)
	for _, id := range ids[2:42] {
		must(s.AddToCollection(ctx(t), "pins", []string{id}, ptr(1)))(t)
		model = slices.Insert(model, 1, id)
	}
	wantMembers(t, s, "pins", model)
	for _, id := range ids[42:] {
		must(s.AddToCollection(ctx(t), "pins", []string{id}, ptr(0)))(t)
		model = slices.Insert(model, 0, id)
	}
	if got := pageAll(t, s, catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "pins"}, Sort: catalog.SortPosition, Limit: 30}); len(got) != len(model) {
		t.Fatalf("paged %d of %d products", len(got), len(model))
	}
	q := catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "pins"}, Sort: catalog.SortPosition, Limit: 100}
	page := must(s.ListProducts(ctx(t), q))(t)
	var got []string
	for _, p := range page.Items {
		got = append(got, p.ID)
	}
	if !slices.Equal(got, model) {
		t.Fatalf("after 40 inserts at index 1 and 40 at the front the order is wrong:\n %v\nwant\n %v", got, model)
	}
}

// testCollectionAddsRaceDeletes adds products to two collections while other goroutines delete
// some of them: every call succeeds or is refused with a client's code (a product deleted first
// is unknown), and afterwards each collection's product_count is what it lists, and only
// existing products are listed.
func testCollectionAddsRaceDeletes(t *testing.T, s catalog.Store) {
	ids := products(t, s, 40)
	collection(t, s, "race-a")
	collection(t, s, "race-b")
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slug := []string{"race-a", "race-b"}[w%2]
			for i := range 10 {
				id := ids[(w*10+i*3)%len(ids)]
				_, err := s.AddToCollection(ctx(t), slug, []string{id}, ptr(i%3))
				if c := catalog.ErrorCode(err); err != nil && c != catalog.CodeUnprocessable {
					errs <- fmt.Errorf("AddToCollection(%s, %s): %w", slug, id, err)
				}
			}
		}()
	}
	deleted := ids[:len(ids):len(ids)]
	for d := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d; i < 20; i += 2 {
				if err := s.DeleteProduct(ctx(t), deleted[i*2], 0); err != nil {
					errs <- fmt.Errorf("DeleteProduct: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	gone := map[string]bool{}
	for i := 0; i < 20; i++ {
		gone[deleted[i*2]] = true
	}
	for _, slug := range []string{"race-a", "race-b"} {
		q := catalog.ListQuery{Filter: catalog.ProductFilter{Collection: slug}, Sort: catalog.SortPosition, Limit: catalog.MaxLimit}
		page := must(s.ListProducts(ctx(t), q))(t)
		c := must(s.Collection(ctx(t), slug))(t)
		if c.ProductCount != int64(len(page.Items)) {
			t.Errorf("%s: product_count %d, but %d products listed", slug, c.ProductCount, len(page.Items))
		}
		for _, p := range page.Items {
			if gone[p.ID] {
				t.Errorf("%s lists deleted product %s", slug, p.ID)
			}
		}
	}
}
