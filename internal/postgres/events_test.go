package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestFeedWaitsForEarlierTransaction is ADR 0014's case, made deterministic: transaction A
// writes an event first (taking the lower identity) and stays open; B writes after it and
// commits. A feed that ordered by the identity, or filtered only by B's xid, would hand out B
// and then skip A. The feed must hold B back until A ends, then give A before B.
func TestFeedWaitsForEarlierTransaction(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	a, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	if _, err := a.Exec(ctx, `INSERT INTO events (id, type, subject, actor, at) VALUES ($1, 'catalog.category.created', 'categories/a', 'test', now())`,
		catalog.NewID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "b", Name: "B"}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 {
		t.Fatalf("while A runs the feed gave %s %s: a later poll would then skip A's event", page.Events[0].Type, page.Events[0].Subject)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	page, err = s.Events(ctx, catalog.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.Events[0].Subject != "categories/a" || page.Events[1].Subject != "categories/b" {
		t.Fatalf("after A committed the feed gave %+v, want A's event then B's", page.Events)
	}
}

// TestFeedOlderXidCommitsFirst is the case that defeats "identity order below the xmin
// horizon": B takes its xid first, A then inserts its event (the lower identity), B inserts
// its event and commits while A runs. B's event must be given (it committed), and A's must
// still come after it once A commits, not be skipped for having the lower identity.
func TestFeedOlderXidCommitsFirst(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	insert := `INSERT INTO events (id, type, subject, actor, at) VALUES ($1, 'catalog.category.created', $2, 'test', now())`

	b, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback(ctx)
	if _, err := b.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // B's xid, before A's
		t.Fatal(err)
	}
	a, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	if _, err := a.Exec(ctx, insert, catalog.NewID(), "categories/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, insert, catalog.NewID(), "categories/b"); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Subject != "categories/b" {
		t.Fatalf("with A running the feed gave %+v, want B's event", page.Events)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := s.Events(ctx, catalog.EventQuery{After: page.Next, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Events) != 1 || next.Events[0].Subject != "categories/a" {
		t.Fatalf("following from %d after A committed gave %+v, want A's event", page.Next, next.Events)
	}
}

// TestFeedOrderPerEntityByVersion is issue 17's defect, made deterministic: the feed is in xid
// order, so two transactions on one stock row can appear in the opposite order to their
// commits. L takes its xid first and stays open; T adjusts the same variant's stock and
// commits; L then adjusts it too and commits last. The feed gives L's event first, so a
// consumer replaying it in feed order ends on T's older quantity; one that applies an event
// only when its entityversion is above the one it holds (catalog.Event.OrderKey) ends on the
// committed state.
func TestFeedOrderPerEntityByVersion(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "mugs", Name: "Mugs"}); err != nil {
		t.Fatal(err)
	}
	in := catalog.ProductInput{Name: "Mug", Category: "mugs", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "MUG-1", Prices: []catalog.PriceInput{{Currency: "USD", Amount: 900}}}}}
	in.Normalize()
	p, err := s.CreateProduct(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	v := p.Variants[0]
	start, err := s.Events(ctx, catalog.EventQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}

	l, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Rollback(ctx)
	var lxid, txid uint64
	if err := l.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&lxid); err != nil { // L's xid, before T's
		t.Fatal(err)
	}
	if _, err := s.AdjustStock(ctx, v.ID, catalog.Adjustment{Delta: 5, Reason: "received"}, "t", nil); err != nil { // T
		t.Fatal(err)
	}
	if err := s.Pool().QueryRow(ctx, `SELECT max(xid::text::bigint) FROM events`).Scan(&txid); err != nil {
		t.Fatal(err)
	}
	if txid <= lxid {
		t.Fatalf("T's xid %d is not above L's %d: the test no longer builds the reorder", txid, lxid)
	}
	if _, err := s.AdjustStockIn(ctx, l, v.ID, catalog.Adjustment{Delta: 2, Reason: "received"}, "l"); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	page, err := s.Events(ctx, catalog.EventQuery{After: start.Next, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	type level struct {
		OnHand int64 `json:"on_hand"`
	}
	var onHands []int64
	for _, e := range page.Events {
		var d level
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		onHands = append(onHands, d.OnHand)
	}
	// Commit order is T (5 on hand) then L (7); the feed's xid order is L then T.
	if !slices.Equal(onHands, []int64{7, 5}) {
		t.Fatalf("the feed gave on_hand %v, want L's 7 then T's 5 (xid order, not commit order)", onHands)
	}
	cur, err := s.Variant(ctx, p.ID, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Stock.OnHand != 7 {
		t.Fatalf("the store has %d on hand, want 7", cur.Stock.OnHand)
	}
	// In feed order the last event says 5: the older state. The consumer rule keeps 7.
	held := map[string]catalog.Event{}
	for _, e := range page.Events {
		if h, ok := held[e.OrderKey()]; !ok || e.EntityVersion > h.EntityVersion {
			held[e.OrderKey()] = e
		}
	}
	if len(held) != 1 {
		t.Fatalf("the two stock events of one variant have %d order keys, want 1", len(held))
	}
	for _, e := range held {
		var d level
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.OnHand != cur.Stock.OnHand {
			t.Fatalf("applying by entityversion ends on %d on hand (version %d), the store has %d", d.OnHand, e.EntityVersion, cur.Stock.OnHand)
		}
	}
	if a, b := page.Events[0].EntityVersion, page.Events[1].EntityVersion; a <= b {
		t.Fatalf("L committed last but its entityversion %d is not above T's %d", a, b)
	}
}
