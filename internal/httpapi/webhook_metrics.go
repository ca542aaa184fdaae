package httpapi

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/catalog/internal/catalog"
)

func newWebhookCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "catalog_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome: delivered, failed, gone (410), refused (destination not allowed at dial time).",
	}, []string{"outcome"})
}

var deliveryOutcomes = []string{catalog.DeliveryDelivered, catalog.DeliveryFailed, catalog.DeliveryGone, catalog.DeliveryRefused}

// WebhookDelivery counts one webhook delivery attempt by its outcome (catalog.Delivery*), in
// Prometheus and, when set, EMF (WebhookDeliveries_<outcome>). An unknown outcome counts as
// failed, so the label set stays closed.
func (m *Metrics) WebhookDelivery(outcome string) {
	if !slices.Contains(deliveryOutcomes, outcome) {
		outcome = catalog.DeliveryFailed
	}
	m.webhooks.WithLabelValues(outcome).Inc()
	if m.EMF != nil {
		m.EMF.mu.Lock()
		m.EMF.webhooks[outcome]++
		m.EMF.mu.Unlock()
	}
}

func newWebhooksDisabledCounter() prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{
		Name: "catalog_webhooks_disabled_total",
		Help: "Webhook subscriptions the delivery worker disabled (failing for a day, 410 Gone, fell behind retention, unreadable secret).",
	})
}

// WebhookDisabled counts a subscription the delivery worker disabled, in Prometheus and, when
// set, EMF (WebhooksDisabled, which the stacks alarm on). The reason is in the log, not a
// label: reasons are free text.
func (m *Metrics) WebhookDisabled(string) {
	m.disabled.Inc()
	if m.EMF != nil {
		m.EMF.mu.Lock()
		m.EMF.disabled++
		m.EMF.mu.Unlock()
	}
}
