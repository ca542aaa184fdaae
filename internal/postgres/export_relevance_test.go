package postgres

import "context"

// WithSearchPlan returns a context in which a search uses the rare plan (fetch every match) or,
// with rare false, the common one (walk the sort order), whatever the statistics say; under
// relevance, fetchTiers then fetches the name and name-or-brand tiers through their indexes.
func WithSearchPlan(ctx context.Context, rare, fetchTiers bool) context.Context {
	return context.WithValue(ctx, searchPlanKey{}, forcedPlan{rare: rare, fetchTiers: fetchTiers})
}
