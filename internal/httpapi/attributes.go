package httpapi

import (
	"net/http"
	"strconv"

	"github.com/acme/catalog/internal/catalog"
)

// Attribute definitions change rarely and storefronts build filter menus from them.
const attributeCacheControl = "public, max-age=60"

// attributeTag is an attribute definition's ETag: its version ("3"); If-Match takes it back.
func attributeTag(d catalog.AttributeDefinition) string {
	return `"` + strconv.FormatInt(d.Version, 10) + `"`
}

type attributeList struct {
	Items []catalog.AttributeDefinition `json:"items"`
}

func (s *Server) listAttributes(w http.ResponseWriter, r *http.Request) {
	ds, err := s.store.AttributeList(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if ds == nil {
		ds = []catalog.AttributeDefinition{}
	}
	w.Header().Set("Cache-Control", attributeCacheControl)
	writeJSON(w, http.StatusOK, attributeList{Items: ds})
}

func (s *Server) getAttribute(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.Attribute(r.Context(), r.PathValue("key"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", attributeTag(d))
	if held, ok := notModified(r, attributeTag(d)); ok {
		w.Header().Set("ETag", held)
		w.Header().Set("Cache-Control", attributeCacheControl)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Cache-Control", attributeCacheControl)
	writeJSON(w, http.StatusOK, d)
}

// readAttributeInput decodes, normalises and validates a definition. On PUT the key comes from
// the path; a body naming another key is refused (a key cannot change).
func (s *Server) readAttributeInput(w http.ResponseWriter, r *http.Request, spec bodySpec) (catalog.AttributeDefinitionInput, bool) {
	var in catalog.AttributeDefinitionInput
	if _, err := s.decodeJSON(w, r, &in, spec); err != nil {
		writeDecodeError(w, r, err)
		return in, false
	}
	if key := r.PathValue("key"); key != "" {
		if in.Key != "" && in.Key != key {
			writeError(w, r, catalog.InvalidField("key", "cannot change (the path names %s): define a new attribute instead", key))
			return in, false
		}
		in.Key = key
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		writeError(w, r, err)
		return in, false
	}
	return in, true
}

func (s *Server) writeAttribute(w http.ResponseWriter, status int, d catalog.AttributeDefinition) {
	w.Header().Set("ETag", attributeTag(d))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, d)
}

func (s *Server) createAttribute(w http.ResponseWriter, r *http.Request) {
	in, ok := s.readAttributeInput(w, r, attributeSpec)
	if !ok {
		return
	}
	d, err := s.store.CreateAttribute(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/attributes/"+d.Key)
	s.writeAttribute(w, http.StatusCreated, d)
}

func (s *Server) replaceAttribute(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	in, ok := s.readAttributeInput(w, r, attributeReplaceSpec)
	if !ok {
		return
	}
	d, err := s.store.UpdateAttribute(r.Context(), r.PathValue("key"), in, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeAttribute(w, http.StatusOK, d)
}

func (s *Server) deleteAttribute(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.store.DeleteAttribute(r.Context(), r.PathValue("key"), version); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
