package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/acme/catalog/internal/catalog"
)

// collectionCacheControl: a landing page's collection changes rarely but should show a change
// within a minute; its product list is cached as any product list (listCacheControl).
const collectionCacheControl = "public, max-age=30"

// membershipSpec bounds a membership body while tokenising: product_ids may hold
// MaxMembershipWrite IDs, more than the general array limit, and 1,000 UUIDs are about 40 KB,
// well within MaxBodyBytes and the body budget.
var membershipSpec = bodySpec{
	required: []string{"/product_ids"},
	maxItems: map[string]int{"/product_ids": catalog.MaxMembershipWrite},
}

// membership is the body of PUT and POST /collections/{slug}/products.
type membership struct {
	ProductIDs []string `json:"product_ids"`
	// Position (POST only) is the index the products are inserted at; absent or null: the end.
	Position *int `json:"position,omitempty"`
}

type collectionList struct {
	Items []catalog.Collection `json:"items"`
}

func collectionETag(c catalog.Collection) string { return fmt.Sprintf(`"%d"`, c.Version) }

// collectionIfMatch reads the collection version an If-Match header asks for: a collection's
// ETag ("4"), or "*" or nothing for any version (0). A product's ETag ("3.1") is refused, so a
// client mixing them up hears so instead of getting a 412 it cannot explain.
func collectionIfMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	bad := catalog.InvalidField("If-Match", "must be one strong ETag from a collection response, like \"4\"")
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, bad
	}
	n, err := strconv.ParseInt(h[1:len(h)-1], 10, 64)
	if err != nil || n < 1 {
		return 0, bad
	}
	return n, nil
}

// writeCollection answers with a collection and its ETag, and 304 when the client has it.
func writeCollection(w http.ResponseWriter, r *http.Request, status int, c catalog.Collection) {
	tag := collectionETag(c)
	w.Header().Set("ETag", tag)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		w.Header().Set("Cache-Control", collectionCacheControl)
		if held, ok := notModified(r, tag); ok {
			w.Header().Set("ETag", held)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, status, c)
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	cs, err := s.store.Collections(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cs == nil {
		cs = []catalog.Collection{}
	}
	w.Header().Set("Cache-Control", collectionCacheControl)
	writeJSON(w, http.StatusOK, collectionList{Items: cs})
}

func (s *Server) getCollection(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.Collection(r.Context(), r.PathValue("slug"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCollection(w, r, http.StatusOK, c)
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	var in catalog.CollectionInput
	if _, err := s.decodeJSON(w, r, &in, plainSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.store.CreateCollection(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/collections/"+c.Slug)
	writeCollection(w, r, http.StatusCreated, c)
}

// updateCollection applies a JSON Merge Patch: "name" may not be null, "description": null
// empties it.
func (s *Server) updateCollection(w http.ResponseWriter, r *http.Request) {
	version, err := collectionIfMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var (
		doc   map[string]jsontext.Value
		patch catalog.CollectionPatch
		p     catalog.Problems
	)
	if _, err := s.decodeJSON(w, r, &doc, patchSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	if doc == nil {
		writeError(w, r, catalog.InvalidField("body", "must be a JSON object (a merge patch)"))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "name":
			patch.Name = requiredString(&p, k, doc[k])
		case "description":
			patch.Description = optionalString(&p, k, doc[k])
		default:
			p.Add(memberField(k), "is not a known field")
		}
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	patch.Normalize()
	if err := patch.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.store.UpdateCollection(r.Context(), r.PathValue("slug"), patch, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCollection(w, r, http.StatusOK, c)
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) {
	version, err := collectionIfMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.store.DeleteCollection(r.Context(), r.PathValue("slug"), version); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// readMembership decodes and checks a membership body; set refuses "position".
func (s *Server) readMembership(w http.ResponseWriter, r *http.Request, set bool) (membership, bool) {
	var m membership
	shape, err := s.decodeJSON(w, r, &m, membershipSpec)
	if err != nil {
		writeDecodeError(w, r, err)
		return m, false
	}
	if present, _ := shape.Present("position"); set && present {
		writeError(w, r, catalog.InvalidField("position", "is not accepted here: the order of product_ids is the order (POST inserts at a position)"))
		return m, false
	}
	if err := catalog.ValidateMembership(m.ProductIDs, m.Position, !set); err != nil {
		writeError(w, r, err)
		return m, false
	}
	return m, true
}

// setCollectionProducts replaces the list (PUT); If-Match guards against overwriting a list
// someone else just changed.
func (s *Server) setCollectionProducts(w http.ResponseWriter, r *http.Request) {
	version, err := collectionIfMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m, ok := s.readMembership(w, r, true)
	if !ok {
		return
	}
	c, err := s.store.SetCollectionProducts(r.Context(), r.PathValue("slug"), m.ProductIDs, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCollection(w, r, http.StatusOK, c)
}

// addToCollection inserts or moves products (POST): concurrent adds all apply.
func (s *Server) addToCollection(w http.ResponseWriter, r *http.Request) {
	m, ok := s.readMembership(w, r, false)
	if !ok {
		return
	}
	c, err := s.store.AddToCollection(r.Context(), r.PathValue("slug"), m.ProductIDs, m.Position)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCollection(w, r, http.StatusOK, c)
}

func (s *Server) removeFromCollection(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.RemoveFromCollection(r.Context(), r.PathValue("slug"), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCollection(w, r, http.StatusOK, c)
}

// listCollectionProducts is GET /products with the collection from the path: every filter,
// sort and page of a product list, sorted by the collection's order unless sort says otherwise,
// and active products only unless the caller may read others.
func (s *Server) listCollectionProducts(w http.ResponseWriter, r *http.Request) {
	v, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, ok := v["collection"]; ok {
		writeError(w, r, catalog.InvalidField("collection", "is not a known query parameter here: the collection is in the path"))
		return
	}
	v.Set("collection", r.PathValue("slug"))
	s.writeList(w, r, v)
}
