package postgres

import "github.com/acme/catalog/internal/catalog"

// ListSQL exposes the list query builder to the plan tests.
func ListSQL(q catalog.ListQuery, rare bool) (string, []any) {
	query, args, _, _ := listSQL(q, catalog.SearchTerms(q.Filter.Query), rare)
	return query, args
}
