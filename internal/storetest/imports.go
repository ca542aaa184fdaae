package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Bulk import (issue 17, ADR 0019): upsert by SKU and the job records.
func importTests() []namedTest {
	return []namedTest{
		{"ImportCreatesAndUpdatesBySKU", testImportUpsert},
		{"ImportRefusesLines", testImportRefusesLines},
		{"ImportDryRunWritesNothing", testImportDryRun},
		{"ImportEventsAreTheProducts", testImportEventsAreTheProducts},
		{"ImportJobs", testImportJobs},
		{"ImportPricesAsSingleWrites", testImportPricesAsSingleWrites},
		{"ImportPriceEventsPerProduct", testImportPriceEventsPerProduct},
		{"ImportJobsPurged", testImportJobsPurged},
		{"ImportWithConcurrentWriters", testImportWithConcurrentWriters},
		{"ImportUpdatedEventIsTheRead", testImportUpdatedEventIsTheRead},
	}
}

// sized is a product with a Size option and one variant per size, each with initial stock.
func sized(prefix, name, cat string, sizes ...string) catalog.ProductInput {
	in := catalog.ProductInput{Name: name, Category: cat, Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: sizes}}}
	for i, sz := range sizes {
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: prefix + "-" + sz, Options: map[string]string{"Size": sz},
			Prices: []catalog.PriceInput{{Currency: "USD", Amount: int64(1000 + i)}}, InitialStock: 5})
	}
	in.Normalize()
	return in
}

func upsert(t *testing.T, s catalog.Store, dry bool, ins ...catalog.ProductInput) catalog.ImportResult {
	t.Helper()
	items := make([]catalog.ImportItem, len(ins))
	for i, in := range ins {
		items[i] = catalog.ImportItem{Line: i + 1, Product: in}
	}
	return must(s.UpsertProducts(ctx(t), items, dry))(t)
}

func testImportUpsert(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	res := upsert(t, s, false, sized("TEE", "Tee", "imp", "S", "M"), input("MUG-1", "Mug", "imp", 900))
	if res.Created != 2 || res.Updated != 0 || len(res.Problems) != 0 {
		t.Fatalf("first import = %+v, want 2 created", res)
	}
	before, v := bySKU(t, s, "TEE-S")
	if len(before.Variants) != 2 || v.Stock.OnHand != 5 {
		t.Fatalf("created tee = %+v", before)
	}

	// The same SKUs again (one in another case), a new name, a new price, a new size: the
	// product is updated, its variants keep their IDs and stock, the new SKU is added.
	next := sized("TEE", "Tee (organic)", "imp", "S", "M", "L")
	next.Variants[0].SKU = "tee-s"
	next.Variants[1].Prices[0].Amount = 1500
	next.Variants[1].InitialStock = 99 // stock of an existing variant is not an import's to set
	res = upsert(t, s, false, next)
	if res.Created != 0 || res.Updated != 1 || len(res.Problems) != 0 {
		t.Fatalf("second import = %+v, want 1 updated", res)
	}
	after, _ := bySKU(t, s, "TEE-M")
	if after.ID != before.ID || after.Name != "Tee (organic)" || len(after.Variants) != 3 || after.Version <= before.Version {
		t.Fatalf("updated tee = %+v (was version %d)", after, before.Version)
	}
	for i, v := range after.Variants {
		if i < 2 && v.ID != before.Variants[i].ID {
			t.Errorf("variant %d changed ID: %s -> %s", i, before.Variants[i].ID, v.ID)
		}
	}
	if m := after.Variants[1]; m.Prices[0].Amount != 1500 || m.Stock.OnHand != 5 {
		t.Errorf("TEE-M = price %d, on hand %d; want 1500 and 5 (stock untouched)", m.Prices[0].Amount, m.Stock.OnHand)
	}
	if sku := after.Variants[0].SKU; sku != "tee-s" {
		t.Errorf("SKU case = %q, want the file's tee-s", sku)
	}
	if l := after.Variants[2]; l.SKU != "TEE-L" || l.Stock.OnHand != 5 || l.Position != 2 {
		t.Errorf("added TEE-L = %+v", l)
	}
	hist := must(s.PriceHistory(ctx(t), after.Variants[1].ID, ""))(t)
	if len(hist) != 2 {
		t.Errorf("TEE-M price history has %d lines, want 2 (created, then the import's change)", len(hist))
	}

	// The same line again changes nothing: no write, no version, no event.
	_, cursor := feed(t, s, 0)
	res = upsert(t, s, false, next)
	if res.Updated != 0 || res.Unchanged != 1 || len(res.Problems) != 0 {
		t.Fatalf("the same line again = %+v, want 1 unchanged", res)
	}
	if p, _ := bySKU(t, s, "TEE-M"); p.Version != after.Version {
		t.Errorf("an unchanged line moved the version %d -> %d", after.Version, p.Version)
	}
	if evs, _ := feed(t, s, cursor); len(evs) != 0 {
		t.Errorf("an unchanged line recorded %d events", len(evs))
	}

	// A line naming only some variants keeps the others.
	res = upsert(t, s, false, func() catalog.ProductInput {
		in := sized("TEE", "Tee (organic)", "imp", "S", "M", "L")
		in.Variants = in.Variants[2:]
		in.Variants[0].Barcode = "4006381333931"
		return in
	}())
	if res.Updated != 1 || len(res.Problems) != 0 {
		t.Fatalf("partial line = %+v", res)
	}
	if p, v := bySKU(t, s, "TEE-L"); len(p.Variants) != 3 || v.Barcode != "4006381333931" {
		t.Errorf("tee has %d variants after a line naming one (want 3 kept), TEE-L barcode %q", len(p.Variants), v.Barcode)
	}
}

