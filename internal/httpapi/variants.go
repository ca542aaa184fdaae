package httpapi

import (
	"net/http"

	"github.com/acme/catalog/internal/catalog"
)

// readVariant reads the variant the path names ({id}, {variantID}) with the ETag of its product
// (a variant's ETag is its product's, ADR 0012), hiding a non-active product's variants from a
// caller without the read scope behind the very 404 a missing one gets.
//
// The public read goes through the product (popular ones come from the read cache, variants
// included), which says whether it is public. A back-office read takes the variant alone, and
// the product's versions first: read before the variant, a version can only be older than the
// body, so a client holding that tag revalidates and is never left with a stale body after a 304.
func (s *Server) readVariant(r *http.Request) (catalog.Variant, string, error) {
	pid, vid := r.PathValue("id"), r.PathValue("variantID")
	if !canRead(r) {
		p, err := s.store.Product(r.Context(), pid)
		if err == nil {
			err = visible(r, p)
		}
		if err != nil {
			return catalog.Variant{}, "", err
		}
		v, ok := p.Variant(vid)
		if !ok {
			return v, "", catalog.ErrVariantNotFound
		}
		v.ProductVersion = p.Version
		return v, etag(p), nil
	}
	_, sv, err := s.store.ProductVersions(r.Context(), pid)
	if err != nil {
		return catalog.Variant{}, "", err
	}
	v, err := s.store.Variant(r.Context(), pid, vid)
	if err != nil {
		return v, "", err
	}
	return v, etagOf(v.ProductVersion, sv), nil
}

// ownedVariant checks that the path's variant belongs to the path's product before a stock or
// price method, which names the variant only, acts on it: /products/A/variants/<B's variant>
// is a 404, never a write to B.
func (s *Server) ownedVariant(r *http.Request) (string, error) {
	v, err := s.store.Variant(r.Context(), r.PathValue("id"), r.PathValue("variantID"))
	return v.ID, err
}

// writeVariantWrite answers a write to a variant with body and the ETag of the product the
// write left: its version from the answer, its stock version read after it.
func (s *Server) writeVariantWrite(w http.ResponseWriter, r *http.Request, status int, v catalog.Variant, body any) {
	if _, sv, err := s.store.ProductVersions(r.Context(), v.ProductID); err == nil {
		w.Header().Set("ETag", etagOf(v.ProductVersion, sv))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// variantViews is the body of GET /products/{id}/variants with fields=.
type variantViews struct {
	Items []variantView `json:"items"`
}

// variantList is the body of GET /products/{id}/variants.
type variantList struct {
	Items []catalog.Variant `json:"items"`
}

func (s *Server) listVariants(w http.ResponseWriter, r *http.Request) {
	sel, err := fieldsOf(r, variantFields)
	if err != nil {
		writeError(w, r, err)
		return
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
		views := make([]variantView, len(p.Variants))
		for i := range p.Variants {
			views[i] = viewVariant(&p.Variants[i], sel.set)
		}
		writeTagged(w, r, http.StatusOK, sel.qualify(etag(p)), variantViews{Items: views})
		return
	}
	body := variantList{Items: p.Variants}
	if body.Items == nil {
		body.Items = []catalog.Variant{}
	}
	writeTagged(w, r, http.StatusOK, etag(p), body)
}

func (s *Server) getVariant(w http.ResponseWriter, r *http.Request) {
	sel, err := fieldsOf(r, variantFields)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, tag, err := s.readVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if sel.given {
		writeTagged(w, r, http.StatusOK, sel.qualify(tag), viewVariant(&v, sel.set))
		return
	}
	writeTagged(w, r, http.StatusOK, tag, v)
}

// addVariant adds one variant; the product's other variants are not rewritten. If-Match is
// optional, as on every product write.
func (s *Server) addVariant(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in catalog.VariantInput
	if _, err := s.decodeJSON(w, r, &in, variantSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	in.Normalize()
	v, err := s.store.AddVariant(r.Context(), r.PathValue("id"), in, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/products/"+v.ProductID+"/variants/"+v.ID)
	s.writeVariantWrite(w, r, http.StatusCreated, v, v)
}

// patchVariant merges a JSON Merge Patch into one variant, in one store transaction.
func (s *Server) patchVariant(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	vp, err := s.decodeVariantPatch(w, r)
	if err != nil {
		writeDecodeError(w, r, err)
		return
	}
	v, err := s.store.UpdateVariant(r.Context(), r.PathValue("id"), r.PathValue("variantID"), vp, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeVariantWrite(w, r, http.StatusOK, v, v)
}

func (s *Server) deleteVariant(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.store.DeleteVariant(r.Context(), r.PathValue("id"), r.PathValue("variantID"), version); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// skuBody is the body of GET /skus/{sku}: the variant, with its product beside it without the
// product's other variants (a scanner or a cart line needs this one, and a 2,000-variant product
// would otherwise answer a megabyte per scan). The product keeps its summary: variant_count,
// price_ranges, availability.
type skuBody struct {
	catalog.Variant
	Product catalog.Product `json:"product"`
}

func (s *Server) getVariantBySKU(w http.ResponseWriter, r *http.Request) {
	sku := r.PathValue("sku")
	sel, err := fieldsOf(r, skuFields)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !catalog.ValidSKU(sku) {
		writeError(w, r, catalog.InvalidField("sku", "must be 3-64 letters, digits, '.', '-' or '_', starting and ending with a letter or digit"))
		return
	}
	p, v, err := s.store.VariantBySKU(r.Context(), sku)
	if err == nil && visible(r, p) != nil {
		err = catalog.ErrVariantNotFound // what an unknown SKU answers
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	p.Variants = nil
	v.ProductVersion = p.Version
	if sel.given {
		body := viewVariant(&v, sel.set)
		if sel.set&vfProduct != 0 {
			body.Product = &p
		}
		writeTagged(w, r, http.StatusOK, sel.qualify(etag(p)), body)
		return
	}
	writeTagged(w, r, http.StatusOK, etag(p), skuBody{Variant: v, Product: p})
}
