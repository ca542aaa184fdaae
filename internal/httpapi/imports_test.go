package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/importer"
)

const importCSV = `handle,name,category,status,option.Size,sku,initial_stock,price.USD
tee,Tee,kitchen,active,S,IMP-TEE-S,3,1999
tee,,,,M,IMP-TEE-M,4,1999
mug,Mug,kitchen,active,,IMP-MUG,10,900
`

func csvHeaders() map[string]string {
	return map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/csv"}
}

// waitJob polls the job until it is finished.
func (e *env) waitJob(id string) catalog.ImportJob {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, b := e.do("GET", "/imports/"+id, "", auth, 200)
		j := decode[catalog.ImportJob](e.t, b)
		if j.State.Finished() {
			return j
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s still %s", id, j.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) submit(query, body string, headers map[string]string, want int) catalog.ImportJob {
	e.t.Helper()
	resp, b := e.do("POST", "/imports"+query, body, headers, want)
	if want != http.StatusAccepted {
		return catalog.ImportJob{}
	}
	j := decode[catalog.ImportJob](e.t, b)
	if loc := resp.Header.Get("Location"); loc != "/imports/"+j.ID {
		e.t.Errorf("Location = %q, want /imports/%s", loc, j.ID)
	}
	return j
}

func TestImportCSV(t *testing.T) {
	e := newEnv(t)
	j := e.waitJob(e.submit("", importCSV, csvHeaders(), 202).ID)
	if j.State != catalog.ImportSucceeded || j.Products != 2 || j.Created != 2 || j.Updated != 0 || j.Failed != 0 || j.Lines != 4 {
		t.Fatalf("job = %+v", j)
	}
	_, b := e.do("GET", "/skus/IMP-TEE-M", "", nil, 200)
	v := decode[catalog.Variant](t, b)
	if v.Stock.OnHand != 4 {
		t.Errorf("IMP-TEE-M on hand %d, want 4", v.Stock.OnHand)
	}
	// The same file with a new price: the products are updated, not duplicated.
	j = e.waitJob(e.submit("", strings.ReplaceAll(importCSV, "1999", "2499"), csvHeaders(), 202).ID)
	if j.State != catalog.ImportSucceeded || j.Created != 0 || j.Updated != 2 {
		t.Fatalf("second job = %+v", j)
	}
	_, b = e.do("GET", "/products?limit=100&total=true", "", nil, 200)
	if !bytes.Contains(b, []byte(`"total":2`)) {
		t.Errorf("list after re-import: %s", b)
	}
}

func TestImportJSONLGzip(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range 5 {
		fmt.Fprintf(zw, `{"name":"P%d","category":"kitchen","status":"active","variants":[{"sku":"IMP-J-%d","prices":[{"currency":"EUR","amount":%d}]}]}`+"\n", i, i, 100+i)
	}
	zw.Close()
	h := map[string]string{"Authorization": auth["Authorization"], "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
	j := e.waitJob(e.submit("", buf.String(), h, 202).ID)
	if j.State != catalog.ImportSucceeded || j.Created != 5 || j.Format != "jsonl" {
		t.Fatalf("job = %+v", j)
	}
	e.do("GET", "/skus/IMP-J-4", "", nil, 200)
	// Not gzip after all: a 400 naming the body.
	e.do("POST", "/imports", "not gzip", h, 400)
}

// TestImportFailingLineWritesNothing: one refused line fails the job before any write, with the
// line, field and rule; partial=true applies the others.
func TestImportFailingLineWritesNothing(t *testing.T) {
	e := newEnv(t)
	bad := importCSV + "cup,Cup,nope,active,,IMP-CUP,1,500\nbowl,Bowl,kitchen,active,,IMP-BOWL,1,-5\n"
	j := e.waitJob(e.submit("", bad, csvHeaders(), 202).ID)
	if j.State != catalog.ImportFailed || j.Failed != 2 || j.Created != 2 || !strings.Contains(j.Reason, "nothing was written") {
		t.Fatalf("job = %+v", j)
	}
	want := []catalog.ImportProblem{{Line: 5, Field: "category"}, {Line: 6, Field: "price.USD"}}
	if len(j.Errors) != len(want) {
		t.Fatalf("errors = %+v", j.Errors)
	}
	for i, w := range want {
		if g := j.Errors[i]; g.Line != w.Line || g.Field != w.Field || g.Rule == "" {
			t.Errorf("error %d = %+v, want line %d field %s", i, g, w.Line, w.Field)
		}
	}
	e.do("GET", "/skus/IMP-MUG", "", nil, 404)

	j = e.waitJob(e.submit("?partial=true", bad, csvHeaders(), 202).ID)
	if j.State != catalog.ImportSucceeded || j.Created != 2 || j.Failed != 2 || len(j.Errors) != 2 {
		t.Fatalf("partial job = %+v", j)
	}
	e.do("GET", "/skus/IMP-MUG", "", nil, 200)
	e.do("GET", "/skus/IMP-CUP", "", nil, 404)
}

func TestImportDryRunAndIdempotency(t *testing.T) {
	e := newEnv(t)
	h := csvHeaders()
	h["Idempotency-Key"] = "upload-42"
	first := e.submit("?dry_run=true", importCSV, h, 202)
	j := e.waitJob(first.ID)
	if j.State != catalog.ImportSucceeded || !j.DryRun || j.Created != 2 {
		t.Fatalf("dry run = %+v", j)
	}
	e.do("GET", "/skus/IMP-MUG", "", nil, 404)
	again := e.submit("?dry_run=true", importCSV, h, 202)
	if again.ID != first.ID || again.State != catalog.ImportSucceeded {
		t.Errorf("same key and file = job %s (%s), want %s", again.ID, again.State, first.ID)
	}
	e.do("POST", "/imports?dry_run=true", importCSV+"x,X,kitchen,active,,IMP-X,1,1\n", h, 422)
	e.do("POST", "/imports", importCSV, h, 422) // the same file for real is another request
}

func TestImportRefusals(t *testing.T) {
	e := newEnvWith(t, func(o *httpapi.Options) {
		r := importer.New(o.Store, importer.Config{Dir: t.TempDir(), MaxBytes: 2048})
		ctx, cancel := context.WithCancel(context.Background())
		r.Start(ctx)
		t.Cleanup(func() { cancel(); _ = r.Stop(context.Background()) })
		o.Imports = r
	})
	e.do("POST", "/imports", importCSV, auth, 415) // application/json
	e.do("POST", "/imports", importCSV, map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/csv; charset=latin1"}, 415)
	e.do("POST", "/imports", importCSV, map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/csv", "Content-Encoding": "br"}, 415)
	e.do("POST", "/imports?dry=1", importCSV, csvHeaders(), 400)
	e.do("POST", "/imports?partial=yes", importCSV, csvHeaders(), 400)
	e.do("POST", "/imports", strings.Repeat("x", 3000), csvHeaders(), 413)
	// Gzip that inflates past the cap: refused while spooling, not after.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(bytes.Repeat([]byte("a"), 1<<20))
	zw.Close()
	e.do("POST", "/imports", buf.String(), map[string]string{"Authorization": auth["Authorization"], "Content-Type": "text/csv", "Content-Encoding": "gzip"}, 413)
	e.do("POST", "/imports", importCSV, map[string]string{"Content-Type": "text/csv"}, 401)
	e.do("GET", "/imports/"+catalog.NewID(), "", auth, 404)
	// A bad header fails the job whole, naming the column.
	j := e.waitJob(e.submit("?partial=true", "handle,colour,sku\n", csvHeaders(), 202).ID)
	if j.State != catalog.ImportFailed || len(j.Errors) == 0 || j.Errors[0].Field != "colour" {
		t.Errorf("bad header job = %+v", j)
	}
}
