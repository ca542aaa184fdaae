package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/seed"
)

// withSynthetic adds the synthetic catalog's categories and attribute definitions to s.
func withSynthetic(t *testing.T, s catalog.Store) catalog.Store {
	t.Helper()
	cats, _ := seed.SyntheticCategories()
	for _, c := range cats {
		if _, err := s.CreateCategory(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range seed.SyntheticAttributes() {
		if _, err := s.CreateAttribute(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// syntheticFiles returns n synthetic products (options, attributes of every type, media,
// several currencies) as a file of format, made less tidy than a store keeps them (padded
// names, prices out of currency order: only normalizing makes them equal), and then as a
// second file where some prices changed, some names changed and some products are new; and
// every SKU of both.
func syntheticFiles(t *testing.T, rng *rand.Rand, format bulk.Format, n int) (first, second string, skus []string) {
	t.Helper()
	var a, b []catalog.ProductInput
	for i := range n {
		p := seed.SyntheticProduct(i, 1).ProductInput
		if rng.IntN(2) == 0 {
			p.Name = "  " + p.Name + " "
		}
		for j := range p.Variants {
			slices.Reverse(p.Variants[j].Prices)
			skus = append(skus, p.Variants[j].SKU)
		}
		a = append(a, p)
		q := seed.SyntheticProduct(i, 1).ProductInput
		switch rng.IntN(4) {
		case 0:
			q.Name += " (new name)"
		case 1:
			for j := range q.Variants {
				for k := range q.Variants[j].Prices {
					q.Variants[j].Prices[k].Amount += 7
				}
			}
		case 2:
			q = seed.SyntheticProduct(n+i, 1).ProductInput // a new product
			for j := range q.Variants {
				skus = append(skus, q.Variants[j].SKU)
			}
		}
		b = append(b, q)
	}
	return fileOf(t, format, a), fileOf(t, format, b), skus
}

func fileOf(t *testing.T, format bulk.Format, ps []catalog.ProductInput) string {
	t.Helper()
	var buf bytes.Buffer
	if format == bulk.JSONL {
		for _, p := range ps {
			if err := bulk.WriteJSONL(&buf, p); err != nil {
				t.Fatal(err)
			}
		}
		return buf.String()
	}
	var cols bulk.CSVColumns
	for _, p := range ps {
		cols.Add(p)
	}
	w := bulk.NewCSVWriter(&buf, cols)
	for i, p := range ps {
		if err := w.Write(fmt.Sprintf("h%d", i), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// runJob runs one job of body on s and returns it finished; dir is the runner's IMPORT_DIR.
func runJob(t *testing.T, s catalog.Store, cfg importer.Config, format bulk.Format, body string) catalog.ImportJob {
	t.Helper()
	r := importer.New(s, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	defer func() { cancel(); _ = r.Stop(context.Background()) }()
	job, _, err := r.Submit(context.Background(), importer.Upload{Format: format, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return wait(t, s, job.ID)
}

// catalogOf is what s holds for skus: each SKU's product as its input (every field a write
// sets, variants with their prices and stock), version and status; IDs and times aside.
func catalogOf(t *testing.T, s catalog.Store, skus []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sku := range skus {
		p, _, err := s.VariantBySKU(context.Background(), sku)
		switch {
		case catalog.ErrorCode(err) == catalog.CodeNotFound:
			out[sku] = "absent"
			continue
		case err != nil:
			t.Fatal(err)
		}
		b, err := json.Marshal(p.FullInput())
		if err != nil {
			t.Fatal(err)
		}
		out[sku] = fmt.Sprintf("v%d %s", p.Version, b)
	}
	return out
}

// TestParsedSpoolSameResult: a job whose apply pass reads the parsed spool (items Checked, not
// normalized nor validated again by the store) reports the same counts, lines and problems,
// and leaves the same catalog, as the same job reading the upload again (Reparse: the path
// before the parsed spool), on both stores and in both formats: a first load, the same file
// again (every line unchanged), a file of changes and new products, and a file with a refused
// line (the job stops after validation).
func TestParsedSpoolSameResult(t *testing.T) {
	seeds := uint64(2)
	if testing.Short() {
		seeds = 1 // the test command's race step
	}
	for _, st := range stores {
		for _, format := range []bulk.Format{bulk.JSONL, bulk.CSV} {
			t.Run(st.name+"/"+string(format), func(t *testing.T) {
				for seed := range seeds {
					rng := rand.New(rand.NewPCG(seed, 3))
					first, second, skus := syntheticFiles(t, rng, format, 14)
					bad := fileOf(t, format, []catalog.ProductInput{seed0(), {Name: "   ", Category: "misc", Status: catalog.StatusActive,
						Variants: []catalog.VariantInput{{SKU: "BAD-1", Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1}}}}}})
					parsed, reparsed := withSynthetic(t, st.open(t)), withSynthetic(t, st.open(t))
					for step, body := range []string{first, first, second, bad} {
						cfg := importer.Config{BatchSize: 3, Parallel: 2}
						cfg.Dir = t.TempDir()
						j1 := runJob(t, parsed, cfg, format, body)
						cfg.Dir, cfg.Reparse = t.TempDir(), true
						j2 := runJob(t, reparsed, cfg, format, body)
						if step < 3 && (j1.State != catalog.ImportSucceeded || j1.Created+j1.Updated+j1.Unchanged != 14) {
							t.Fatalf("seed %d step %d: job %s (%s), %+v", seed, step, j1.State, j1.Reason, j1)
						}
						if step == 3 && j1.State != catalog.ImportFailed {
							t.Fatalf("seed %d: the file with a refused line: job %s, want failed", seed, j1.State)
						}
						k := func(j catalog.ImportJob) string {
							return fmt.Sprintf("%s %q lines %d products %d created %d updated %d unchanged %d failed %d errors %v",
								j.State, j.Reason, j.Lines, j.Products, j.Created, j.Updated, j.Unchanged, j.Failed, j.Errors)
						}
						if k1, k2 := k(j1), k(j2); k1 != k2 {
							t.Errorf("seed %d step %d: job from the parsed spool\n  %s\nreading the upload again\n  %s", seed, step, k1, k2)
						}
						if c1, c2 := catalogOf(t, parsed, skus), catalogOf(t, reparsed, skus); !reflect.DeepEqual(c1, c2) {
							for _, sku := range skus {
								if c1[sku] != c2[sku] {
									t.Errorf("seed %d step %d: %s from the parsed spool:\n  %s\nreading the upload again:\n  %s", seed, step, sku, c1[sku], c2[sku])
									break
								}
							}
						}
					}
				}
			})
		}
	}
}

// seed0 is a valid product of the synthetic catalog.
func seed0() catalog.ProductInput { return seed.SyntheticProduct(1_000_000, 1).ProductInput }

// applyStuck passes dry runs through and holds every batch of the apply pass until its
// context ends: a job caught applying, after its validation pass.
type applyStuck struct {
	catalog.Store
	entered chan struct{}
}

func (s *applyStuck) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dry bool) (catalog.ImportResult, error) {
	if dry {
		return s.Store.UpsertProducts(ctx, items, dry)
	}
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return catalog.ImportResult{}, ctx.Err()
}

// TestParsedSpoolRemoved: the parsed spool is written beside the upload's and read by the
// apply pass, and neither file is left in IMPORT_DIR when the job succeeds, fails validation,
// is a dry run, or is cut off by the instance stopping mid-apply.
func TestParsedSpoolRemoved(t *testing.T) {
	files := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}
	s := open(t)
	for _, c := range []struct {
		name, body string
		state      catalog.ImportState
	}{
		{"succeeded", line, catalog.ImportSucceeded},
		{"refused", line + `{"name":"","category":"misc"}` + "\n", catalog.ImportFailed},
	} {
		dir := t.TempDir()
		if j := runJob(t, s, importer.Config{Dir: dir}, bulk.JSONL, c.body); j.State != c.state {
			t.Errorf("%s: job %s (%s), want %s", c.name, j.State, j.Reason, c.state)
		}
		if left := files(dir); len(left) > 0 {
			t.Errorf("%s: IMPORT_DIR holds %v after the job", c.name, left)
		}
	}

	dir := t.TempDir()
	stuck := &applyStuck{Store: s, entered: make(chan struct{}, 1)}
	r := importer.New(stuck, importer.Config{Dir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	job, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Body: strings.NewReader(line)})
	if err != nil {
		t.Fatal(err)
	}
	<-stuck.entered
	during := files(dir)
	if len(during) != 2 || !slices.ContainsFunc(during, func(n string) bool { return strings.HasSuffix(n, ".parsed") }) {
		t.Errorf("while applying, IMPORT_DIR holds %v, want the upload and its parsed spool", during)
	}
	cancel()
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if j := wait(t, s, job.ID); j.State != catalog.ImportFailed || !strings.Contains(j.Reason, "interrupted") {
		t.Errorf("stopped job = %s (%q), want failed as interrupted", j.State, j.Reason)
	}
	if left := files(dir); len(left) > 0 {
		t.Errorf("after the instance stopped mid-apply, IMPORT_DIR holds %v", left)
	}
}

// TestCheckedNotFromUpload: an upload cannot mark its lines checked (and so skip the store's
// validation): a member named like the flag is an unknown field, refused with the line.
func TestCheckedNotFromUpload(t *testing.T) {
	s := open(t)
	for _, member := range []string{"checked", "Checked"} {
		body := fmt.Sprintf(`{"name":"","category":"misc","status":"active",%q:true,"variants":[{"sku":"X-1","prices":[{"currency":"USD","amount":1}]}]}`+"\n", member)
		for _, partial := range []bool{false, true} {
			r := importer.New(s, importer.Config{Dir: t.TempDir()})
			ctx, cancel := context.WithCancel(context.Background())
			r.Start(ctx)
			job, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Partial: partial, Body: strings.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			j := wait(t, s, job.ID)
			cancel()
			_ = r.Stop(context.Background())
			if j.Created != 0 || j.Failed != 1 || len(j.Errors) == 0 || j.Errors[0].Field != member {
				t.Errorf("%q (partial %v): job %s created %d failed %d errors %v, want the line refused naming %q", member, partial, j.State, j.Created, j.Failed, j.Errors, member)
			}
		}
	}
	if _, _, err := s.VariantBySKU(context.Background(), "X-1"); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Errorf("VariantBySKU(X-1) = %v, want not found: an invalid line reached the store", err)
	}
}

// recorder notes, in order, each batch handed to the store and each save of a job's progress
// in the apply pass. A save of the first p products waits (up to a second) for the batch that
// starts at line p+1 of a one-product-per-line file to reach the store, and says so if it
// never does: the save came first.
type recorder struct {
	catalog.Store
	total int

	mu      sync.Mutex
	log     []string
	entered map[int]chan struct{}
}

func (s *recorder) note(e string) {
	s.mu.Lock()
	s.log = append(s.log, e)
	s.mu.Unlock()
}

// batch returns the channel closed when the batch starting at line is handed to the store.
func (s *recorder) batch(line int) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entered == nil {
		s.entered = map[int]chan struct{}{}
	}
	if s.entered[line] == nil {
		s.entered[line] = make(chan struct{})
	}
	return s.entered[line]
}

func (s *recorder) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dry bool) (catalog.ImportResult, error) {
	if !dry {
		s.note(fmt.Sprintf("batch from line %d", items[0].Line))
		close(s.batch(items[0].Line))
	}
	return s.Store.UpsertProducts(ctx, items, dry)
}

func (s *recorder) SaveImportJob(ctx context.Context, j catalog.ImportJob) error {
	if j.State == catalog.ImportRunning {
		p := int(j.Products)
		if p > 0 && p < s.total {
			select {
			case <-s.batch(p + 1):
			case <-time.After(time.Second):
				s.note(fmt.Sprintf("save %d before the next batch", p))
				return s.Store.SaveImportJob(ctx, j)
			}
		}
		s.note(fmt.Sprintf("save %d", p))
	}
	return s.Store.SaveImportJob(ctx, j)
}

// TestProgressSavedAfterNextBatch: in the apply pass the job's progress is saved once the next
// batch is in the store's hands, not between the two (the save's round trip was on the path
// from one batch to the next); every batch's counts are still saved, in order, the last ones
// included.
func TestProgressSavedAfterNextBatch(t *testing.T) {
	var body strings.Builder
	for i := range 9 {
		fmt.Fprintf(&body, `{"name":"P%d","category":"misc","status":"active","variants":[{"sku":"P-%d","prices":[{"currency":"USD","amount":1}]}]}`+"\n", i, i)
	}
	s := &recorder{Store: open(t), total: 9}
	if j := runJob(t, s, importer.Config{Dir: t.TempDir(), BatchSize: 3}, bulk.JSONL, body.String()); j.State != catalog.ImportSucceeded || j.Created != 9 {
		t.Fatalf("job %s (%s), %d created", j.State, j.Reason, j.Created)
	}
	// The first save is the pass's start (0 products).
	want := []string{"save 0", "batch from line 1", "batch from line 4", "save 3", "batch from line 7", "save 6", "save 9"}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Equal(s.log, want) {
		t.Errorf("apply pass:\n got %v\nwant %v", s.log, want)
	}
}
