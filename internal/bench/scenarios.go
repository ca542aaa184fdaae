package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

type scenario struct {
	name    string
	ceiling string // the result this one is a ratio of
	ok      []int
	req     Request
	prepare func(context.Context) error
	check   func(context.Context, *Result) (string, error)
	hooks   *Hooks
	// target, when set, says how the result compares with the figure the project aims for.
	target func(r Result, earlier []Result) string
}

func ratioTarget(min float64) func(Result, []Result) string {
	return func(r Result, _ []Result) string {
		return fmt.Sprintf("target >= %.1fx: %s", min, verdict(r.Ratio >= min))
	}
}

// p99Target compares a p99 with a multiple of the get-by-id p99 (the uncached one: the
// database path).
func p99Target(times float64) func(Result, []Result) string {
	return func(r Result, earlier []Result) string {
		for _, g := range earlier {
			if g.Name == "get-by-id, no cache" && g.P99 > 0 {
				return fmt.Sprintf("target p99 <= %.0fx get-by-id p99 (%s): %s", times, round(g.P99), verdict(float64(r.P99) <= times*float64(g.P99)))
			}
		}
		return ""
	}
}

func get(ctx context.Context, u string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
}

func (e *env) post(ctx context.Context, path, body string) (*http.Request, error) {
	return post(ctx, e.base+path, body)
}

// post makes an authorized JSON POST to u.
func post(ctx context.Context, u, body string) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", "Bearer "+benchKey)
	r.Header.Set("Content-Type", "application/json")
	return r, nil
}

// rngs gives each worker its own generator.
type rngs struct {
	mu sync.Mutex
	m  map[int]*rand.Rand
}

func (g *rngs) of(w int) *rand.Rand {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[int]*rand.Rand{}
	}
	if g.m[w] == nil {
		g.m[w] = rand.New(rand.NewPCG(uint64(w), 99))
	}
	return g.m[w]
}