func testImportRefusesLines(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	upsert(t, s, false, input("A-1", "A", "imp", 100), input("B-1", "B", "imp", 100))
	_, _ = feed(t, s, 0)

	both := sized("AB", "Both", "imp", "S", "M")
	both.Variants[0].SKU, both.Variants[1].SKU = "A-1", "b-1"
	unknown := input("C-1", "C", "imp", 100)
	unknown.Category = "nope"
	dup := input("D-1", "D", "imp", 100)
	dup2 := input("d-1", "D again", "imp", 100)
	ok := input("E-1", "E", "imp", 100)
	res := upsert(t, s, false, both, unknown, dup, dup2, ok)
	if res.Created != 2 || res.Updated != 0 {
		t.Errorf("result = %+v, want D-1 and E-1 created", res)
	}
	want := map[int]string{1: "variants[1].sku", 2: "category", 4: "variants[0].sku"}
	if len(res.Problems) != len(want) {
		t.Fatalf("problems = %+v, want lines 1, 2 and 4", res.Problems)
	}
	for _, p := range res.Problems {
		if want[p.Line] != p.Field || p.Rule == "" {
			t.Errorf("problem %+v, want field %q on line %d", p, want[p.Line], p.Line)
		}
	}
	if !strings.Contains(res.Problems[0].Rule, "a line updates one product") {
		t.Errorf("two products' SKUs: rule %q", res.Problems[0].Rule)
	}
	a, _ := bySKU(t, s, "A-1")
	b, _ := bySKU(t, s, "B-1")
	if a.Name != "A" || b.Name != "B" || a.Version != 1 || b.Version != 1 {
		t.Errorf("a refused line changed A or B: %q v%d, %q v%d", a.Name, a.Version, b.Name, b.Version)
	}
	if _, _, err := s.VariantBySKU(ctx(t), "C-1"); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Errorf("C-1 (unknown category) exists: %v", err)
	}

	// A line the store refuses mid-update (a removed option value a kept variant uses) is undone
	// whole, and the batch's other lines still apply.
	upsert(t, s, false, sized("SH", "Shoe", "imp", "40", "41"))
	bad := sized("SH", "Shoe renamed", "imp", "40")
	bad.Options[0].Values = []string{"40"} // SH-41 is kept and uses 41
	res = upsert(t, s, false, bad, input("F-1", "F", "imp", 100))
	if res.Created != 1 || res.Updated != 0 || len(res.Problems) == 0 || res.Problems[0].Line != 1 {
		t.Fatalf("result = %+v, want line 1 refused, F-1 created", res)
	}
	if p, _ := bySKU(t, s, "SH-40"); p.Name != "Shoe" || p.Version != 1 {
		t.Errorf("refused update left %q version %d", p.Name, p.Version)
	}
}

