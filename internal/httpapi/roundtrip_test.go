package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// TestExportImportsBack: a JSONL export imports into an empty catalog, and exporting that
// catalog gives the same file but for what the catalog assigns (IDs, times, versions, the
// cursor): products with options, several variants, two currencies, a compare-at price,
// attributes, media, stock and a draft. Stock comes back as each new variant's initial stock.
func TestExportImportsBack(t *testing.T) {
	src := newEnv(t)
	src.do("POST", "/products", `{"name":"Tee","category":"kitchen","status":"active","brand":"Acme","description":"Cotton",
		"media":[{"url":"https://cdn.example.com/tee.jpg","alt":"Tee"}],
		"options":[{"name":"Size","values":["S","M"]}],
		"variants":[
			{"sku":"RT-TEE-S","options":{"Size":"S"},"barcode":"4006381333931","weight_grams":180,"image":"https://cdn.example.com/tee.jpg",
			 "prices":[{"currency":"USD","amount":1999,"compare_at":2499},{"currency":"EUR","amount":1899}],"initial_stock":4},
			{"sku":"RT-TEE-M","options":{"Size":"M"},"purchase_limit":3,"prices":[{"currency":"USD","amount":1999}]}]}`, auth, 201)
	src.do("POST", "/products", strings.Replace(product("RT-MUG", 900), `"active"`, `"draft"`, 1), auth, 201)
	_, exported := src.do("GET", "/exports", "", auth, 200)

	dst := newEnv(t)
	h := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/x-ndjson"}
	j := dst.waitJob(dst.submit("", string(exported), h, 202).ID)
	if j.State != catalog.ImportSucceeded || j.Created != 2 || j.Failed != 0 {
		t.Fatalf("import of an export = %+v", j)
	}
	_, again := dst.do("GET", "/exports", "", auth, 200)
	if got, want := comparableExport(t, again), comparableExport(t, exported); got != want {
		t.Errorf("export after the round trip\n%s\nwant the original's\n%s", got, want)
	}

	// The same export again updates nothing: IDs are not match keys, SKUs are.
	j = dst.waitJob(dst.submit("", string(exported), h, 202).ID)
	if j.State != catalog.ImportSucceeded || j.Unchanged != 2 || j.Created != 0 {
		t.Errorf("second import of the export = %+v, want 2 unchanged", j)
	}
	// A cut-off export (its error line) is refused, naming the line.
	cut := string(exported[:bytes.IndexByte(exported, '\n')+1]) + `{"error":{"code":"internal","message":"the export stopped"}}` + "\n"
	j = dst.waitJob(dst.submit("", cut, h, 202).ID)
	if j.State != catalog.ImportFailed || j.Failed != 1 || len(j.Errors) != 1 || j.Errors[0].Line != 2 || !strings.Contains(j.Errors[0].Rule, "export") {
		t.Errorf("import of a cut-off export = %+v, want line 2 refused as an incomplete export", j)
	}
}

// comparableExport is an export without what a catalog assigns: IDs, times, versions and
// cursors.
func comparableExport(t *testing.T, b []byte) string {
	t.Helper()
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		strip(m)
		s, _ := json.Marshal(m)
		out = append(out, string(s))
	}
	return strings.Join(out, "\n")
}

func strip(v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"id", "product_id", "created_at", "updated_at", "version", "product_version", "cursor"} {
			delete(v, k)
		}
		for _, c := range v {
			strip(c)
		}
	case []any:
		for _, c := range v {
			strip(c)
		}
	}
}

// TestCSVExportImportsBack: a CSV export imports into an empty catalog and exports again as
// the same file but for its handle column, which is the product's ID: a handle groups a
// product's rows within one file and is not stored, as a JSONL line's id is ignored; SKUs are
// the match key in both formats, so a handle naming an existing product does not update it.
func TestCSVExportImportsBack(t *testing.T) {
	src := newEnv(t)
	src.do("POST", "/products", `{"name":"Tee","category":"kitchen","status":"active","brand":"Acme",
		"media":[{"url":"https://cdn.example.com/tee.jpg","alt":"Tee"}],
		"options":[{"name":"Size","values":["S","M"]}],
		"variants":[
			{"sku":"RT-TEE-S","options":{"Size":"S"},"prices":[{"currency":"USD","amount":1999,"compare_at":2499}],"initial_stock":4},
			{"sku":"RT-TEE-M","options":{"Size":"M"},"prices":[{"currency":"USD","amount":1999}]}]}`, auth, 201)
	src.do("POST", "/products", product("RT-MUG", 900), auth, 201)
	_, exported := src.do("GET", "/exports?format=csv", "", auth, 200)

	dst := newEnv(t)
	h := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/csv"}
	j := dst.waitJob(dst.submit("", string(exported), h, 202).ID)
	if j.State != catalog.ImportSucceeded || j.Created != 2 || j.Failed != 0 {
		t.Fatalf("import of a CSV export = %+v", j)
	}
	_, again := dst.do("GET", "/exports?format=csv", "", auth, 200)
	got, handles := withoutHandles(t, again)
	if want, _ := withoutHandles(t, exported); got != want {
		t.Errorf("CSV export after the round trip\n%s\nwant the original's\n%s", got, want)
	}
	for _, handle := range handles {
		dst.do("GET", "/products/"+handle, "", auth, 200) // the handle is the product's ID
	}
	// A handle is not a match key: the Tee's handle with a new SKU is a new product.
	line := "handle,name,category,status,sku,price.USD\n" + handles[0] + ",Other,kitchen,active,RT-OTHER,100\n"
	j = dst.waitJob(dst.submit("", line, h, 202).ID)
	if j.State != catalog.ImportSucceeded || j.Created != 1 || j.Updated != 0 {
		t.Errorf("import of an existing product's handle with a new SKU = %+v, want 1 created", j)
	}
}

// withoutHandles returns a CSV export without its handle column, and the distinct handles.
func withoutHandles(t *testing.T, b []byte) (string, []string) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out, handles []string
	for i, r := range rows {
		if r[0] != "handle" && (i == 0 || r[0] != rows[i-1][0]) {
			handles = append(handles, r[0])
		}
		out = append(out, strings.Join(r[1:], ","))
	}
	return strings.Join(out, "\n"), handles
}