func (e *env) scenarios() []scenario {
	var rs rngs
	pick := func(w int, xs []string) string { return xs[rs.of(w).IntN(len(xs))] }
	ok200 := []int{200}
	// Decided by the configured store, not by setup's pool, so the names are known before
	// setup (RunSuite skips setup when no scenario is selected).
	postgres := e.cfg.Store == "postgres"
	dbCeiling := "ceiling-b pk-select"
	if !postgres {
		dbCeiling = "ceiling-a fixed-body"
	}
	var list []scenario
	list = append(list, scenario{name: "ceiling-a fixed-body", ok: ok200,
		req: func(ctx context.Context, w, i int) (*http.Request, error) { return get(ctx, e.ceilA+"/") }})
	if postgres {
		list = append(list, scenario{name: "ceiling-b pk-select", ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return get(ctx, e.ceilB+"/"+pick(w, e.ids))
			}})
	}
	hot := e.ids[:min(10, len(e.ids))]
	// Each worker walks the list page by page, continuing from its cursor: deep pages. Only
	// worker w touches cursors[w] (its request and its After hook run in its goroutine).
	cursors := make([]string, e.cfg.Workers)
	list = append(list,
		scenario{name: "get-by-id, no cache", ceiling: dbCeiling, target: ratioTarget(0.9), ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return get(ctx, e.direct+"/products/"+pick(w, e.ids))
			}},
		scenario{name: "get-by-id", ceiling: dbCeiling, ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return get(ctx, e.base+"/products/"+pick(w, e.ids))
			}},
		scenario{name: "get-by-id hot (10 products)", ceiling: "ceiling-a fixed-body", target: ratioTarget(0.6), ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return get(ctx, e.base+"/products/"+pick(w, hot))
			}},
		scenario{name: "get-by-sku", ceiling: dbCeiling, ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return get(ctx, e.base+"/skus/"+pick(w, e.skus))
			}},
		scenario{name: "list first page", ceiling: dbCeiling, ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return get(ctx, e.base+"/products?sort=name&limit=20")
			}},
		scenario{name: "list deep pages (cursor)", ceiling: dbCeiling, target: p99Target(3), ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				u := e.base + "/products?sort=name&limit=20"
				if c := cursors[w]; c != "" {
					u += "&cursor=" + url.QueryEscape(c)
				}
				return get(ctx, u)
			},
			hooks: &Hooks{After: func(w int, a Answer) {
				var page struct {
					NextCursor string `json:"next_cursor"`
				}
				if a.Status == http.StatusOK && json.Unmarshal(a.Body, &page) == nil {
					cursors[w] = page.NextCursor // "" at the end: start again
				}
			}}},
		scenario{name: "search", ceiling: dbCeiling, target: p99Target(3), ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				// Half single common words, a quarter two of them (the costliest: fewer
				// matches than either word, but still many), a quarter naming a product.
				var q string
				switch i % 4 {
				case 0, 1:
					q = pick(w, e.words)
				case 2:
					q = pick(w, e.words) + " " + pick(w, e.words)
				default:
					q = pick(w, e.words) + " " + pick(w, e.rare)
				}
				return get(ctx, e.base+"/products?limit=20&q="+url.QueryEscape(q))
			}},
		scenario{name: "filtered list", ceiling: dbCeiling, ok: ok200,
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				lo := rs.of(w).IntN(50000)
				return get(ctx, fmt.Sprintf("%s/products?limit=20&category=%s&currency=USD&min_price=%d&max_price=%d&in_stock=true&sort=price",
					e.base, pick(w, e.cats), lo, lo+20000))
			}},
	)

	hotSKU, idemSKU, manySKUs := "BENCH-HOT-1", "BENCH-HOT-IDEM", make([]string, 1000)
	runID := time.Now().UnixNano() // idempotency keys unique to this run, should the database be reused
	for i := range manySKUs {
		manySKUs[i] = fmt.Sprintf("BENCH-MANY-%04d", i)
	}
	const hotStock, manyStock = 10_000_000, 1_000_000
	// reserveHot reserves one unit of sku at a time, each with an Idempotency-Key of its own if keyed.
	reserveHot := func(name, sku string, keyed bool) scenario {
		return scenario{name: name, ceiling: dbCeiling, ok: []int{201},
			target: func(r Result, _ []Result) string {
				return fmt.Sprintf("target >= 2000/s: %s", verdict(r.RPS >= 2000))
			},
			prepare: func(ctx context.Context) error { return e.stock(ctx, map[string]int64{sku: hotStock}) },
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				r, err := e.post(ctx, "/reservations", `{"lines":[{"sku":"`+sku+`","quantity":1}]}`)
				if err == nil && keyed {
					r.Header.Set("Idempotency-Key", fmt.Sprintf("hot-%d-%d-%d", runID, w, i))
				}
				return r, err
			},
			check: func(ctx context.Context, r *Result) (string, error) {
				return e.oversold(ctx, []string{sku}, r.Statuses[201])
			}}
	}
	var soldOut sync.Map
	list = append(list,
		reserveHot("reserve one hot SKU", hotSKU, false),
		reserveHot("reserve one hot SKU, idempotent", idemSKU, true),
		scenario{name: "reserve across 1000 SKUs", ceiling: dbCeiling, ok: []int{201},
			prepare: func(ctx context.Context) error {
				m := map[string]int64{}
				for _, s := range manySKUs {
					m[s] = manyStock
				}
				return e.stock(ctx, m)
			},
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				return e.post(ctx, "/reservations", `{"lines":[{"sku":"`+pick(w, manySKUs)+`","quantity":1}]}`)
			},
			check: func(ctx context.Context, r *Result) (string, error) {
				return e.oversold(ctx, manySKUs, r.Statuses[201])
			}},
		scenario{name: "flash sale: 3 SKUs sell out", ok: []int{201, 409},
			prepare: func(ctx context.Context) error {
				return e.stock(ctx, map[string]int64{"FLASH-1": 300, "FLASH-2": 200, "FLASH-3": 100})
			},
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				sku := []string{"FLASH-1", "FLASH-2", "FLASH-3"}[rs.of(w).IntN(3)]
				r, err := e.post(ctx, "/reservations", `{"lines":[{"sku":"`+sku+`","quantity":1}]}`)
				if err == nil {
					r.Header.Set("X-Bench-SKU", sku)
				}
				return r, err
			},
			hooks: &Hooks{
				After: func(_ int, a Answer) {
					if a.Status == http.StatusConflict {
						soldOut.Store(a.Request.Header.Get("X-Bench-SKU"), true)
					}
				},
				Done: func() bool {
					n := 0
					soldOut.Range(func(any, any) bool { n++; return true })
					return n == 3
				},
			},
			check: func(ctx context.Context, r *Result) (string, error) {
				note, err := e.oversold(ctx, []string{"FLASH-1", "FLASH-2", "FLASH-3"}, r.Statuses[201])
				if err == nil && r.Statuses[201] != 600 {
					err = fmt.Errorf("sold %d units of 600 in stock", r.Statuses[201])
				}
				return note + fmt.Sprintf(", %d sold of 600, %d refused", r.Statuses[201], r.Statuses[409]), err
			}},
		scenario{name: "mixed 95% read / 5% write", ceiling: dbCeiling, ok: []int{200, 201},
			req: func(ctx context.Context, w, i int) (*http.Request, error) {
				if rs.of(w).IntN(100) < 5 {
					return e.post(ctx, "/products/"+pick(w, e.ids)+"/stock/adjustments", `{"delta":1,"reason":"received"}`)
				}
				return get(ctx, e.base+"/products/"+pick(w, e.ids))
			}},
	)
	list = append(list, e.stormScenarios(&rs)...)
	return list
}

func (e *env) stock(ctx context.Context, units map[string]int64) error {
	if _, err := e.store.Category(ctx, "bench-stock"); err != nil {
		if _, err := e.store.CreateCategory(ctx, catalog.CategoryInput{Slug: "bench-stock", Name: "Bench stock"}); err != nil {
			return err
		}
	}
	var batch []catalog.NewProduct
	for sku, n := range units {
		in := catalog.ProductInput{SKU: sku, Name: sku, Category: "bench-stock", Status: catalog.StatusActive, Price: catalog.Money{Currency: "USD", Amount: 100}}
		in.Normalize()
		batch = append(batch, catalog.NewProduct{ProductInput: in, OnHand: n})
	}
	return e.store.Import(ctx, batch)
}

// oversold compares the store with what the client saw: units reserved must equal the
// reservations acknowledged, and no SKU may have more reserved than on hand.
func (e *env) oversold(ctx context.Context, skus []string, acked int) (string, error) {
	var reserved, oversold int64
	for _, sku := range skus {
		p, err := e.store.ProductBySKU(ctx, sku)
		if err != nil {
			return "", err
		}
		reserved += p.Stock.Reserved
		if p.Stock.Reserved > p.Stock.OnHand {
			oversold += p.Stock.Reserved - p.Stock.OnHand
		}
	}
	note := fmt.Sprintf("oversold: %d", oversold)
	switch {
	case oversold != 0:
		return note, fmt.Errorf("oversold %d units", oversold)
	case reserved != int64(acked):
		return note, fmt.Errorf("%d reservations acknowledged but %d units reserved", acked, reserved)
	}
	return note, nil
}
