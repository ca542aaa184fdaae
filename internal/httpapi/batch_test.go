package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

func TestStockBatchThroughAPI(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/products", product("BAT-1", 100), auth, 201)
	e.do("POST", "/products", product("BAT-2", 100), auth, 201)

	// Every bad line named, nothing applied: 422 for lines the catalog refuses.
	_, b := e.do("POST", "/batch/stock", `{"lines":[{"sku":"BAT-1","delta":5,"reason":"received"},{"sku":"NOPE-9","delta":1,"reason":"received"},{"sku":"BAT-2","delta":-1,"reason":"lost"}]}`, auth, 422)
	var refused struct {
		Error struct {
			Code   string
			Fields []catalog.FieldError
		}
	}
	if err := json.Unmarshal(b, &refused); err != nil || refused.Error.Code != "unprocessable" || len(refused.Error.Fields) != 2 ||
		refused.Error.Fields[0].Field != "lines[1].sku" || refused.Error.Fields[1].Field != "lines[2].delta" {
		t.Errorf("refused batch = %s, want 422 naming lines[1].sku and lines[2].delta", b)
	}
	_, b = e.do("GET", "/skus/BAT-1", "", auth, 200)
	if v := decode[catalog.Variant](t, b); v.Stock.OnHand != 0 {
		t.Errorf("BAT-1 has %d on hand after a refused batch", v.Stock.OnHand)
	}
	// Malformed lines: 400, every one named (more than the 20 a single body lists).
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf(`{"sku":"BAT-%d","delta":0,"reason":"received"}`, i+10))
	}
	_, b = e.do("POST", "/batch/stock", `{"lines":[`+strings.Join(lines, ",")+`]}`, auth, 400)
	if n := strings.Count(string(b), `.delta"`); n != 30 {
		t.Errorf("a batch with 30 bad lines names %d of them, want all:\n%s", n, b)
	}
	// Over 1,000 lines: refused while reading, naming lines.
	over := `{"lines":[` + strings.Repeat(`{"sku":"BAT-1","delta":1,"reason":"received"},`, catalog.MaxBatchLines) + `{"sku":"BAT-2","delta":1,"reason":"received"}]}`
	_, b = e.do("POST", "/batch/stock", over, auth, 400)
	if !strings.Contains(string(b), `"field":"lines"`) {
		t.Errorf("a batch of 1,001 lines: %s, want a 400 naming lines", b)
	}
	// Applied once under an idempotency key; a retry replays the answer.
	body := `{"lines":[{"sku":"bat-1","delta":5,"reason":"received"},{"sku":"BAT-2","delta":2,"reason":"received","note":"PO 1"}]}`
	idem := with(auth, "Idempotency-Key", "stock-batch-1")
	_, first := e.do("POST", "/batch/stock", body, idem, 200)
	_, again := e.do("POST", "/batch/stock", body, idem, 200)
	if string(first) != string(again) {
		t.Errorf("retry answered %s, want the first answer %s", again, first)
	}
	_, b = e.do("GET", "/skus/BAT-1", "", auth, 200)
	if v := decode[catalog.Variant](t, b); v.Stock.OnHand != 5 {
		t.Errorf("BAT-1 has %d on hand after a batch and its retry, want 5", v.Stock.OnHand)
	}
	e.do("POST", "/batch/stock", strings.Replace(body, `"delta":5`, `"delta":6`, 1), idem, 422)
}

func TestPriceBatchThroughAPI(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/products", product("PBA-1", 100), auth, 201)
	_, b := e.do("POST", "/batch/prices", `{"lines":[{"sku":"PBA-1","currency":"USD","amount":150},{"sku":"PBA-1","currency":"EUR","amount":140,"compare_at":160}]}`, auth, 200)
	var res struct {
		Lines []catalog.PriceEvent `json:"lines"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.Lines) != 2 || res.Lines[1].Price.Currency != "EUR" || res.Lines[0].ProductID == "" {
		t.Fatalf("price batch answered %s", b)
	}
	_, b = e.do("GET", "/skus/PBA-1", "", nil, 200)
	if v := decode[catalog.Variant](t, b); len(v.Prices) != 2 || v.Prices[1].Amount != 150 {
		t.Errorf("PBA-1 prices %+v, want EUR 140 and USD 150", v.Prices)
	}
	_, b = e.do("POST", "/batch/prices", `{"lines":[{"sku":"PBA-1","currency":"USD","amount":1},{"sku":"PBA-1","currency":"usd","amount":-1},{"sku":"PBA-1","currency":"USD","amount":2,"valid_from":"yesterday"}]}`, auth, 400)
	for _, f := range []string{"lines[1].currency", "lines[1].amount", "lines[2].valid_from"} {
		if !strings.Contains(string(b), `"`+f+`"`) {
			t.Errorf("malformed price batch %s does not name %s", b, f)
		}
	}
	// Scopes (catalog for prices, inventory for stock) are checked for every route by the
	// access tests generated from the route table; without a key it is a 401.
	e.do("POST", "/batch/prices", `{"lines":[{"sku":"PBA-1","currency":"USD","amount":1}]}`, nil, 401)
}
