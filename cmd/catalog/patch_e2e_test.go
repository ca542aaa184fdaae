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

// concurrentPatches has clients patch distinct fields of one product at once without
// If-Match, through the real binary on the store under test: every request is a 200 and every
// field ends as its last writer set it.
func concurrentPatches(t *testing.T, c *http.Client, base, id string) {
	t.Helper()
	const clients, rounds = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := map[int]int{}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				body := fmt.Sprintf(`{"attributes":{"k%d":"v%d"}}`, i, n)
				switch i {
				case 0:
					body = fmt.Sprintf(`{"name":"Kettle %d"}`, n)
				case 1:
					body = fmt.Sprintf(`{"price":{"amount":%d}}`, 100+n)
				}
				req, _ := http.NewRequest("PATCH", base+"/products/"+id, strings.NewReader(body))
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
	want := map[string]string{}
	for i := 2; i < clients; i++ {
		want[fmt.Sprintf("k%d", i)] = "v" + last
	}
	if p.Name != "Kettle "+last || p.Price.Amount != 100+rounds-1 || !maps.Equal(p.Attributes, want) {
		t.Fatalf("after concurrent patches: name %q price %+v attributes %v", p.Name, p.Price, p.Attributes)
	}
}
