package postgres

import "context"

// WithoutOutbox returns a context in which the store records no events (the outbox benchmark's
// baseline).
func WithoutOutbox(ctx context.Context) context.Context {
	return context.WithValue(ctx, noOutbox{}, true)
}
