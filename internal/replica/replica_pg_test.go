package replica_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/replica"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// pgReader is the replica's store as the router sees it (internal/app has the same adapter).
type pgReader struct{ *postgres.Store }

func (r pgReader) Replay(ctx context.Context) (replica.Replay, error) {
	st, err := r.ReplayStatus(ctx)
	return replica.Replay{Primary: !st.InRecovery, Replayed: st.Replayed, Known: st.Known, SinceLastReplay: st.SinceLastReplay}, err
}

type fixture struct {
	rep    *pgtest.Replica
	writer *postgres.Store
	reader *postgres.Store
	router *replica.Router
	id     string
}

// setup starts a replica, migrates a test database on the primary, creates one active product
// and waits until the replica has it and the router has probed it.
func setup(t *testing.T, opts replica.Options) *fixture {
	t.Helper()
	rep := pgtest.StartReplica(t)
	ctx := testCtx(t)
	u := pgtest.URL(t)
	w, err := postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if _, err := w.CreateCategory(ctx, catalog.CategoryInput{Slug: "mugs", Name: "Mugs"}); err != nil {
		t.Fatal(err)
	}
	in := catalog.ProductInput{Name: "Mug", Category: "mugs", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "MUG-1", Prices: []catalog.PriceInput{{Currency: "USD", Amount: 900}}}}}
	in.Normalize()
	p, err := w.CreateProduct(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := postgres.Open(ctx, rep.URL(u), postgres.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	router := replica.New(w, pgReader{r}, opts)
	t.Cleanup(func() { r.Close() })
	router.Probe(ctx)
	if st := router.Status(); !st.Up || st.Lag != 0 {
		t.Fatalf("after catching up: status %+v, want up with lag 0", st)
	}
	return &fixture{rep: rep, writer: w, reader: r, router: router, id: p.ID}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func rename(t *testing.T, s catalog.Store, id, name string) {
	t.Helper()
	if _, err := s.PatchProduct(testCtx(t), id, catalog.ProductPatch{Name: &name}, 0); err != nil {
		t.Fatal(err)
	}
}

func nameOf(t *testing.T, s catalog.Store, ctx context.Context, id string) string {
	t.Helper()
	p, err := s.Product(ctx, id)
	if err != nil {
		t.Fatalf("Product(%s) = %v", id, err)
	}
	return p.Name
}

// TestPublicReadsGoToTheReplicaWithinTheBound: with replay paused, a read without a token still
// goes to the replica while its lag is inside the bound (it answers the old name: the proof it
// was the replica that answered), and to the writer once the lag passes the bound.
func TestPublicReadsGoToTheReplicaWithinTheBound(t *testing.T) {
	const bound = 1500 * time.Millisecond
	f := setup(t, replica.Options{MaxLag: bound})
	ctx := testCtx(t)
	if got := nameOf(t, f.router, ctx, f.id); got != "Mug" {
		t.Fatalf("name = %q, want Mug", got)
	}
	if st := f.router.Status(); st.ReaderReads != 1 || st.WriterReads != 0 {
		t.Fatalf("after one public read: %+v, want 1 reader read", st)
	}
	for _, read := range []func() error{
		func() error {
			_, err := f.router.ListProducts(ctx, catalog.ListQuery{Limit: 5, Sort: catalog.SortNewest})
			return err
		},
		func() error { _, _, err := f.router.VariantBySKU(ctx, "MUG-1"); return err },
		func() error { _, err := f.router.Categories(ctx); return err },
		func() error { _, err := f.router.AttributeList(ctx); return err },
	} {
		if err := read(); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.router.Status(); st.ReaderReads != 5 {
		t.Fatalf("public reads on the reader = %d, want 5", st.ReaderReads)
	}
	// Private reads never do.
	if _, err := f.router.Events(ctx, catalog.EventQuery{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if st := f.router.Status(); st.ReaderReads != 5 {
		t.Fatalf("the change feed was read from the reader: %+v", st)
	}
	if got := nameOf(t, f.router, catalog.WithWriterReads(ctx), f.id); got != "Mug" {
		t.Fatal(got)
	}
	if st := f.router.Status(); st.ReaderReads != 5 {
		t.Fatalf("a back-office read went to the reader: %+v", st)
	}

	f.router.Probe(ctx) // the writer's position before the pause
	if err := f.rep.PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	rename(t, f.writer, f.id, "Mug v2")
	time.Sleep(300 * time.Millisecond) // the WAL reaches the replica, which does not apply it
	f.router.Probe(ctx)
	st := f.router.Status()
	if time.Since(paused) < bound-200*time.Millisecond {
		if st.Lag <= 0 || st.Lag > bound {
			t.Fatalf("lag while paused = %v, want within (0, %v]", st.Lag, bound)
		}
		if got := nameOf(t, f.router, ctx, f.id); got != "Mug" {
			t.Fatalf("within the bound the replica answers; name = %q, want the old Mug", got)
		}
	}
	// Past the bound the writer answers.
	time.Sleep(time.Until(paused.Add(bound + 300*time.Millisecond)))
	f.router.Probe(ctx)
	if st := f.router.Status(); st.Lag <= bound {
		t.Fatalf("lag = %v, want above the bound %v", st.Lag, bound)
	}
	before := f.router.Status().FallbackLag
	if got := nameOf(t, f.router, ctx, f.id); got != "Mug v2" {
		t.Fatalf("past the bound name = %q, want Mug v2 from the writer", got)
	}
	if st := f.router.Status(); st.FallbackLag != before+1 {
		t.Fatalf("lag fallbacks = %d, want %d", st.FallbackLag, before+1)
	}
	if err := f.rep.ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.rep.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	f.router.Probe(ctx)
	reads := f.router.Status().ReaderReads
	if got := nameOf(t, f.router, ctx, f.id); got != "Mug v2" {
		t.Fatalf("caught up, name = %q, want Mug v2", got)
	}
	if st := f.router.Status(); st.ReaderReads != reads+1 || st.Lag != 0 {
		t.Fatalf("caught up: %+v, want the read on the reader and lag 0", st)
	}
}

// TestReadYourWrites: a read carrying the position after a write goes to the replica only once
// it has replayed that far: paused, the writer answers (with the write); resumed, the replica.
func TestReadYourWrites(t *testing.T) {
	f := setup(t, replica.Options{MaxLag: time.Minute}) // lag alone never sends reads away here
	ctx := testCtx(t)
	if err := f.rep.PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	rename(t, f.router, f.id, "Mug v2") // through the router: writes go to the writer
	pos, err := f.router.WritePosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	f.router.Probe(ctx)
	mine := catalog.WithReadAfter(ctx, pos)
	if got := nameOf(t, f.router, mine, f.id); got != "Mug v2" {
		t.Fatalf("read after my write = %q, want Mug v2", got)
	}
	if st := f.router.Status(); st.FallbackBehind != 1 || st.ReaderReads != 0 {
		t.Fatalf("%+v, want one behind_client fallback and no reader read", st)
	}
	// Another client, without the token, reads the replica within the bound: the old name.
	if got := nameOf(t, f.router, ctx, f.id); got != "Mug" {
		t.Fatalf("another client's read = %q, want the replica's Mug", got)
	}
	if err := f.rep.ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.rep.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	f.router.Probe(ctx)
	if got := nameOf(t, f.router, mine, f.id); got != "Mug v2" {
		t.Fatalf("read after my write, caught up = %q, want Mug v2", got)
	}
	if st := f.router.Status(); st.ReaderReads != 2 {
		t.Fatalf("%+v: the caught-up replica should have answered the token read", st)
	}
}

// TestReplicaGoesAway: stopped mid-test, reads fall back to the writer without an error and the
// reader is left alone; started again, it is read again after its back-off.
func TestReplicaGoesAway(t *testing.T) {
	f := setup(t, replica.Options{RetryBase: 200 * time.Millisecond, RetryCap: 400 * time.Millisecond})
	ctx := testCtx(t)
	if got := nameOf(t, f.router, ctx, f.id); got != "Mug" {
		t.Fatal(got)
	}
	if err := f.rep.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if got := nameOf(t, f.router, ctx, f.id); got != "Mug" {
			t.Fatalf("read %d with the replica down = %q", i, got)
		}
	}
	st := f.router.Status()
	if st.FallbackErr != 1 || st.FallbackDown != 4 || st.Up {
		t.Fatalf("replica down: %+v, want 1 error fallback, then 4 down (not tried again), not up", st)
	}
	if err := f.rep.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !f.router.Status().Up {
		if time.Now().After(deadline) {
			t.Fatal("the reader was not found up again after it returned")
		}
		f.router.Probe(ctx)
		time.Sleep(50 * time.Millisecond)
	}
	reads := f.router.Status().ReaderReads
	if got := nameOf(t, f.router, ctx, f.id); got != "Mug" {
		t.Fatal(got)
	}
	if st := f.router.Status(); st.ReaderReads != reads+1 {
		t.Fatalf("back: %+v, want the read on the reader", st)
	}
}

// TestEveryPublicReadWorksOnAStandby: each read the router may send to the reader runs on a hot
// standby (read-only) without error; one that wrote, or needed a temporary table, would fail
// there and make the reader flap between up and down.
func TestEveryPublicReadWorksOnAStandby(t *testing.T) {
	f := setup(t, replica.Options{})
	ctx := testCtx(t)
	if _, err := f.writer.CreateCollection(ctx, catalog.CollectionInput{Slug: "picks", Name: "Picks"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.writer.AddToCollection(ctx, "picks", []string{f.id}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.writer.CreateAttribute(ctx, catalog.AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: catalog.AttrText, Filterable: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.rep.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := f.reader.Product(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	vid := p.Variants[0].ID
	q := catalog.ListQuery{Limit: 5, Sort: catalog.SortNewest, WithTotal: true}
	search := catalog.ListQuery{Limit: 5, Sort: catalog.SortNewest, Filter: catalog.ProductFilter{Query: "mug"}}
	inCollection := catalog.ListQuery{Limit: 5, Sort: catalog.SortPosition, Filter: catalog.ProductFilter{Collection: "picks"}}
	s := f.reader
	for name, read := range map[string]func() error{
		"Product":         func() error { _, err := s.Product(ctx, f.id); return err },
		"ProductVersions": func() error { _, _, err := s.ProductVersions(ctx, f.id); return err },
		"VariantBySKU":    func() error { _, _, err := s.VariantBySKU(ctx, "mug-1"); return err },
		"Variant":         func() error { _, err := s.Variant(ctx, f.id, vid); return err },
		"ListProducts":    func() error { _, err := s.ListProducts(ctx, q); return err },
		"search":          func() error { _, err := s.ListProducts(ctx, search); return err },
		"collection list": func() error { _, err := s.ListProducts(ctx, inCollection); return err },
		"Facets": func() error {
			priced := q
			priced.Filter.Currency = "USD" // the price facet's currency is the list's
			_, err := s.Facets(ctx, priced, catalog.FacetRequest{Currency: "USD", Facets: []catalog.FacetSpec{
				{Name: catalog.FacetBrand}, {Name: catalog.FacetCategory}, {Name: catalog.FacetPrice}, {Name: catalog.FacetInStock},
				{Name: "attr.colour", Key: "colour"}}})
			return err
		},
		"Category":      func() error { _, err := s.Category(ctx, "mugs"); return err },
		"Categories":    func() error { _, err := s.Categories(ctx); return err },
		"Collection":    func() error { _, err := s.Collection(ctx, "picks"); return err },
		"Collections":   func() error { _, err := s.Collections(ctx); return err },
		"Attribute":     func() error { _, err := s.Attribute(ctx, "colour"); return err },
		"AttributeList": func() error { _, err := s.AttributeList(ctx); return err },
		"PriceHistory":  func() error { _, err := s.PriceHistory(ctx, vid, "USD"); return err },
	} {
		if err := read(); err != nil {
			t.Errorf("%s on the standby: %v", name, err)
		}
	}
}
