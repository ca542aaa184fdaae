package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

const collectionColumns = `c.slug, c.name, c.description, c.product_count, c.version, c.created_at, c.updated_at`

func scanCollection(row pgx.Row) (catalog.Collection, error) {
	var c catalog.Collection
	err := row.Scan(&c.Slug, &c.Name, &c.Description, &c.ProductCount, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// collectionBySlug reads one collection; lock adds FOR UPDATE OF c, which serialises the writes
// to one collection's list.
func collectionBySlug(ctx context.Context, q querier, slug string, lock bool) (catalog.Collection, error) {
	sql := `SELECT ` + collectionColumns + ` FROM collections c WHERE c.slug = $1`
	if lock {
		sql += ` FOR UPDATE OF c`
	}
	c, err := scanCollection(q.QueryRow(ctx, sql, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, catalog.CollectionNotFound(slug)
	}
	return c, err
}

// walkPositionIndex keeps reads in a collection's order on the (collection, position,
// product_id) index, which returns rows already sorted, so a page or a neighbour lookup stops
// after the rows it needs. Without statistics (a list filled since the last ANALYZE) the planner
// takes a collection for a few dozen rows and would fetch and sort all of its up to 10,000.
const walkPositionIndex = `SET LOCAL enable_sort = off`

// collectionsLock serialises creations, so MaxCollections holds under concurrent creates.
const collectionsLock int64 = 0x636f6c6c65637473 // "collects"

// CreateCollection adds an empty collection.
func (s *Store) CreateCollection(ctx context.Context, in catalog.CollectionInput) (catalog.Collection, error) {
	var c catalog.Collection
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, collectionsLock); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM collections`).Scan(&n); err != nil {
			return err
		}
		if n >= catalog.MaxCollections {
			return catalog.Errorf(catalog.CodeConflict, "the catalog has %d collections, the most it may hold: delete one first", n)
		}
		now := s.clock.Now()
		_, err := tx.Exec(ctx, `INSERT INTO collections (slug, name, description, version, created_at, updated_at)
			VALUES ($1, $2, $3, `+nextVersion("collections/", "$1")+`, $4, $4)`, in.Slug, in.Name, in.Description, now)
		if sqlState(err) == uniqueViolation {
			return catalog.Errorf(catalog.CodeConflict, "collection %q already exists", in.Slug)
		}
		if err != nil {
			return err
		}
		c, err = collectionBySlug(ctx, tx, in.Slug, false)
		return s.emitAfter(ctx, tx, err, catalog.EventCollectionChanged, c)
	})
	return c, err
}

// Collection returns one collection.
func (s *Store) Collection(ctx context.Context, slug string) (catalog.Collection, error) {
	var c catalog.Collection
	err := s.read(ctx, func(conn *pgxpool.Conn) (err error) {
		c, err = collectionBySlug(ctx, conn, slug, false)
		return err
	})
	return c, err
}

// Collections returns every collection by slug.
func (s *Store) Collections(ctx context.Context) ([]catalog.Collection, error) {
	var out []catalog.Collection
	err := s.read(ctx, func(conn *pgxpool.Conn) error {
		rows, err := conn.Query(ctx, `SELECT `+collectionColumns+` FROM collections c ORDER BY c.slug`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Collection, error) { return scanCollection(r) })
		return err
	})
	if out == nil {
		out = []catalog.Collection{}
	}
	return out, err
}

// lockedCollection locks the collection a write changes and checks ifVersion.
func lockedCollection(ctx context.Context, tx pgx.Tx, slug string, ifVersion int64) (catalog.Collection, error) {
	c, err := collectionBySlug(ctx, tx, slug, true)
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
func (s *Store) touchCollection(ctx context.Context, tx pgx.Tx, slug string, count int) (catalog.Collection, error) {
	if _, err := tx.Exec(ctx, `UPDATE collections SET version = version + 1, product_count = $2, updated_at = $3 WHERE slug = $1`,
		slug, count, s.clock.Now()); err != nil {
		return catalog.Collection{}, err
	}
	c, err := collectionBySlug(ctx, tx, slug, false)
	return c, s.emitAfter(ctx, tx, err, catalog.EventCollectionChanged, c)
}

// UpdateCollection changes the name or description.
func (s *Store) UpdateCollection(ctx context.Context, slug string, patch catalog.CollectionPatch, ifVersion int64) (catalog.Collection, error) {
	var c catalog.Collection
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, ifVersion)
		if err != nil {
			return err
		}
		next, changed := patch.Apply(cur)
		if !changed {
			c = cur
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE collections SET name = $2, description = $3 WHERE slug = $1`,
			slug, next.Name, next.Description); err != nil {
			return err
		}
		c, err = s.touchCollection(ctx, tx, slug, int(cur.ProductCount))
		return err
	})
	return c, err
}

