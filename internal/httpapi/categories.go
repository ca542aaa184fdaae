package httpapi

import (
	"net/http"

	"github.com/acme/catalog/internal/catalog"
)

const categoryCacheControl = "public, max-age=60"

type categoryList struct {
	Items []catalog.Category `json:"items"`
}

func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) {
	cats, err := s.store.Categories(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cats == nil {
		cats = []catalog.Category{}
	}
	w.Header().Set("Cache-Control", categoryCacheControl)
	writeJSON(w, http.StatusOK, categoryList{Items: cats})
}

func (s *Server) getCategory(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.Category(r.Context(), r.PathValue("slug"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", categoryCacheControl)
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) createCategory(w http.ResponseWriter, r *http.Request) {
	var in catalog.CategoryInput
	if _, err := s.decodeJSON(w, r, &in, plainSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.store.CreateCategory(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/categories/"+c.Slug)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) updateCategory(w http.ResponseWriter, r *http.Request) {
	patch, err := s.decodeCategoryPatch(w, r)
	if err != nil {
		writeDecodeError(w, r, err)
		return
	}
	patch.Normalize()
	if err := patch.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.store.UpdateCategory(r.Context(), r.PathValue("slug"), patch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteCategory(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteCategory(r.Context(), r.PathValue("slug")); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
