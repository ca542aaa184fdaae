package httpapi

import (
	"context"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/egress"
	"github.com/acme/catalog/internal/webhook"
)

// WebhookOptions say where webhook URLs may point.
type WebhookOptions struct {
	// Policy admits public addresses and the ranges it allows (WEBHOOK_ALLOW).
	Policy egress.Policy
	// Resolver resolves URL hosts; nil uses the system's.
	Resolver *net.Resolver
}

var webhookSpec = bodySpec{required: []string{"/url"},
	maxItems: map[string]int{"/event_types": len(catalog.EventTypes)}}

// webhookWithSecret is the answer to a create or a rotation: the only time the secret is shown.
type webhookWithSecret struct {
	catalog.Webhook
	Secret string `json:"secret"`
}

// checkWebhookURL refuses a URL the delivery worker would never be allowed to call: a 422
// naming url, so a client learns it now rather than from a delivery log of refusals.
func (s *Server) checkWebhookURL(ctx context.Context, u string) error {
	if err := s.webhooks.Policy.CheckURL(ctx, u, s.webhooks.Resolver); err != nil {
		return &catalog.Error{Code: catalog.CodeUnprocessable, Message: "the webhook URL cannot be called",
			Fields: []catalog.FieldError{{Field: "url", Problem: err.Error()}}}
	}
	return nil
}

// createWebhook serves POST /webhooks: the answer holds the signing secret, shown this once.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in catalog.WebhookInput
	if _, err := s.decodeJSON(w, r, &in, webhookSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.checkWebhookURL(r.Context(), in.URL); err != nil {
		writeError(w, r, err)
		return
	}
	secret := webhook.NewSecret().String()
	h, err := s.store.CreateWebhook(r.Context(), in, secret)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/webhooks/"+h.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, webhookWithSecret{Webhook: h, Secret: secret})
}

// listWebhooks serves GET /webhooks?after=&limit=.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p catalog.Problems
	limit := pageLimit(&p, q, []string{"after", "limit"}, catalog.MaxWebhooks, catalog.MaxWebhooks)
	after := q.Get("after")
	if why := catalog.TextProblem(after, catalog.Identifier); why != "" || len(after) > 100 {
		p.Add("after", "must be the next value of an earlier page")
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.ListWebhooks(r.Context(), after, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, page)
}

// pageLimit checks that q holds only known parameters and reads limit (default def, at most
// max).
func pageLimit(p *catalog.Problems, q map[string][]string, known []string, def, most int) int {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(known, name) {
			p.Add(name, "is not a known query parameter (known: %v)", known)
		}
	}
	limit := def
	if v := q["limit"]; len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > most {
			p.Add("limit", "must be between 1 and %d", most)
		}
		limit = n
	}
	return limit
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	h, err := s.store.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, h)
}

// updateWebhook applies a JSON Merge Patch: url, event_types (null: every type), enabled (true
// re-enables a disabled subscription, retried at once), cursor (where to resume, after a
// re-sync from an export).
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var (
		doc   map[string]jsontext.Value
		patch catalog.WebhookPatch
		p     catalog.Problems
	)
	if _, err := s.decodeJSON(w, r, &doc, bodySpec{mergePatch: true, maxItems: webhookSpec.maxItems}); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	if doc == nil {
		writeError(w, r, catalog.InvalidField("body", "must be a JSON object (a merge patch)"))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		v := doc[k]
		switch k {
		case "url":
			patch.URL = requiredString(&p, k, v)
		case "event_types":
			ts := []string{}
			if !isNull(v) {
				if err := jsonv2.Unmarshal(v, &ts); err != nil || ts == nil {
					p.Add(k, "must be an array of event types, or null for every type")
				}
			}
			patch.EventTypes = &ts
		case "enabled":
			var b bool
			if isNull(v) || jsonv2.Unmarshal(v, &b) != nil {
				p.Add(k, "must be true or false")
			}
			patch.Enabled = &b
		case "cursor":
			var n int64
			if isNull(v) || jsonv2.Unmarshal(v, &n) != nil {
				p.Add(k, "must be the sequence of an event (a non-negative whole number)")
			}
			patch.Cursor = &n
		default:
			p.Add(memberField(k), "is not a known field (known: url, event_types, enabled, cursor)")
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
	if patch.URL != nil {
		if err := s.checkWebhookURL(r.Context(), *patch.URL); err != nil {
			writeError(w, r, err)
			return
		}
	}
	h, err := s.store.UpdateWebhook(r.Context(), r.PathValue("id"), patch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// rotateWebhookSecret serves POST /webhooks/{id}/rotate-secret: a new secret, shown once; the
// old one keeps signing beside it for catalog.WebhookSecretOverlap.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		writeError(w, r, catalog.InvalidField("body", "must be empty"))
		return
	}
	secret := webhook.NewSecret().String()
	h, err := s.store.RotateWebhookSecret(r.Context(), r.PathValue("id"), secret)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, webhookWithSecret{Webhook: h, Secret: secret})
}

// listWebhookDeliveries serves GET /webhooks/{id}/deliveries?before=&limit=, newest first.
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p catalog.Problems
	limit := pageLimit(&p, q, []string{"before", "limit"}, catalog.DefaultDeliveryLimit, catalog.MaxDeliveryLimit)
	var before int64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			p.Add("before", "must be the next value of an earlier page (a positive whole number)")
		}
		before = n
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.WebhookDeliveries(r.Context(), r.PathValue("id"), before, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, page)
}