// DeleteCollection removes the collection; its list goes with it (ON DELETE CASCADE).
func (s *Store) DeleteCollection(ctx context.Context, slug string, ifVersion int64) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, ifVersion)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM collections WHERE slug = $1`, slug)
		return s.emitDeleted(ctx, tx, err, catalog.EventCollectionDeleted, catalog.Deleted{Subject: "collections/" + slug, Version: cur.Version + 1})
	})
}

// knownProducts refuses ids naming products that do not exist. KEY SHARE keeps them from being
// deleted before the transaction inserts their memberships.
func knownProducts(ctx context.Context, tx pgx.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id::text FROM products WHERE id = ANY ($1::uuid[]) FOR KEY SHARE`, ids)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(found) == len(ids) {
		return nil
	}
	known := make(map[string]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	return catalog.UnknownProducts(ids, known)
}

func memberIDs(ctx context.Context, tx pgx.Tx, slug string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT product_id::text FROM collection_products WHERE collection = $1 ORDER BY position, product_id`, slug)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// insertMembers writes ids at the given keys in one statement.
func insertMembers(ctx context.Context, tx pgx.Tx, slug string, ids []string, keys []int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO collection_products (collection, product_id, position)
		SELECT $1, u.id, u.position FROM unnest($2::uuid[], $3::bigint[]) AS u (id, position)`, slug, ids, keys)
	return err
}

// rewriteMembers replaces the whole list with ids, renumbered.
func rewriteMembers(ctx context.Context, tx pgx.Tx, slug string, ids []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM collection_products WHERE collection = $1`, slug); err != nil {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
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
		if slices.Equal(have, ids) || len(have) == 0 && len(ids) == 0 {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, 0)
		if err != nil {
			return err
		}
		if err := knownProducts(ctx, tx, ids); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, walkPositionIndex); err != nil {
			return err
		}
		// The moved products leave their places first, so position counts the others.
		tag, err := tx.Exec(ctx, `DELETE FROM collection_products WHERE collection = $1 AND product_id = ANY ($2::uuid[])`, slug, ids)
		if err != nil {
			return err
		}
		count := int(cur.ProductCount - tag.RowsAffected())
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
func neighbours(ctx context.Context, tx pgx.Tx, slug string, at, count int) (lo int64, hasLo bool, hi int64, hasHi bool, err error) {
	if count == 0 {
		return 0, false, 0, false, nil
	}
	if at == count {
		err = tx.QueryRow(ctx, `SELECT max(position) FROM collection_products WHERE collection = $1`, slug).Scan(&lo)
		return lo, true, 0, false, err
	}
	rows, err := tx.Query(ctx, `SELECT position FROM collection_products WHERE collection = $1
		ORDER BY position, product_id LIMIT $2 OFFSET $3`, slug, min(at, 1)+1, max(at-1, 0))
	if err != nil {
		return 0, false, 0, false, err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockedCollection(ctx, tx, slug, 0)
		if err != nil {
			return err
		}
		if !catalog.ValidID(id) { // not a UUID: in no collection, and no cast error
			return catalog.Errorf(catalog.CodeNotFound, "product %s is not in collection %q", id, slug)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM collection_products WHERE collection = $1 AND product_id = $2`, slug, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return catalog.Errorf(catalog.CodeNotFound, "product %s is not in collection %q", id, slug)
		}
		c, err = s.touchCollection(ctx, tx, slug, int(cur.ProductCount)-1)
		return err
	})
	return c, err
}

