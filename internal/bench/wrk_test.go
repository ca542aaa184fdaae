package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := []byte("Running 1s test @ http://127.0.0.1:1\n  2 threads and 64 connections\n" +
		`WRK {"requests":2000,"duration_us":1000000,"p50_us":450,"p99_us":2100,"non2xx":3,"connect":0,"read":1,"write":0,"timeout":2}` + "\n")
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 2000 || r.RPS != 2000 || r.P50 != 450*time.Microsecond || r.P99 != 2100*time.Microsecond || r.Errors != 6 {
		t.Fatalf("parsed %+v", r)
	}
	for _, bad := range []string{"no summary\n", `WRK {"requests":1,"duration_us":0}` + "\n", "WRK {\n"} {
		if _, err := parseWrk([]byte(bad)); err == nil {
			t.Errorf("parseWrk(%q) took it", bad)
		}
	}
}

// TestWrkSmoke runs the out-of-process bench on a small catalog for a second per scenario: every
// scenario answers without errors, each figure has its CPU per request beside it, and the
// server without the cache leaves the CPU profile asked for.
func TestWrkSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs wrk")
	}
	bin := &Binary{}
	defer bin.Close()
	profile, cachedProfile := filepath.Join(t.TempDir(), "direct.pprof"), filepath.Join(t.TempDir(), "cached.pprof")
	results, err := RunWrk(context.Background(), WrkConfig{Binary: bin, Products: 2000, Duration: time.Second, Connections: 16, WarmUp: time.Second,
		CPUProfile: profile, CachedCPUProfile: cachedProfile})
	if errors.Is(err, ErrNoWrk) {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 10 { // 2 ceilings, 6 scenarios, the ceilings run around 2 of them
		t.Fatalf("%d results", len(results))
	}
	// A CPU profile is gzip-compressed protobuf, written when the server stops.
	for server, file := range map[string]string{"without the cache": profile, "with the cache": cachedProfile} {
		if b, err := os.ReadFile(file); err != nil || len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("the server %s left no CPU profile at %s (%d bytes, %v)", server, file, len(b), err)
		}
	}
	for _, r := range results {
		if r.Requests == 0 || r.ServerCPU <= 0 || r.ClientCPU <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: %+v", r.Name, r)
		}
		around := strings.Contains(r.Name, ", around ")
		if r.Name != "ceiling-a fixed body" && r.Name != "ceiling-b pk select, uniform" && !around && r.Ceiling == "" {
			t.Errorf("%s has no ceiling", r.Name)
		}
		if strings.Contains(r.Target, "target >=") && !strings.Contains(r.Note, aroundNote) {
			t.Errorf("%s: note %q: a ratio target is measured against the ceiling run around it", r.Name, r.Note)
		}
		if strings.HasSuffix(r.Name, ", cache") && (!strings.Contains(r.Note, "hits ") || r.RSSKB <= 0) {
			t.Errorf("%s: note %q, RSS %d KB: want the cache's hit ratio and the server's RSS", r.Name, r.Note, r.RSSKB)
		}
		// Served as in the stacks' default task (2 GiB): the GC budget ADR 0027 sets there.
		if strings.HasSuffix(r.Name, ", cache") && !strings.Contains(r.Note, "GOGC 400, GOMEMLIMIT 1280 MiB") {
			t.Errorf("%s: note %q: want the served process sized as the default task (GOGC 400, GOMEMLIMIT 1280 MiB)", r.Name, r.Note)
		}
		// primeCache read every product first: the cached runs measure the hit path only.
		if strings.HasSuffix(r.Name, ", cache") && (!r.cache.ok || r.cache.misses != 0) {
			t.Errorf("%s: %+v: want no misses after the cache was primed", r.Name, r.cache)
		}
		if strings.HasPrefix(r.Name, "list") && !strings.Contains(r.Target, "get-by-id's") {
			t.Errorf("%s: target %q does not compare its p99 with get-by-id's", r.Name, r.Target)
		}
	}
}

