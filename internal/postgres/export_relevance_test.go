package postgres

import "context"

// WithSearchPlan returns a context in which a search uses the rare plan (fetch every match) or,
// with rare false, the common one (walk the sort order), whatever the statistics say.
func WithSearchPlan(ctx context.Context, rare bool) context.Context {
	return context.WithValue(ctx, searchPlanKey{}, rare)
}
