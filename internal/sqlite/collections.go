package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/acme/catalog/internal/catalog"
)

const collectionColumns = `c.slug, c.name, c.description, c.product_count, c.version, c.created_at, c.updated_at`

func scanCollection(row scanner) (catalog.Collection, error) {
	var c catalog.Collection
	var created, updated int64
	err := row.Scan(&c.Slug, &c.Name, &c.Description, &c.ProductCount, &c.Version, &created, &updated)
	c.CreatedAt, c.UpdatedAt = micros(created), micros(updated)
	return c, err
}

func collectionBySlug(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, slug string) (catalog.Collection, error) {
	c, err := scanCollection(q.QueryRowContext(ctx, `SELECT `+collectionColumns+` FROM collections c WHERE c.slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return c, catalog.CollectionNotFound(slug)
	}
	return c, err
}

// CreateCollection adds an empty collection.
func (s *Store) CreateCollection(ctx context.Context, in catalog.CollectionInput) (catalog.Collection, error) {
	var c catalog.Collection
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM collections`).Scan(&n); err != nil {
			return err
		}
		if n >= catalog.MaxCollections {
			return catalog.Errorf(catalog.CodeConflict, "the catalog has %d collections, the most it may hold: delete one first", n)
		}
		now := s.clock.Now().UnixMicro()
		_, err := tx.ExecContext(ctx, `INSERT INTO collections (slug, name, description, version, created_at, updated_at)
			VALUES (?, ?, ?, `+nextVersion("collections/")+`, ?, ?)`, in.Slug, in.Name, in.Description, in.Slug, now, now)
		if isUnique(err) || resultCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return catalog.Errorf(catalog.CodeConflict, "collection %q already exists", in.Slug)
		}
		if err != nil {
			return err
		}
		c, err = collectionBySlug(ctx, tx, in.Slug)
		return s.emitAfter(ctx, tx, err, catalog.EventCollectionChanged, c)
	})
	return c, err
}

// Collection returns one collection.
func (s *Store) Collection(ctx context.Context, slug string) (catalog.Collection, error) {
	c, err := collectionBySlug(ctx, s.r, slug)
	return c, storeError(ctx, err)
}

// Collections returns every collection by slug.
func (s *Store) Collections(ctx context.Context) ([]catalog.Collection, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+collectionColumns+` FROM collections c ORDER BY c.slug`)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	defer rows.Close()
	out := []catalog.Collection{}
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, storeError(ctx, err)
		}
		out = append(out, c)
	}
	return out, storeError(ctx, rows.Err())
}

// lockedCollection reads the collection a write changes and checks ifVersion. SQLite's one
// writer is the lock.
func lockedCollection(ctx context.Context, tx *sql.Tx, slug string, ifVersion int64) (catalog.Collection, error) {
	c, err := collectionBySlug(ctx, tx, slug)
	if err != nil {
		return c, err
	}
	if ifVersion != 0 && c.Version != ifVersion {
		return c, catalog.StaleCollection(c.Version, ifVersion)
	}
	return c, nil
}

// touchCollection records a change to the collection or its list, which now holds count
// products, and returns the collection as it now is.
func (s *Store) touchCollection(ctx context.Context, tx *sql.Tx, slug string, count int) (catalog.Collection, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE collections SET version = version + 1, product_count = ?, updated_at = ? WHERE slug = ?`,
		count, s.clock.Now().UnixMicro(), slug); err != nil {
		return catalog.Collection{}, err
	}
	c, err := collectionBySlug(ctx, tx, slug)
	return c, s.emitAfter(ctx, tx, err, catalog.EventCollectionChanged, c)
}

// UpdateCollection changes the name or description.
func (s *Store) UpdateCollection(ctx context.Context, slug string, patch catalog.CollectionPatch, ifVersion int64) (catalog.Collection, error) {
	var c catalog.Collection
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, ifVersion)
		if err != nil {
			return err
		}
		next, changed := patch.Apply(cur)
		if !changed {
			c = cur
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET name = ?, description = ? WHERE slug = ?`,
			next.Name, next.Description, slug); err != nil {
			return err
		}
		c, err = s.touchCollection(ctx, tx, slug, int(cur.ProductCount))
		return err
	})
	return c, err
}

