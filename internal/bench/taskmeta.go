package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/config"
)

// defaultTask serves the ECS task metadata endpoint (version 4) of a task of the stacks'
// default size, so a served process sizes itself as it would in that task: its read cache
// (an eighth of the memory) and its garbage collector's budget (ADR 0027). The address goes
// in ECS_CONTAINER_METADATA_URI_V4; close the server after the processes stop.
func defaultTask() (*httptest.Server, string) {
	size := blueprint.DefaultTaskSize
	body := fmt.Sprintf(`{"Limits": {"CPU": %g, "Memory": %d}}`, float64(size.CPU)/1024, size.Memory)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/bench/task" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	return srv, srv.URL + "/v4/bench"
}

// asDefaultTask gives this process the garbage collector's budget the service sets itself in
// the stacks' default task (config.GC, ADR 0027), for work the bench runs in its own process
// the way the service runs it (the import job). GOGC and GOMEMLIMIT in the bench's environment
// win, as they do in the service: GOGC=100 measures Go's default. It returns the budget in
// force and a func that restores the one before.
func asDefaultTask() (gcBudget, func(), error) {
	cfg, err := config.Load(func(k string) string {
		if k == "GOGC" || k == "GOMEMLIMIT" {
			return os.Getenv(k)
		}
		return ""
	})
	if err != nil {
		return gcBudget{}, nil, err
	}
	restore := cfg.GC(int64(blueprint.DefaultTaskSize.Memory)).Apply()
	now := config.GCInForce()
	return gcBudget{percent: float64(now.Percent), limit: float64(now.MemoryLimit)}, restore, nil
}
