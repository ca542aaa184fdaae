package app

import (
	"context"

	"github.com/acme/catalog/internal/egress"
	"github.com/acme/catalog/internal/hooks"
)

// webhookPolicy is where webhook URLs may point: public addresses over https, and the ranges
// WEBHOOK_ALLOW names, over http too (receivers on a trusted network).
func (a *App) webhookPolicy() egress.Policy {
	return egress.Policy{Allow: a.cfg.WebhookAllow, AllowHTTP: len(a.cfg.WebhookAllow) > 0}
}

// startWebhooks runs this instance's delivery worker until shutdown; the leases keep the
// instances' workers off each other's subscriptions. Deliveries are counted by outcome
// (catalog_webhook_deliveries_total, and WebhookDeliveries_<outcome> in EMF), disabled
// subscriptions too (catalog_webhooks_disabled_total, WebhooksDisabled).
func (a *App) startWebhooks() {
	w := hooks.New(a.front, hooks.Options{
		Client:    a.webhookPolicy().Client(a.cfg.WebhookTimeout),
		Timeout:   a.cfg.WebhookTimeout,
		Lease:     max(hooks.DefaultLease, 3*a.cfg.WebhookTimeout),
		Log:       a.log,
		Delivered: a.metrics.WebhookDelivery,
		Disabled:  a.metrics.WebhookDisabled,
	})
	a.loop(func(ctx context.Context) { w.Run(ctx) })
}