// DeleteCollection removes the collection; its list goes with it (ON DELETE CASCADE).
func (s *Store) DeleteCollection(ctx context.Context, slug string, ifVersion int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, ifVersion)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM collections WHERE slug = ?`, slug)
		return s.emitDeleted(ctx, tx, err, catalog.EventCollectionDeleted, catalog.Deleted{Subject: "collections/" + slug, Version: cur.Version + 1})
	})
}

// knownProducts refuses ids naming products that do not exist.
func knownProducts(ctx context.Context, tx *sql.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM products WHERE id IN (SELECT value FROM json_each(?))`, encodeJSON(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	known := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		known[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(known) == len(ids) {
		return nil
	}
	return catalog.UnknownProducts(ids, known)
}

// memberIDs returns the collection's product IDs in order.
func memberIDs(ctx context.Context, tx *sql.Tx, slug string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT product_id FROM collection_products WHERE collection = ? ORDER BY position, product_id`, slug)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// insertMembers writes ids at the given keys.
func insertMembers(ctx context.Context, tx *sql.Tx, slug string, ids []string, keys []int64) error {
	st, err := tx.PrepareContext(ctx, `INSERT INTO collection_products (collection, product_id, position) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, id := range ids {
		if _, err := st.ExecContext(ctx, slug, id, keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// rewriteMembers replaces the whole list with ids, renumbered.
func rewriteMembers(ctx context.Context, tx *sql.Tx, slug string, ids []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM collection_products WHERE collection = ?`, slug); err != nil {
		return err
	}
	return insertMembers(ctx, tx, slug, ids, catalog.RenumberedKeys(len(ids)))
}

// SetCollectionProducts replaces the list. A list equal to the current one writes nothing.
func (s *Store) SetCollectionProducts(ctx context.Context, slug string, ids []string, ifVersion int64) (catalog.Collection, error) {
	if err := catalog.ValidateMembership(ids, nil, false); err != nil {
		return catalog.Collection{}, err
	}
	var c catalog.Collection
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, ifVersion)
		if err != nil {
			return err
		}
		if err := knownProducts(ctx, tx, ids); err != nil {
			return err
		}
		have, err := memberIDs(ctx, tx, slug)
		if err != nil {
			return err
		}
		if slices.Equal(have, ids) {
			c = cur
			return nil
		}
		if err := rewriteMembers(ctx, tx, slug, ids); err != nil {
			return err
		}
		c, err = s.touchCollection(ctx, tx, slug, len(ids))
		return err
	})
	return c, err
}

// AddToCollection inserts or moves ids before the product at index *position. Only the rows of
// ids are written unless the gap between their new neighbours is used up (see
// catalog.PositionKeys).
func (s *Store) AddToCollection(ctx context.Context, slug string, ids []string, position *int) (catalog.Collection, error) {
	if err := catalog.ValidateMembership(ids, position, true); err != nil {
		return catalog.Collection{}, err
	}
	var c catalog.Collection
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, 0)
		if err != nil {
			return err
		}
		if err := knownProducts(ctx, tx, ids); err != nil {
			return err
		}
		// The moved products leave their places first, so position counts the others.
		res, err := tx.ExecContext(ctx, `DELETE FROM collection_products WHERE collection = ? AND product_id IN (SELECT value FROM json_each(?))`,
			slug, encodeJSON(ids))
		if err != nil {
			return err
		}
		moved, err := res.RowsAffected()
		if err != nil {
			return err
		}
		count := int(cur.ProductCount - moved)
		if count+len(ids) > catalog.MaxCollectionProducts {
			return catalog.CollectionTooLarge(slug, count, len(ids))
		}
		at := count
		if position != nil && *position < count {
			at = *position
		}
		lo, hasLo, hi, hasHi, err := neighbours(ctx, tx, slug, at, count)
		if err != nil {
			return err
		}
		if keys, ok := catalog.PositionKeys(lo, hasLo, hi, hasHi, len(ids)); ok {
			err = insertMembers(ctx, tx, slug, ids, keys)
		} else {
			var all []string
			if all, err = memberIDs(ctx, tx, slug); err == nil {
				err = rewriteMembers(ctx, tx, slug, slices.Insert(all, at, ids...))
			}
		}
		if err != nil {
			return err
		}
		c, err = s.touchCollection(ctx, tx, slug, count+len(ids))
		return err
	})
	return c, err
}

// neighbours returns the keys around index at of a list of count: lo of the product before it
// (hasLo false at the front), hi of the product now at it (hasHi false at the end). It reads at
// most two rows through the (collection, position) index.
func neighbours(ctx context.Context, tx *sql.Tx, slug string, at, count int) (lo int64, hasLo bool, hi int64, hasHi bool, err error) {
	if count == 0 {
		return 0, false, 0, false, nil
	}
	if at == count {
		err = tx.QueryRowContext(ctx, `SELECT max(position) FROM collection_products WHERE collection = ?`, slug).Scan(&lo)
		return lo, true, 0, false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT position FROM collection_products WHERE collection = ?
		ORDER BY position, product_id LIMIT ? OFFSET ?`, slug, min(at, 1)+1, max(at-1, 0))
	if err != nil {
		return 0, false, 0, false, err
	}
	defer rows.Close()
	var keys []int64
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return 0, false, 0, false, err
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return 0, false, 0, false, err
	}
	if at == 0 {
		return 0, false, keys[0], true, nil
	}
	return keys[0], true, keys[1], true, nil
}

// RemoveFromCollection takes one product out of the collection.
func (s *Store) RemoveFromCollection(ctx context.Context, slug, id string) (catalog.Collection, error) {
	var c catalog.Collection
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, 0)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM collection_products WHERE collection = ? AND product_id = ?`, slug, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return catalog.Errorf(catalog.CodeNotFound, "product %s is not in collection %q", id, slug)
		}
		c, err = s.touchCollection(ctx, tx, slug, int(cur.ProductCount)-1)
		return err
	})
	return c, err
}

// listCollection lists the members of q.Filter.Collection: the membership index drives the
// scan (a collection holds at most catalog.MaxCollectionProducts), every other filter of a
// product list applies, and SortPosition pages by (position, id).
func (s *Store) listCollection(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	var page catalog.ProductPage
	if p, ok := q.EmptySearch(); ok {
		return p, s.collectionListExists(ctx, q.Filter)
	}
	ffrom, fwhere, fargs := filterSQL(q.Filter, catalog.SearchTerms(q.Filter.Query))
	// Arguments in the order their marks appear: the subtree's, the filters' (the currency's
	// join first), the collection's.
	var args []any
	with := ""
	if q.Filter.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ?
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		args = append(args, q.Filter.Category)
	}
	where := append(fwhere, "cp.collection = ?")
	args = append(append(args, fargs...), q.Filter.Collection)
	from := ffrom + ` JOIN collection_products cp ON cp.product_id = p.id`

	// The tie-breaker is the membership's own column in position order, so the index
	// (collection, position, product_id) serves the whole ORDER BY and the scan stops at the page.
	col, id, dir, cmp := "cp.position", "cp.product_id", "ASC", ">"
	if q.Sort != catalog.SortPosition {
		col, dir, cmp = orderOf(q.Sort)
		id = "p.id"
	}
	pageWhere, pageArgs := where, append([]any(nil), args...)
	if c := q.After; c != nil {
		key := any(c.Position)
		if q.Sort != catalog.SortPosition {
			key = cursorKey(c)
		}
		pageWhere = append(pageWhere[:len(pageWhere):len(pageWhere)], "("+col+", "+id+") "+cmp+" (?, ?)")
		pageArgs = append(pageArgs, key, c.ID)
	}
	query := with + `SELECT ` + listColumns + `, cp.position` + from + whereSQL(pageWhere) +
		` ORDER BY ` + col + ` ` + dir + `, ` + id + ` ` + dir + ` LIMIT ?`
	pageArgs = append(pageArgs, q.Limit+1)

	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		page.Items = make([]catalog.Product, 0, q.Limit)
		var positions []int64
		for rows.Next() {
			var pos int64
			p, err := scanListItem(rows, &pos)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, p)
			positions = append(positions, pos)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Items) > q.Limit {
			page.Items = page.Items[:q.Limit]
			last := page.Items[q.Limit-1]
			if q.Sort == catalog.SortPosition {
				page.Next = q.NextPositionCursor(last.ID, positions[q.Limit-1])
			} else {
				page.Next = q.NextCursor(last)
			}
		}
		if q.WithTotal {
			var n int64
			if err := tx.QueryRowContext(ctx, with+`SELECT count(*)`+from+whereSQL(where), args...).Scan(&n); err != nil {
				return err
			}
			page.Total = &n
		}
		return nil
	})
	if err == nil && len(page.Items) == 0 {
		err = s.collectionListExists(ctx, q.Filter)
	}
	return page, err
}

// collectionListExists tells an unknown collection (or category) from an empty list.
func (s *Store) collectionListExists(ctx context.Context, f catalog.ProductFilter) error {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM collections WHERE slug = ?`, f.Collection).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.UnknownCollection(f.Collection)
	}
	if err != nil {
		return storeError(ctx, err)
	}
	return s.categoryExists(ctx, f.Category)
}
