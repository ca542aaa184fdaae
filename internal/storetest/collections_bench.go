package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// bigCollection fills collection slug with n new products, 1,000 per write, and returns their IDs
// in the collection's order.
func bigCollection(tb testing.TB, s catalog.Store, slug string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	cat := "big-" + slug
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: cat, Name: "Big " + slug}); err != nil {
		tb.Fatal(err)
	}
	batch := make([]catalog.NewProduct, n)
	for i := range batch {
		in := input(fmt.Sprintf("%s-%05d", slug, i), fmt.Sprintf("Item %d", i), cat, 100)
		batch[i] = catalog.NewProduct{ProductInput: in}
	}
	if err := s.Import(ctx, batch); err != nil {
		tb.Fatal(err)
	}
	var ids []string
	q := catalog.ListQuery{Filter: catalog.ProductFilter{Category: cat}, Sort: catalog.SortOldest, Limit: catalog.MaxLimit}
	for {
		page, err := s.ListProducts(ctx, q)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range page.Items {
			ids = append(ids, p.ID)
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	if _, err := s.CreateCollection(ctx, catalog.CollectionInput{Slug: slug, Name: slug}); err != nil {
		tb.Fatal(err)
	}
	for chunk := range slices.Chunk(ids, catalog.MaxMembershipWrite) {
		if _, err := s.AddToCollection(ctx, slug, chunk, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

// Positions reads a collection's position keys by product ID, straight from a store's tables.
type Positions func(t *testing.T, s catalog.Store, slug string) map[string]int64

// TestMovesWriteOnlyTheirRows moves products inside a collection of the most products allowed
// and checks, in the store's own table, that only the moved rows changed: a move costs the same
// in a list of 10 or of 10,000.
func TestMovesWriteOnlyTheirRows(t *testing.T, open Opener, positions Positions) {
	s := open(t, nil)
	ids := bigCollection(t, s, "huge", catalog.MaxCollectionProducts)
	moves := []struct {
		name string
		ids  []string
		at   *int
	}{
		{"one to the middle", ids[9000:9001], ptr(5000)},
		{"one to the front", ids[42:43], ptr(0)},
		{"three to index 1", ids[7:10], ptr(1)},
		{"one to the end", ids[0:1], nil},
	}
	for _, m := range moves {
		before := positions(t, s, "huge")
		must(s.AddToCollection(ctx(t), "huge", m.ids, m.at))(t)
		after := positions(t, s, "huge")
		var changed []string
		for id, k := range after {
			if before[id] != k {
				changed = append(changed, id)
			}
		}
		slices.Sort(changed)
		if want := slices.Sorted(slices.Values(m.ids)); !slices.Equal(changed, want) || len(after) != catalog.MaxCollectionProducts {
			t.Errorf("moving %s rewrote %d rows (of %d), want only the %d moved", m.name, len(changed), len(after), len(m.ids))
		}
	}
	// Full: one more product is refused, naming the limit; moving one already in it is not.
	extra := must(s.CreateProduct(ctx(t), input("HUGE-EXTRA", "Extra", "big-huge", 100)))(t)
	_, err := s.AddToCollection(ctx(t), "huge", []string{extra.ID}, nil)
	wantField(t, err, catalog.CodeConflict, "product_ids")
	must(s.AddToCollection(ctx(t), "huge", ids[5:6], ptr(0)))(t)
}

// BenchCollections measures moving one product in collections of 100 and of 10,000 products
// and prints both beside the target: the large one within 3x of the small one (a move writes
// only its own row; what grows is the index depth and the offset walk to the position).
func BenchCollections(b *testing.B, open BenchOpener) {
	s := open(b)
	move := func(slug string, ids []string, n int) time.Duration {
		rng := rand.New(rand.NewPCG(7, 8))
		start := time.Now()
		for range n {
			at := rng.IntN(len(ids))
			if _, err := s.AddToCollection(context.Background(), slug, ids[rng.IntN(len(ids)):][:1], &at); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start) / time.Duration(n)
	}
	small := bigCollection(b, s, "small", 100)
	large := bigCollection(b, s, "large", catalog.MaxCollectionProducts)
	move("small", small, 50) // warm up
	smallCost := move("small", small, 300)
	b.Run("MoveOneOf10000", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(9, 10))
		for b.Loop() {
			at := rng.IntN(len(large))
			if _, err := s.AddToCollection(context.Background(), "large", large[rng.IntN(len(large)):][:1], &at); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		largeCost := move("large", large, 300)
		ratio := float64(largeCost) / float64(smallCost)
		b.ReportMetric(ratio, "x-of-100")
		b.Logf("move one product: %v in a collection of 100, %v in one of 10,000 (%.2fx; target <= 3x)", smallCost, largeCost, ratio)
	})
	b.Run("PageOf10000", func(b *testing.B) {
		q := catalog.ListQuery{Filter: catalog.ProductFilter{Collection: "large", Statuses: []catalog.Status{catalog.StatusActive}},
			Sort: catalog.SortPosition, Limit: catalog.DefaultLimit}
		for b.Loop() {
			if _, err := s.ListProducts(context.Background(), q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
