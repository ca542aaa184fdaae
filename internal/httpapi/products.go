package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
)

// Cache lifetimes for public reads. Short, because stock changes quickly during a sale; long
// enough that a CDN or app cache absorbs bursts. Clients revalidate with If-None-Match.
const (
	productCacheControl = "public, max-age=5, stale-while-revalidate=30"
	listCacheControl    = "public, max-age=5"
)

// etag identifies a product representation: its version and its stock version (which moves
// with any variant's stock), since both are in the body.
func etag(p catalog.Product) string { return etagOf(p.Version, p.StockVersion) }

func etagOf(version, stockVersion int64) string {
	return fmt.Sprintf(`"%d.%d"`, version, stockVersion)
}

// ifMatchVersion reads the product version an If-Match header asks for. It compares only the
// product version, so a stock movement between read and write does not fail an edit of the
// description. "*" and a missing header mean any version (0).
func ifMatchVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	if strings.Contains(h, ",") {
		return 0, catalog.InvalidField("If-Match", "must hold one ETag")
	}
	if strings.HasPrefix(h, "W/") {
		return 0, catalog.InvalidField("If-Match", "must be a strong ETag from a product response")
	}
	tag := strings.Trim(h, `"`)
	v, _, _ := strings.Cut(tag, ".")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, catalog.InvalidField("If-Match", "must be an ETag from a product response, like \"3.1\"")
	}
	return n, nil
}

// notModified reports whether an If-None-Match header matches tag (weak comparison, lists and
// "*" allowed, as RFC 9110 says), and the entity tag the 304 must carry: the one the client
// holds. A compressed response's tag carries the coding ("3.1-gzip", see compressed), and a
// client revalidating it must get its 304 too, naming the tag it stored, or a cache could not
// freshen the stored response (RFC 9111, 4.3.4).
func notModified(r *http.Request, tag string) (string, bool) {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return "", false
	}
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" {
			return tag, true
		}
		if part == tag {
			return part, true
		}
		for _, suffix := range etagCodings {
			if part == strings.TrimSuffix(tag, `"`)+suffix+`"` {
				return part, true
			}
		}
	}
	return "", false
}

// writeProduct answers with a product, its ETag, and 304 when the client already has it.
func writeProduct(w http.ResponseWriter, r *http.Request, status int, p catalog.Product) {
	writeTagged(w, r, status, etag(p), p)
}

