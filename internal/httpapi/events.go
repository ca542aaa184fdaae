package httpapi

import (
	"net/http"

	"github.com/acme/catalog/internal/catalog"
)

// listEvents serves the change feed: GET /events?after=&types=&limit= (scope read). An empty
// page answers next = after, so a consumer polls again with the same cursor.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p catalog.Problems
	for name := range q {
		if name != "after" && name != "types" && name != "limit" {
			p.Add(name, "is not a known query parameter (known: after, types, limit)")
		}
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	eq, err := catalog.ParseEventQuery(q.Get("after"), q.Get("types"), q.Get("limit"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.Events(r.Context(), eq)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, page)
}