// listCollection lists the members of q.Filter.Collection: the membership index drives the scan
// (a collection holds at most catalog.MaxCollectionProducts, so no search plan choice is
// needed), every other filter of a product list applies, and SortPosition pages by
// (position, id).
func (s *Store) listCollection(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	if p, ok := q.EmptySearch(); ok {
		return p, s.collectionListExists(ctx, q.Filter)
	}
	var b sqlBuilder
	with := ""
	if q.Filter.Category != "" {
		with = "WITH " + categorySubtree(b.arg(q.Filter.Category)) + " "
		b.where = append(b.where, categoryWalked)
	}
	// A currency joins the product's price summary in it, as ListProducts does: products
	// without a price in that currency drop out.
	priceJoin := ""
	if q.Filter.Currency != "" {
		priceJoin = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(q.Filter.Currency)
	}
	// Both plans below read members one by one (at most MaxCollectionProducts): attribute
	// filters are checked on each (attrset.go), never by hashing every matching variant first.
	b.walked = true
	b.filter(q.Filter)
	if terms := catalog.SearchTerms(q.Filter.Query); len(terms) > 0 {
		tsq := "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
		b.where = append(b.where, "(ts_match_vq(p.search, "+tsq+") OR "+skuMatch(tsq)+")")
	}
	filters := b.where
	b.where = []string{"cp.collection = " + b.arg(q.Filter.Collection)}
	member := b.where[0]
	all := append(slices.Clone(filters), member)
	productFrom := ` FROM products p` + priceJoin
	from := productFrom + ` JOIN collection_products cp ON cp.product_id = p.id`
	count := with + `SELECT count(*)` + from + ` WHERE ` + strings.Join(all, " AND ")
	countArgs := slices.Clone(b.args)

	var query string
	if q.Sort == catalog.SortPosition {
		// Walk the membership in order and fetch each product by its key, filtered there: the
		// LATERAL subquery (kept apart by OFFSET 0) is one index lookup per member read, and the
		// walk stops at the page, however many products the filters would match elsewhere.
		// The tie-breaker is the membership's own column, so the index serves the whole ORDER BY.
		if c := q.After; c != nil {
			b.where = append(b.where, "(cp.position, cp.product_id) > ("+b.arg(c.Position)+", "+b.arg(c.ID)+"::uuid)")
		}
		// The limit is written into the statement, as listSQL writes it: with LIMIT $n the
		// generic plan was priced for a tenth of the membership and every page was planned
		// afresh (TestCollectionPagesPlannedOnce). q.Limit is validated: at most
		// catalog.MaxLimit statements per shape.
		inner := append([]string{"p.id = cp.product_id"}, filters...)
		query = with + `SELECT x.*, cp.position FROM collection_products cp CROSS JOIN LATERAL (SELECT ` + listColumns +
			productFrom + ` WHERE ` + strings.Join(inner, " AND ") + ` OFFSET 0) x` + b.whereSQL() +
			` ORDER BY cp.position, cp.product_id LIMIT ` + strconv.Itoa(q.Limit+1)
	} else {
		// Any other order sorts the members that pass the filters: at most
		// MaxCollectionProducts rows.
		b.where = all
		col, dir, cmp := orderOf(q.Sort)
		if c := q.After; c != nil {
			b.where = append(b.where, "("+col+", p.id) "+cmp+" ("+b.arg(cursorKey(c))+", "+b.arg(c.ID)+"::uuid)")
		}
		query = with + `SELECT ` + listColumns + `, cp.position` + from + b.whereSQL() +
			` ORDER BY ` + col + ` ` + dir + `, p.id ` + dir + ` LIMIT ` + b.arg(q.Limit+1)
	}

	var page catalog.ProductPage
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		read := func(db querier) error {
			rows, err := db.Query(ctx, query, b.args...)
			if err != nil {
				return err
			}
			var positions []int64
			page.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Product, error) {
				var pos int64
				p, err := scanListItem(withPosition{r, &pos})
				positions = append(positions, pos)
				return p, err
			})
			if err != nil {
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
			return nil
		}
		if !q.WithTotal && q.Sort != catalog.SortPosition {
			return read(c)
		}
		// A position page walks the index (a transaction for SET LOCAL); a page with its total
		// reads both from one snapshot.
		opts := pgx.TxOptions{AccessMode: pgx.ReadOnly}
		if q.WithTotal {
			opts.IsoLevel = pgx.RepeatableRead
		}
		return pgx.BeginTxFunc(ctx, c, opts, func(tx pgx.Tx) error {
			if q.Sort == catalog.SortPosition {
				if _, err := tx.Exec(ctx, walkPositionIndex); err != nil {
					return err
				}
			}
			if err := read(tx); err != nil {
				return err
			}
			if !q.WithTotal {
				return nil
			}
			var n int64
			if err := tx.QueryRow(ctx, count, countArgs...).Scan(&n); err != nil {
				return err
			}
			page.Total = &n
			return nil
		})
	})
	if err == nil && len(page.Items) == 0 {
		err = s.collectionListExists(ctx, q.Filter)
	}
	return page, err
}

// collectionListExists tells an unknown collection (or category) from an empty list.
func (s *Store) collectionListExists(ctx context.Context, f catalog.ProductFilter) error {
	var exists bool
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM collections WHERE slug = $1)`, f.Collection).Scan(&exists)
	})
	if err != nil {
		return err
	}
	if !exists {
		return catalog.UnknownCollection(f.Collection)
	}
	return s.categoryExists(ctx, f.Category)
}

// withPosition scans a product row followed by its collection position.
type withPosition struct {
	pgx.Row
	pos *int64
}

func (w withPosition) Scan(dest ...any) error { return w.Row.Scan(append(dest, w.pos)...) }