// writeTagged answers with body and its ETag, and 304 when the client already has it.
func writeTagged(w http.ResponseWriter, r *http.Request, status int, tag string, body any) {
	w.Header().Set("ETag", tag)
	// HEAD answers as GET without the body (RFC 9110, 9.3.2): the same caching headers.
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		w.Header().Set("Cache-Control", productCacheControl)
		if held, ok := notModified(r, tag); ok {
			w.Header().Set("ETag", held)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, status, body)
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) {
	sel, err := fieldsOf(r, productFields)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// A product in full from a store that keeps encoded answers (internal/readcache): the
	// bytes a previous read made (ADR 0025).
	memo, held := s.store.(memoStore)
	held = held && !sel.given
	if held && writeHeld(w, r, memo, r.PathValue("id")) {
		return
	}
	// A revalidation that ends in 304 needs only the versions, not the row; but the versions
	// do not say whether the product is public, so only a caller who may see drafts takes the
	// shortcut (popular public products come from the read cache anyway).
	if canRead(r) && r.Header.Get("If-None-Match") != "" {
		v, sv, err := s.store.ProductVersions(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		if held, ok := notModified(r, sel.qualify(etagOf(v, sv))); ok {
			w.Header().Set("ETag", held)
			w.Header().Set("Cache-Control", productCacheControl)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	p, err := s.store.Product(r.Context(), r.PathValue("id"))
	if err == nil {
		err = visible(r, p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if sel.given {
		writeTagged(w, r, http.StatusOK, sel.qualify(etag(p)), viewSelection(&p, sel))
		return
	}
	// The read filled the cache: answer with the bytes it keeps for the next reads, so a miss
	// encodes and compresses once, not once now and again for the first hit.
	if held && writeHeld(w, r, memo, r.PathValue("id")) {
		return
	}
	writeProduct(w, r, http.StatusOK, p)
}

// readProductInput decodes, normalises and validates a product body: with its variants to
// create one, without them to replace one (variants have routes of their own).
func (s *Server) readProductInput(w http.ResponseWriter, r *http.Request, create bool) (catalog.ProductInput, bool) {
	var in catalog.ProductInput
	spec := productSpec
	if !create {
		spec = replaceSpec
	}
	shape, err := s.decodeJSON(w, r, &in, spec)
	if err != nil {
		writeDecodeError(w, r, err)
		return in, false
	}
	if present, _ := shape.Present("variants"); present && !create {
		variantsRefused(w, r)
		return in, false
	}
	in.Normalize()
	if create {
		err = in.Validate()
	} else {
		err = in.ValidateReplace()
	}
	if err != nil {
		writeError(w, r, err)
		return in, false
	}
	return in, true
}

// variantsRefused answers a product replace or patch that names variants: 422, since the
// document is well-formed but asks for what this resource does not do. Rewriting every variant
// with the product is what makes a 400-variant shop wait; each has its own route.
func variantsRefused(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusUnprocessableEntity, errorDetail{Code: string(catalog.CodeInvalid),
		Message: "variants are not replaced with their product: add, change or remove them one by one",
		Fields: []catalog.FieldError{{Field: "variants", Problem: "is not accepted here: use POST /products/{id}/variants, " +
			"PATCH or DELETE /products/{id}/variants/{variantID}"}}})
}

func writeDecodeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errTooLarge):
		problem(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes))
	case errors.Is(err, errMediaType):
		problem(w, r, http.StatusUnsupportedMediaType, codeMediaType, "send the body as Content-Type: application/json (UTF-8; application/merge-patch+json also for PATCH)")
	case errors.Is(err, errBodyTimeout):
		// The rest of the body may still arrive; the connection cannot be reused.
		w.Header().Set("Connection", "close")
		problem(w, r, http.StatusRequestTimeout, codeTimeout, "the request body did not arrive in time; send it without pauses")
	default:
		writeError(w, r, err)
	}
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readProductInput(w, r, true)
	if !ok {
		return
	}
	p, err := s.store.CreateProduct(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/products/"+p.ID)
	writeProduct(w, r, http.StatusCreated, p)
}

func (s *Server) replaceProduct(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	in, ok := s.readProductInput(w, r, false)
	if !ok {
		return
	}
	p, err := s.store.ReplaceProduct(r.Context(), r.PathValue("id"), in, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeProduct(w, r, http.StatusOK, p)
}

// patchProduct merges a JSON Merge Patch into the product inside one store transaction, so a
// patch without If-Match always applies (or fails validation) however many patch the product at
// once, and one with If-Match is compared with the version the merge starts from.
func (s *Server) patchProduct(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	pp, err := s.decodeProductPatch(w, r)
	if errors.Is(err, errVariantsInPatch) {
		variantsRefused(w, r)
		return
	}
	if err != nil {
		writeDecodeError(w, r, err)
		return
	}
	p, err := s.store.PatchProduct(r.Context(), r.PathValue("id"), pp, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeProduct(w, r, http.StatusOK, p)
}

func (s *Server) archiveProduct(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.store.SetProductStatus(r.Context(), r.PathValue("id"), catalog.StatusArchived, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeProduct(w, r, http.StatusOK, p)
}

func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.store.DeleteProduct(r.Context(), r.PathValue("id"), version); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// parseFacets reads the facets= of a list query; it runs before the list, so a bad facet costs
// no query.
func (s *Server) parseFacets(r *http.Request, v url.Values, q catalog.ListQuery) (catalog.FacetRequest, error) {
	return catalog.ParseFacets(v.Get("facets"), q.Filter.Currency, func(key string) (catalog.AttributeDefinition, error) {
		return s.store.Attribute(r.Context(), key)
	})
}

// countFacets counts what req asks for; without facets= it costs nothing, so a plain list's
// cost does not change.
func (s *Server) countFacets(r *http.Request, q catalog.ListQuery, req catalog.FacetRequest) ([]catalog.Facet, error) {
	if len(req.Facets) == 0 {
		return nil, nil
	}
	return s.store.Facets(r.Context(), q, req)
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) {
	v, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeList(w, r, v)
}

// writeList answers a product list (GET /products, a collection's products) for the query
// values v: filters, sort and page, facets and fields.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, v url.Values) {
	q, err := ParseListQuery(v, func(key string) (catalog.AttributeDefinition, error) {
		return s.store.Attribute(r.Context(), key)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Only active products are public; any other status, "all" included, is back-office.
	if !canRead(r) && !slices.Equal(q.Filter.Statuses, []catalog.Status{catalog.StatusActive}) {
		forbidden(w, r, access.Read, "status="+strings.Join(v["status"], ","))
		return
	}
	freq, err := s.parseFacets(r, v, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	sel, err := parseFields(v, listFields)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The store need not read what the items will not show (image needs only the first of media).
	q.Summary = !sel.given || sel.set&(pfDescription|pfMedia) == 0
	page, err := s.store.ListProducts(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	facets, err := s.countFacets(r, q, freq)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeProductPage(w, page, sel, facets)
}
