package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// concurrentPatches has clients patch distinct fields of one product, and one of them a
// variant's price, at once without If-Match, through the real binary on the store under test:
// every request is a 200 and every field ends as its last writer set it.
func concurrentPatches(t *testing.T, c *http.Client, base, id string) {
	t.Helper()
	const clients, rounds = 8, 15
	var before catalog.Product
	json.Unmarshal(call(t, c, "GET", base+"/products/"+id, "", false, 200), &before)
	variant := before.Variants[0]
	for i := 2; i < clients; i++ {
		defineAttribute(t, c, base, fmt.Sprintf(`{"key":"k%d","name":"K%d","type":"text"}`, i, i))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := map[int]int{}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				body := fmt.Sprintf(`{"attributes":{"k%d":"v%d"}}`, i, n)
				path := "/products/" + id
				switch i {
				case 0:
					body = fmt.Sprintf(`{"name":"Kettle %d"}`, n)
				case 1:
					body = fmt.Sprintf(`{"prices":[{"currency":"EUR","amount":%d}]}`, 100+n)
					path += "/variants/" + variant.ID
				}
				req, _ := http.NewRequest("PATCH", base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/merge-patch+json")
				req.Header.Set("Authorization", "Bearer "+testKey)
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					mu.Lock()
					refused[resp.StatusCode]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(refused) > 0 {
		t.Fatalf("of %d patches without If-Match, these were refused (status: count): %v", clients*rounds, refused)
	}
	var p catalog.Product
	json.Unmarshal(call(t, c, "GET", base+"/products/"+id, "", false, 200), &p)
	last := fmt.Sprint(rounds - 1)
	want := maps.Clone(before.Attributes)
	for i := 2; i < clients; i++ {
		want[fmt.Sprintf("k%d", i)] = "v" + last
	}
	v, _ := p.Variant(variant.ID)
	if p.Name != "Kettle "+last || len(v.Prices) != 1 || v.Prices[0].Amount != 100+rounds-1 || !maps.Equal(p.Attributes, want) {
		t.Fatalf("after concurrent patches: name %q prices %+v attributes %v", p.Name, v.Prices, p.Attributes)
	}
}
