package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestCacheHeartbeatSkipsRevalidation: on PostgreSQL the service's heartbeat goes through the
// database and back on the listening connection, so a cached product read again past its TTL
// (well within readcache.ConfirmedTTLs of them) is served without a version lookup, while a
// change made behind the service's back still reaches it by notification.
func TestCacheHeartbeatSkipsRevalidation(t *testing.T) {
	url := pgtest.URL(t)
	// Another instance: it loads the sample catalog and, later, writes behind the service's back.
	other, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := seedSampleIfEmpty(context.Background(), other, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// Heartbeats every 250ms: a read finds its confirmation older than the TTL only after a
	// stall of 750ms, which a loaded CI machine makes far less often than one of 225ms.
	const ttl = time.Second
	a, c, base := startServing(t, map[string]string{"DATABASE_URL": url, "CACHE_TTL": ttl.String()})
	product := func(id string) (name string) {
		t.Helper()
		resp, err := c.Get(base + "/products/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p struct {
			ID, Name string
		}
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /products/%s = %d, %v", id, resp.StatusCode, err)
		}
		return p.Name
	}
	resp, err := c.Get(base + "/products?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct{ ID string } `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("no product in the sample catalog: %v", err)
	}
	id := page.Items[0].ID
	product(id) // a miss fills the cache
	// Past the TTL a few times over, read at intervals shorter than it: every read is served
	// from memory without a version lookup while the heartbeats come back.
	for range 8 {
		time.Sleep(ttl / 2)
		product(id)
	}
	if u := a.cache.Usage(); u.Revalidated != 0 || u.Misses != 1 {
		t.Fatalf("reads over %s with a %s TTL: %+v; want 1 miss, no revalidation (no heartbeat came back?)", 4*ttl, ttl, u)
	}
	// Another writer: the notification still arrives.
	if _, err := other.Pool().Exec(context.Background(), `UPDATE products SET name = 'Renamed elsewhere', version = version + 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for product(id) != "Renamed elsewhere" {
		if time.Now().After(deadline) {
			t.Fatal("a write made behind the service's back was not seen within 2s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
