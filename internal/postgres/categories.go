package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

const categoryColumns = `slug, name, COALESCE(parent, ''), created_at, updated_at, version`

func scanCategory(row pgx.Row) (catalog.Category, error) {
	var c catalog.Category
	err := row.Scan(&c.Slug, &c.Name, &c.Parent, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func categoryNotFound(slug string) error {
	return catalog.Errorf(catalog.CodeNotFound, "category %q not found", slug)
}

// treeLock serialises changes to the category tree, so two concurrent moves cannot together
// make a cycle that neither would make alone.
const treeLock int64 = 0x63617465676f7279 // "category"

// lockTree takes the tree lock for the transaction and loads the tree as child -> parent.
func lockTree(ctx context.Context, tx pgx.Tx) (map[string]string, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, treeLock); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT slug, COALESCE(parent, '') FROM categories`)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string)
	var slug, parent string
	_, err = pgx.ForEachRow(rows, []any{&slug, &parent}, func() error {
		m[slug] = parent
		return nil
	})
	return m, err
}

// CreateCategory adds a category under an existing parent, or as a root.
func (s *Store) CreateCategory(ctx context.Context, in catalog.CategoryInput) (catalog.Category, error) {
	var c catalog.Category
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tree, err := lockTree(ctx, tx)
		if err != nil {
			return err
		}
		if _, exists := tree[in.Slug]; exists {
			return catalog.Errorf(catalog.CodeConflict, "category %q already exists", in.Slug)
		}
		if err := catalog.CheckPlacement(tree, in.Slug, in.Parent); err != nil {
			return err
		}
		now := s.clock.Now()
		c, err = scanCategory(tx.QueryRow(ctx, `INSERT INTO categories (slug, name, parent, version, created_at, updated_at)
			VALUES ($1, $2, $3, `+nextVersion("categories/", "$1")+`, $4, $4) RETURNING `+categoryColumns, in.Slug, in.Name, nullable(in.Parent), now))
		return s.emitAfter(ctx, tx, err, catalog.EventCategoryCreated, c)
	})
	return c, err
}

// Category returns one category.
func (s *Store) Category(ctx context.Context, slug string) (catalog.Category, error) {
	var c catalog.Category
	err := s.read(ctx, func(conn *pgxpool.Conn) (err error) {
		c, err = scanCategory(conn.QueryRow(ctx, `SELECT `+categoryColumns+` FROM categories WHERE slug = $1`, slug))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, categoryNotFound(slug)
	}
	return c, storeError(ctx, err)
}

// Categories returns the tree in tree order.
func (s *Store) Categories(ctx context.Context) ([]catalog.Category, error) {
	var cats []catalog.Category
	err := s.read(ctx, func(conn *pgxpool.Conn) error {
		rows, err := conn.Query(ctx, `SELECT `+categoryColumns+` FROM categories`)
		if err != nil {
			return err
		}
		cats, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Category, error) { return scanCategory(r) })
		return err
	})
	if err != nil {
		return nil, storeError(ctx, err)
	}
	return catalog.TreeOrder(cats), nil
}

// UpdateCategory renames and/or moves a category, refusing moves that would make a cycle.
func (s *Store) UpdateCategory(ctx context.Context, slug string, patch catalog.CategoryPatch) (catalog.Category, error) {
	var c catalog.Category
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tree, err := lockTree(ctx, tx)
		if err != nil {
			return err
		}
		if _, ok := tree[slug]; !ok {
			return categoryNotFound(slug)
		}
		parent := tree[slug]
		if patch.Parent != nil {
			if err := catalog.CheckPlacement(tree, slug, *patch.Parent); err != nil {
				return err
			}
			parent = *patch.Parent
		}
		c, err = scanCategory(tx.QueryRow(ctx, `UPDATE categories SET name = COALESCE($2, name), parent = $3, updated_at = $4, version = version + 1
			WHERE slug = $1 RETURNING `+categoryColumns, slug, patch.Name, nullable(parent), s.clock.Now()))
		return s.emitAfter(ctx, tx, err, catalog.EventCategoryUpdated, c)
	})
	return c, err
}

// DeleteCategory removes an empty leaf category.
func (s *Store) DeleteCategory(ctx context.Context, slug string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tree, err := lockTree(ctx, tx)
		if err != nil {
			return err
		}
		if _, ok := tree[slug]; !ok {
			return categoryNotFound(slug)
		}
		children := 0
		for _, p := range tree {
			if p == slug {
				children++
			}
		}
		if children > 0 {
			return catalog.Errorf(catalog.CodeConflict, "category %q has %d sub-categories: move or delete them first", slug, children)
		}
		var products int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM products WHERE category = $1`, slug).Scan(&products); err != nil {
			return err
		}
		if products > 0 {
			return catalog.Errorf(catalog.CodeConflict, "category %q has %d products: move or delete them first", slug, products)
		}
		var version int64
		err = tx.QueryRow(ctx, `DELETE FROM categories WHERE slug = $1 RETURNING version`, slug).Scan(&version)
		if sqlState(err) == foreignKeyViolation { // a product arrived after the count
			return catalog.Wrap(catalog.CodeConflict, err, "category "+slug+" has products: move or delete them first")
		}
		return s.emitDeleted(ctx, tx, err, catalog.EventCategoryDeleted, catalog.Deleted{Subject: "categories/" + slug, Version: version + 1})
	})
}
