package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/sqlite"
)

const importKey = "import-key-0123456789abcdef"

// importServer runs the real handler over a fresh SQLite store, with a "misc" category.
func importServer(t *testing.T) (*httptest.Server, catalog.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.CreateCategory(context.Background(), catalog.CategoryInput{Slug: "misc", Name: "Misc"}); err != nil {
		t.Fatal(err)
	}
	keys, err := httpapi.NewKeys([]string{importKey})
	if err != nil {
		t.Fatal(err)
	}
	r := importer.New(store, importer.Config{Dir: t.TempDir(), BatchSize: 3})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	t.Cleanup(func() { cancel(); _ = r.Stop(context.Background()) })
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Store: store, Keys: keys, OpenAPI: api.OpenAPI, Imports: r}))
	t.Cleanup(ts.Close)
	return ts, store
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportCommand(t *testing.T) {
	ts, store := importServer(t)
	var jsonl strings.Builder
	for i := range 10 {
		fmt.Fprintf(&jsonl, `{"name":"P%d","category":"misc","status":"active","variants":[{"sku":"CLI-%d","prices":[{"currency":"USD","amount":%d}],"initial_stock":2}]}`+"\n", i, i, 100+i)
	}
	file := writeFile(t, "products.jsonl", jsonl.String())
	env := func(string) string { return "" }

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"import", file, "--url", ts.URL, "--key", importKey, "--dry-run"}, env, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "succeeded") || !strings.Contains(out.String(), "would create 10") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if _, _, err := store.VariantBySKU(context.Background(), "CLI-1"); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Fatalf("dry run wrote CLI-1: %v", err)
	}

	out.Reset()
	code = run(context.Background(), []string{"import", "--url", ts.URL, file}, func(k string) string {
		if k == "CATALOG_API_KEY" {
			return importKey
		}
		return ""
	}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "created 10, updated 0, refused 0") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	// Not a terminal: one plain line per state, no bar.
	if strings.Contains(out.String(), "\r") || !strings.Contains(out.String(), "succeeded: 10 lines, 10 products read") {
		t.Errorf("output is not plain lines:\n%q", out.String())
	}
	if _, v, err := store.VariantBySKU(context.Background(), "CLI-9"); err != nil || v.Stock.OnHand != 2 {
		t.Fatalf("CLI-9 = %+v, %v", v, err)
	}

	// A gzipped CSV with a bad line: the job fails, the command exits 1 naming line and column.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("handle,name,category,status,sku,price.USD\na,A,misc,active,CLI-A,100\nb,B,misc,active,CLI-B,ten\n"))
	zw.Close()
	bad := writeFile(t, "bad.csv.gz", gz.String())
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"import", bad, "--url", ts.URL, "--key", importKey}, env, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "line 3: price.USD: must be a whole number") || !strings.Contains(errOut.String(), "failed") {
		t.Fatalf("bad file: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if _, _, err := store.VariantBySKU(context.Background(), "CLI-A"); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Errorf("a failed import wrote CLI-A: %v", err)
	}
}

func TestImportCommandRefusals(t *testing.T) {
	ts, _ := importServer(t)
	file := writeFile(t, "p.csv", "handle,sku\n")
	env := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", file}, "usage: catalog import"},
		{[]string{"import", file, "--url", ts.URL}, "no key"},
		{[]string{"import", writeFile(t, "p.txt", ""), "--url", ts.URL, "--key", importKey}, "cannot tell the format"},
		{[]string{"import", file, "--url", ts.URL, "--key", "wrong-key-0123456789abcdef"}, "401"},
		{[]string{"import", filepath.Join(t.TempDir(), "missing.csv"), "--url", ts.URL, "--key", importKey}, "no such file"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tc.args, env, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero and %q", tc.args[1:], code, errOut.String(), tc.want)
		}
	}
}