func testImportDryRun(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	upsert(t, s, false, input("A-1", "A", "imp", 100))
	_, cursor := feed(t, s, 0)
	changed := input("A-1", "A changed", "imp", 200)
	bad := input("X-1", "X", "imp", 100)
	bad.Category = "nope"
	res := upsert(t, s, true, changed, input("N-1", "New", "imp", 100), bad)
	if res.Created != 1 || res.Updated != 1 || len(res.Problems) != 1 || res.Problems[0].Line != 3 {
		t.Fatalf("dry run = %+v, want 1 created, 1 updated, line 3 refused", res)
	}
	if a, _ := bySKU(t, s, "A-1"); a.Name != "A" || a.Version != 1 {
		t.Errorf("dry run changed A: %q v%d", a.Name, a.Version)
	}
	if _, _, err := s.VariantBySKU(ctx(t), "N-1"); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Errorf("dry run created N-1: %v", err)
	}
	if evs, _ := feed(t, s, cursor); len(evs) != 0 {
		t.Errorf("dry run recorded %d events", len(evs))
	}
}

// testImportEventsAreTheProducts: one event per imported product, whose data is the product as
// a read returns it (creates are built without reading back; updates read back together).
func testImportEventsAreTheProducts(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	c := catalog.WithActor(ctx(t), "apikey:bulk")
	ins := []catalog.ProductInput{sized("TEE", "Tee", "imp", "S", "M", "L"), input("MUG-1", "Mug", "imp", 900)}
	compare := int64(1200)
	ins[1].Variants[0].Prices[0].CompareAt = &compare
	ins[1].Variants[0].InitialStock = 7
	weight := int64(350)
	ins[1].Variants[0].WeightGrams = &weight
	ins[1].Variants[0].Barcode = "4006381333931"
	_, cursor := feed(t, s, 0)
	items := []catalog.ImportItem{{Line: 1, Product: ins[0]}, {Line: 4, Product: ins[1]}}
	if _, err := s.UpsertProducts(c, items, false); err != nil {
		t.Fatal(err)
	}
	ins[0].Name = "Tee v2"
	ins[0].Variants[2].Prices[0].Amount = 4200
	if _, err := s.UpsertProducts(c, items[:1], false); err != nil {
		t.Fatal(err)
	}
	evs, _ := feed(t, s, cursor, catalog.EventProductCreated, catalog.EventProductUpdated)
	if len(evs) != 3 {
		t.Fatalf("%d product events, want 2 created and 1 updated", len(evs))
	}
	tee, _ := bySKU(t, s, "TEE-S")
	mug, _ := bySKU(t, s, "MUG-1")
	for i, tc := range []struct {
		typ string
		p   catalog.Product
	}{{catalog.EventProductCreated, tee}, {catalog.EventProductCreated, mug}, {catalog.EventProductUpdated, tee}} {
		e := evs[i]
		if e.Type != tc.typ || e.Subject != "products/"+tc.p.ID || e.Actor != "apikey:bulk" {
			t.Errorf("event %d = %s %s by %s, want %s products/%s", i, e.Type, e.Subject, e.Actor, tc.typ, tc.p.ID)
		}
		if i == 0 {
			continue // the tee changed since: its created event is compared below with its first state
		}
		want, _ := json.Marshal(tc.p)
		if string(e.Data) != string(want) {
			t.Errorf("event %d data\n%s\nwant the product as read\n%s", i, e.Data, want)
		}
	}
	var first catalog.Product
	if err := json.Unmarshal(evs[0].Data, &first); err != nil {
		t.Fatal(err)
	}
	if first.Version != 1 || first.Name != "Tee" || len(first.Variants) != 3 || first.Variants[0].ID != tee.Variants[0].ID ||
		!first.CreatedAt.Equal(tee.CreatedAt) || first.Availability.Available != 15 {
		t.Errorf("created event's tee = %+v", first)
	}
}