// TestWrkOrder: a scenario with a ratio target runs between two runs of its ceiling, around
// the "before" build's runs too, so the order is a palindrome and linear drift cancels.
func TestWrkOrder(t *testing.T) {
	ceilings := []wrkScenario{{name: "ceiling-a fixed body", paths: []string{"/"}, mode: "uniform"}, {name: "ceiling-b pk select, uniform"}}
	service := []wrkScenario{
		{name: "get-by-id", ceiling: "ceiling-b pk select, uniform", around: true, paths: []string{"/products/1", "/products/2"}, mode: "uniform"},
		{name: "hot reads", ceiling: "ceiling-a fixed body", around: true, cached: true, paths: []string{"/products/3", "/products/4"}, mode: "zipf"},
		{name: "list", ceiling: "ceiling-b pk select, uniform"},
	}
	names := func(order []wrkScenario) []string {
		var out []string
		for _, sc := range order {
			n := sc.name
			if sc.again {
				n += " (again)"
			}
			out = append(out, n)
		}
		return out
	}
	order := wrkOrder(ceilings, service, nil, 10*time.Second, nil)
	want := []string{"ceiling-a fixed body", "ceiling-b pk select, uniform",
		`  (b), around "get-by-id"`, "get-by-id", `  (b), around "get-by-id" (again)`,
		`  (a), around "hot reads"`, "hot reads", `  (a), around "hot reads" (again)`,
		"list"}
	if got := names(order); !slices.Equal(got, want) {
		t.Fatalf("order:\n%q\nwant\n%q", got, want)
	}
	for _, sc := range order {
		switch {
		case sc.name == "hot reads" && sc.beside != `  (a), around "hot reads"`:
			t.Errorf("hot reads: beside %q", sc.beside)
		case sc.name == "list" && sc.beside != "":
			t.Errorf("list: beside %q, want the ceiling at the start", sc.beside)
		case strings.Contains(sc.name, "around") && sc.duration != 5*time.Second:
			t.Errorf("%s: %s, want half the scenario's", sc.name, sc.duration)
		}
	}
	// A ceiling run around a scenario draws the scenario's requests, so the client's work per
	// request is the same on both sides of the ratio.
	for i, sc := range order {
		if !strings.Contains(sc.name, "around") {
			continue
		}
		s := order[i+1]
		if sc.again {
			s = order[i-1]
		}
		if !slices.Equal(sc.paths, s.paths) || sc.mode != s.mode {
			t.Errorf("%s draws %q %s, want %s's %q %s", sc.name, sc.paths, sc.mode, s.name, s.paths, s.mode)
		}
	}
	if order[0].mode != "uniform" || len(order[0].paths) != 1 {
		t.Errorf("the ceiling at the start changed: %q %s", order[0].paths, order[0].mode)
	}
	// The first ceiling run around a cached scenario warms that scenario's cache; the second
	// does not, and the scenario itself is not warmed again after the ceiling.
	if w := order[5].warms; w == nil || w.name != "hot reads" || order[7].warms != nil || order[2].warms != nil {
		t.Errorf("warms: %v, %v, %v", order[5].warms, order[7].warms, order[2].warms)
	}
	if needsWarmUp(order[6], order[5].warms.name) {
		t.Error("hot reads would be warmed again after the ceiling run that warmed it")
	}

	before := func(sc wrkScenario) wrkScenario { sc.base = nil; return sc }
	order = wrkOrder(ceilings, service, []string{"hot"}, 10*time.Second, before)
	want = []string{"ceiling-a fixed body", "ceiling-b pk select, uniform",
		`  (a), around "hot reads"`, "hot reads", "  before: hot reads", "  before: hot reads (again)", "hot reads (again)", `  (a), around "hot reads" (again)`}
	if got := names(order); !slices.Equal(got, want) {
		t.Fatalf("order with a build before:\n%q\nwant\n%q", got, want)
	}
	if order[4].beside != order[2].name || order[4].target != nil {
		t.Errorf("before: beside %q, target set %v: want the same ceiling runs, no target", order[4].beside, order[4].target != nil)
	}
}

// TestCompareWrk: a ratio is to the ceiling run around the scenario when there is one, else to
// the ceiling at the start, and a target reads the results as compared.
func TestCompareWrk(t *testing.T) {
	scenarios := map[string]wrkScenario{
		"ceiling-a fixed body": {name: "ceiling-a fixed body"},
		`  (a), around "hot"`:  {name: `  (a), around "hot"`},
		"hot":                  {name: "hot", ceiling: "ceiling-a fixed body", beside: `  (a), around "hot"`, target: func(r WrkResult, _ []WrkResult) string { return fmt.Sprintf("%.2f", r.Ratio) }},
		"other":                {name: "other", ceiling: "ceiling-a fixed body"},
	}
	results := compareWrk([]WrkResult{
		{Name: "ceiling-a fixed body", RPS: 50_000},
		{Name: "hot", RPS: 30_000, Note: "hits 100%"},
		{Name: "other", RPS: 10_000},
		{Name: `  (a), around "hot"`, RPS: 40_000},
	}, scenarios)
	if r := results[1]; r.Ratio != 0.75 || r.Ceiling != "(a)" || r.Target != "0.75" || r.Note != aroundNote+"; hits 100%" {
		t.Errorf("hot: %+v: want 0.75 of the ceiling run around it", r)
	}
	if r := results[2]; r.Ratio != 0.2 || strings.Contains(r.Note, aroundNote) {
		t.Errorf("other: %+v: want 0.2 of the ceiling at the start", r)
	}
	if r := results[0]; r.Ceiling != "" || r.Ratio != 0 {
		t.Errorf("the ceiling: %+v", r)
	}
}

