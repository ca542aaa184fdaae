package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
)

type fixedPositions struct{ p catalog.ReadPosition }

func (f fixedPositions) WritePosition(context.Context) (catalog.ReadPosition, error) { return f.p, nil }

// routingRecorder records what the last Product call was told about routing.
type routingRecorder struct {
	catalog.Store
	mu       sync.Mutex
	after    catalog.ReadPosition
	hasAfter bool
	writer   bool
}

func (r *routingRecorder) Product(ctx context.Context, id string) (catalog.Product, error) {
	r.mu.Lock()
	r.after, r.hasAfter = catalog.ReadAfter(ctx)
	r.writer = catalog.WriterReads(ctx)
	r.mu.Unlock()
	return r.Store.Product(ctx, id)
}

// TestReadAfterHeader: with replica reads on, a successful write answers with the writer's
// position and a failed one without; a read passes the client's position to the store; reads
// with the read scope, reads inside writes and stock reads are marked for the writer; a
// malformed position is a 400 naming the header. With replica reads off the header is ignored.
func TestReadAfterHeader(t *testing.T) {
	const pos = catalog.ReadPosition(0x16_B374D848)
	var rec *routingRecorder
	e := newEnvWith(t, func(o *httpapi.Options) {
		rec = &routingRecorder{Store: o.Store}
		o.Store = rec
		o.ReadPositions = fixedPositions{pos}
	})
	resp, b := e.do("POST", "/products", mug, auth, 201)
	if got := resp.Header.Get(httpapi.ReadAfterHeader); got != "16/B374D848" {
		t.Fatalf("write answered %s %q, want 16/B374D848", httpapi.ReadAfterHeader, got)
	}
	p := decode[catalog.Product](t, b)
	resp, _ = e.do("POST", "/products", `{"name":""}`, auth, 400)
	if got := resp.Header.Get(httpapi.ReadAfterHeader); got != "" {
		t.Fatalf("a refused write answered %s %q, want none", httpapi.ReadAfterHeader, got)
	}

	resp, _ = e.do("GET", "/products/"+p.ID, "", map[string]string{httpapi.ReadAfterHeader: "16/b374d848"}, 200)
	if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), httpapi.ReadAfterHeader) {
		t.Fatalf("a read's Vary %q lacks %s", resp.Header.Values("Vary"), httpapi.ReadAfterHeader)
	}
	if !rec.hasAfter || rec.after != pos || rec.writer {
		t.Fatalf("anonymous read with a position: store saw after=%v/%v writer=%v", rec.after, rec.hasAfter, rec.writer)
	}
	e.do("GET", "/products/"+p.ID, "", nil, 200)
	if rec.hasAfter || rec.writer {
		t.Fatalf("anonymous read: store saw after=%v writer=%v, want neither", rec.hasAfter, rec.writer)
	}
	e.do("GET", "/products/"+p.ID, "", auth, 200)
	if !rec.writer {
		t.Fatal("a read-scope read was not marked for the writer")
	}
	v := p.Variants[0].ID
	e.do("GET", "/products/"+p.ID+"/variants/"+v+"/stock", "", nil, 200)
	if !rec.writer {
		t.Fatal("a stock read was not marked for the writer")
	}
	e.do("PATCH", "/products/"+p.ID, `{"name":"Mug 2"}`, with(auth, "Content-Type", "application/merge-patch+json"), 200)
	if !rec.writer {
		t.Fatal("the read inside a write was not marked for the writer")
	}
	for _, bad := range []string{"nope", "1/", "123456789/0", "1/2/3", "0x1/2"} {
		_, b := e.do("GET", "/products/"+p.ID, "", map[string]string{httpapi.ReadAfterHeader: bad}, 400)
		if !contains(b, `"field":"Catalog-Read-After"`) {
			t.Fatalf("%s: %q: body %s does not name the header", httpapi.ReadAfterHeader, bad, b)
		}
	}

	off := newEnv(t)
	resp, b = off.do("POST", "/products", mug, auth, 201)
	if got := resp.Header.Get(httpapi.ReadAfterHeader); got != "" {
		t.Fatalf("without replica reads a write answered %s %q", httpapi.ReadAfterHeader, got)
	}
	off.do("GET", "/products/"+decode[catalog.Product](t, b).ID, "", map[string]string{httpapi.ReadAfterHeader: "nope"}, 200)
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

type noPositions struct{}

func (noPositions) WritePosition(context.Context) (catalog.ReadPosition, error) {
	return 0, httpapi.ErrNoWritePositions
}

// TestWriteWithoutPositions: a writer that gives no positions at all (Aurora without logical
// replication) costs a write nothing: it succeeds, without the header.
func TestWriteWithoutPositions(t *testing.T) {
	e := newEnvWith(t, func(o *httpapi.Options) { o.ReadPositions = noPositions{} })
	resp, _ := e.do("POST", "/products", mug, auth, 201)
	if got := resp.Header.Get(httpapi.ReadAfterHeader); got != "" {
		t.Fatalf("write answered %s %q, want none", httpapi.ReadAfterHeader, got)
	}
}