func testImportJobs(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:bulk")
	in := catalog.ImportJobInput{Format: "csv", IdempotencyKey: "upload-1", Digest: "d1", Bytes: 120}
	job, created, err := s.CreateImportJob(c, in)
	if err != nil || !created || job.State != catalog.ImportQueued || job.Actor != "apikey:bulk" || job.Bytes != 120 {
		t.Fatalf("CreateImportJob = %+v, %v, %v", job, created, err)
	}
	again, created, err := s.CreateImportJob(c, in)
	if err != nil || created || again.ID != job.ID {
		t.Fatalf("same key again = %s, created %v, %v; want %s, false", again.ID, created, err, job.ID)
	}
	other := in
	other.Digest = "d2"
	_, _, err = s.CreateImportJob(c, other)
	wantCode(t, err, catalog.CodeIdempotencyMismatch)
	// Another actor's key is another job; no key is always a new job.
	if j, created, err := s.CreateImportJob(catalog.WithActor(ctx(t), "apikey:other"), in); err != nil || !created || j.ID == job.ID {
		t.Fatalf("other actor's job = %s, %v, %v", j.ID, created, err)
	}
	nokey := in
	nokey.IdempotencyKey = ""
	a := must3(s.CreateImportJob(c, nokey))(t)
	b := must3(s.CreateImportJob(c, nokey))(t)
	if a.ID == b.ID {
		t.Fatal("two jobs without a key share an ID")
	}

	job.State, job.Lines, job.Products, job.Created, job.Updated, job.Failed = catalog.ImportRunning, 10, 4, 2, 1, 1
	job.AddProblems([]catalog.ImportProblem{{Line: 7, Field: "category", Rule: "category \"x\" does not exist"}})
	if err := s.SaveImportJob(c, job); err != nil {
		t.Fatal(err)
	}
	got := must(s.ImportJob(ctx(t), job.ID))(t)
	if got.State != catalog.ImportRunning || got.Lines != 10 || got.Created != 2 || got.Failed != 1 || len(got.Errors) != 1 ||
		got.Errors[0].Line != 7 || got.FinishedAt != nil {
		t.Fatalf("ImportJob = %+v", got)
	}

	// An instance that stops mid-job leaves its heartbeat behind: the sweep fails the job with
	// the reason, and a finished job is not written again.
	clock.Advance(10 * time.Minute)
	fresh := must3(s.CreateImportJob(c, catalog.ImportJobInput{Format: "jsonl", Digest: "d3"}))(t)
	n := must(s.FailStaleImportJobs(ctx(t), clock.Now().Add(-5*time.Minute), "interrupted"))(t)
	// job, the other actor's, a and b are older than 5 minutes; fresh is not.
	if n != 4 {
		t.Errorf("FailStaleImportJobs = %d, want 4", n)
	}
	got = must(s.ImportJob(ctx(t), job.ID))(t)
	if got.State != catalog.ImportFailed || got.Reason != "interrupted" || got.FinishedAt == nil || got.Created != 2 {
		t.Errorf("stale job = %+v", got)
	}
	wantCode(t, s.SaveImportJob(c, job), catalog.CodeConflict)
	if f := must(s.ImportJob(ctx(t), fresh.ID))(t); f.State != catalog.ImportQueued {
		t.Errorf("fresh job = %s, want queued", f.State)
	}
	_, err = s.ImportJob(ctx(t), catalog.NewID())
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.ImportJob(ctx(t), "not-an-id")
	wantCode(t, err, catalog.CodeNotFound)
}

// must3 is must for a method returning a job, a flag and an error.
func must3(j catalog.ImportJob, _ bool, err error) func(testing.TB) catalog.ImportJob {
	return func(t testing.TB) catalog.ImportJob {
		t.Helper()
		if err != nil {
			t.Fatal(fmt.Errorf("must: %w", err))
		}
		return j
	}
}