// TestWrkScenarioFilter: -scenarios as typed selects the scenarios whose names it begins, and a
// name holding ", " can be given whole.
func TestWrkScenarioFilter(t *testing.T) {
	for _, c := range []struct {
		name, flag string
		want       bool
	}{
		{"get-by-id uniform, no cache", "", true},
		{"get-by-id uniform, no cache", "get-by-id uniform", true},
		{"get-by-id uniform, cache", "get-by-id uniform, no", false},
		{"get-by-id uniform, no cache", "get-by-id uniform, no", true},
		{"get-by-id uniform, no cache", "list,get-by-id uniform, no cache", true},
		{"list deep pages (cursor)", "get-by-id,list", true},
		{"list deep pages (cursor)", " get-by-id,list ", true},
		{"list deep pages (cursor)", "get-by-id, list", false}, // one prefix, which unselected reports
		{"search, one common word", "get-by-id,list", false},
		{"hot reads zipf s=1.1, cache", "get", false},
		{"hot reads zipf s=1.1, cache", ",,", true}, // no prefix: all
	} {
		if got := Selected(ParseScenarios(c.flag), c.name); got != c.want {
			t.Errorf("-scenarios %q (%q) selects %q: %v, want %v", c.flag, ParseScenarios(c.flag), c.name, got, c.want)
		}
	}
}

// TestUnmatched: a prefix that selects no scenario is reported, so a typo or a separator with a
// space after it is an error, not a run of fewer scenarios than asked.
func TestUnmatched(t *testing.T) {
	// The bench's own list, as RunWrk checks it before seeding anything.
	service := WrkNames()
	if len(service) != 6 {
		t.Fatalf("%d service scenarios", len(service))
	}
	for flag, want := range map[string][]string{
		"":                            nil,
		"get,list,hot,search":         nil,
		"get-by-id uniform, no cache": nil,
		"get-by-id, list":             {"get-by-id, list"},
		"list,ceiling":                {"ceiling"}, // the ceilings always run; they are not chosen
	} {
		if got := unmatched(ParseScenarios(flag), service); !slices.Equal(got, want) {
			t.Errorf("-scenarios %q: unmatched %q, want %q", flag, got, want)
		}
	}
}

// TestSuiteNames: the in-process suite's names, with and without the faults, are what RunSuite
// and RunFaults select from, so a prefix CheckSelection accepts runs something.
func TestSuiteNames(t *testing.T) {
	for _, store := range []string{"postgres", "sqlite"} {
		names := SuiteNames(store, false)
		withFaults := SuiteNames(store, true)
		if len(names) < 10 || len(withFaults) != len(names)+4 {
			t.Fatalf("%s: %d names, %d with the faults", store, len(names), len(withFaults))
		}
		if err := CheckSelection(ParseScenarios("fault"), names); err == nil {
			t.Errorf("%s: \"fault\" accepted without the faults", store)
		}
		if err := CheckSelection(ParseScenarios("fault,get-by-id"), withFaults); err != nil {
			t.Errorf("%s: %v", store, err)
		}
		err := CheckSelection(ParseScenarios("get-by-id,nosuch, thing"), withFaults)
		if err == nil || !strings.Contains(err.Error(), `"nosuch, thing"`) || !strings.Contains(err.Error(), strconv.Quote(names[0])) {
			t.Errorf("%s: error %v, want the bad prefix and the scenarios named", store, err)
		}
	}
}

// TestNeedsWarmUp: in the order after, before, before, after, both builds' caches are warm when
// measured; the second run of each is warm only if it follows its own first run.
func TestNeedsWarmUp(t *testing.T) {
	after := wrkScenario{name: "hot reads", cached: true}
	before := wrkScenario{name: "  before: hot reads", cached: true}
	before2, after2 := before, after
	before2.again, after2.again = true, true
	direct := wrkScenario{name: "get by id", cached: false}
	for _, c := range []struct {
		sc   wrkScenario
		prev string
		want bool
	}{
		{after, "ceiling-b pk select, uniform", true},
		{before, after.name, true},
		{before2, before.name, false},
		{after2, before.name, true}, // its cache sat idle through both "before" runs
		{after2, after.name, false},
		{direct, "", false},
	} {
		if got := needsWarmUp(c.sc, c.prev); got != c.want {
			t.Errorf("needsWarmUp(%q again=%v, after %q) = %v, want %v", c.sc.name, c.sc.again, c.prev, got, c.want)
		}
	}
}

// primeCache reads every path exactly once, sends what the measured runs send, and reports a
// path the server refuses.
func TestPrimeCache(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("%s: Accept-Encoding %q, want gzip", r.URL.Path, r.Header.Get("Accept-Encoding"))
		}
		if r.URL.Path == "/products/broken" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var paths []string
	for i := range 1000 {
		paths = append(paths, "/products/"+strconv.Itoa(i))
	}
	if err := primeCache(context.Background(), srv.URL, paths, 16); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(paths) {
		t.Errorf("%d paths read, want %d", len(seen), len(paths))
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("%s read %d times, want once", p, n)
		}
	}
	err := primeCache(context.Background(), srv.URL, append(paths[:10:10], "/products/broken"), 4)
	if err == nil || !strings.Contains(err.Error(), "/products/broken") || !strings.Contains(err.Error(), "500") {
		t.Errorf("priming with a refused path: %v, want an error naming it and its status", err)
	}
}
