package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/acme/catalog/internal/catalog"
)

const categoryColumns = `slug, name, COALESCE(parent, ''), created_at, updated_at, version`

func scanCategory(row scanner) (catalog.Category, error) {
	var c catalog.Category
	var created, updated int64
	err := row.Scan(&c.Slug, &c.Name, &c.Parent, &created, &updated, &c.Version)
	c.CreatedAt, c.UpdatedAt = micros(created), micros(updated)
	return c, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func categoryNotFound(slug string) error {
	return catalog.Errorf(catalog.CodeNotFound, "category %q not found", slug)
}

// loadTree loads the tree as child -> parent (PostgreSQL's lockTree also takes a lock; SQLite's
// one writer needs none).
func loadTree(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT slug, COALESCE(parent, '') FROM categories`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := make(map[string]string)
	for rows.Next() {
		var slug, parent string
		if err := rows.Scan(&slug, &parent); err != nil {
			return nil, err
		}
		m[slug] = parent
	}
	return m, rows.Err()
}

// CreateCategory adds a category under an existing parent, or as a root.
func (s *Store) CreateCategory(ctx context.Context, in catalog.CategoryInput) (catalog.Category, error) {
	var c catalog.Category
	err := s.write(ctx, func(tx *sql.Tx) error {
		tree, err := loadTree(ctx, tx)
		if err != nil {
			return err
		}
		if _, exists := tree[in.Slug]; exists {
			return catalog.Errorf(catalog.CodeConflict, "category %q already exists", in.Slug)
		}
		if err := catalog.CheckPlacement(tree, in.Slug, in.Parent); err != nil {
			return err
		}
		now := s.clock.Now().UnixMicro()
		_, err = tx.ExecContext(ctx, `INSERT INTO categories (slug, name, parent, version, created_at, updated_at) VALUES (?, ?, ?, `+nextVersion("categories/")+`, ?, ?)`,
			in.Slug, in.Name, nullable(in.Parent), in.Slug, now, now)
		if err != nil {
			return err
		}
		c, err = scanCategory(tx.QueryRowContext(ctx, `SELECT `+categoryColumns+` FROM categories WHERE slug = ?`, in.Slug))
		return s.emitAfter(ctx, tx, err, catalog.EventCategoryCreated, c)
	})
	return c, err
}

// Category returns one category.
func (s *Store) Category(ctx context.Context, slug string) (catalog.Category, error) {
	c, err := scanCategory(s.r.QueryRowContext(ctx, `SELECT `+categoryColumns+` FROM categories WHERE slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return c, categoryNotFound(slug)
	}
	return c, storeError(ctx, err)
}

// Categories returns the tree in tree order.
func (s *Store) Categories(ctx context.Context) ([]catalog.Category, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+categoryColumns+` FROM categories`)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	defer rows.Close()
	var cats []catalog.Category
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, storeError(ctx, err)
		}
		cats = append(cats, c)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(ctx, err)
	}
	return catalog.TreeOrder(cats), nil
}

// UpdateCategory renames and/or moves a category, refusing moves that would make a cycle.
func (s *Store) UpdateCategory(ctx context.Context, slug string, patch catalog.CategoryPatch) (catalog.Category, error) {
	var c catalog.Category
	err := s.write(ctx, func(tx *sql.Tx) error {
		tree, err := loadTree(ctx, tx)
		if err != nil {
			return err
		}
		if _, ok := tree[slug]; !ok {
			return categoryNotFound(slug)
		}
		now := s.clock.Now().UnixMicro()
		if patch.Parent != nil {
			if err := catalog.CheckPlacement(tree, slug, *patch.Parent); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE categories SET parent = ?, updated_at = ? WHERE slug = ?`, nullable(*patch.Parent), now, slug); err != nil {
				return err
			}
		}
		if patch.Name != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE categories SET name = ?, updated_at = ? WHERE slug = ?`, *patch.Name, now, slug); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE categories SET version = version + 1 WHERE slug = ?`, slug); err != nil {
			return err
		}
		c, err = scanCategory(tx.QueryRowContext(ctx, `SELECT `+categoryColumns+` FROM categories WHERE slug = ?`, slug))
		return s.emitAfter(ctx, tx, err, catalog.EventCategoryUpdated, c)
	})
	return c, err
}

// DeleteCategory removes an empty leaf category.
func (s *Store) DeleteCategory(ctx context.Context, slug string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var exists, children, products int64
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM categories WHERE slug = ?),
			(SELECT count(*) FROM categories WHERE parent = ?),
			(SELECT count(*) FROM products WHERE category = ?)`, slug, slug, slug).Scan(&exists, &children, &products)
		switch {
		case err != nil:
			return err
		case exists == 0:
			return categoryNotFound(slug)
		case children > 0:
			return catalog.Errorf(catalog.CodeConflict, "category %q has %d sub-categories: move or delete them first", slug, children)
		case products > 0:
			return catalog.Errorf(catalog.CodeConflict, "category %q has %d products: move or delete them first", slug, products)
		}
		var version int64
		err = tx.QueryRowContext(ctx, `DELETE FROM categories WHERE slug = ? RETURNING version`, slug).Scan(&version)
		return s.emitDeleted(ctx, tx, err, catalog.EventCategoryDeleted, catalog.Deleted{Subject: "categories/" + slug, Version: version + 1})
	})
}
