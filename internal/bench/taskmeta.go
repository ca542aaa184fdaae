package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/acme/catalog/internal/blueprint"
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
