package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// Export streams the products matching q from one REPEATABLE READ read-only snapshot, in
// keyset pages of catalog.ExportPageSize, with the feed cursor of that snapshot (ADR 0020).
//
// The cursor is event_state.last_seq as the snapshot sees it. Every number up to it was given
// by a sequencer pass that committed before the snapshot, to events of transactions that had
// ended before that pass: all in the snapshot. Every event the snapshot does not show is
// numbered later, above it. Events of transactions that committed before the snapshot but
// were not numbered yet also get numbers above it: the feed after the cursor repeats them, and
// applying a change the export already shows changes nothing. A sequencer pass just before the
// snapshot keeps that overlap small.
//
// The transaction is read-only and takes no xid, so a long export holds back neither the
// feed's sequencer nor vacuum's view of other transactions' xids (it does keep the rows it
// may still read).
func (s *Store) Export(ctx context.Context, q catalog.ExportQuery, begin func(catalog.ExportHead) error, each func(catalog.Product) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	if err := s.sequence(ctx); err != nil {
		return storeError(ctx, err)
	}
	var callerErr error
	call := func(err error) error {
		if err != nil {
			callerErr = err
		}
		return err
	}
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			// The first statement takes the snapshot: the cursor is read in it.
			var cursor int64
			if err := tx.QueryRow(ctx, `SELECT last_seq FROM event_state`).Scan(&cursor); err != nil {
				return err
			}
			if err := exportFilterExists(ctx, tx, q.Filter); err != nil {
				return err
			}
			head := catalog.ExportHead{Cursor: cursor}
			if q.Columns {
				if err := exportColumns(ctx, tx, &head); err != nil {
					return err
				}
			}
			if err := call(begin(head)); err != nil {
				return err
			}
			var after *exportKey
			for {
				ids, last, more, err := exportPage(ctx, tx, q.Filter, after)
				if err != nil || len(ids) == 0 {
					return err
				}
				ps, err := productsByID(ctx, tx, ids)
				if err != nil {
					return err
				}
				for _, p := range ps {
					if err := call(each(p)); err != nil {
						return err
					}
				}
				if !more {
					return nil
				}
				after = &last
			}
		})
	})
	if callerErr != nil && errors.Is(err, callerErr) {
		return callerErr
	}
	return storeError(ctx, err)
}

// exportFilterExists answers an unknown category or collection with not_found, as lists do,
// instead of an empty export.
func exportFilterExists(ctx context.Context, tx pgx.Tx, f catalog.ProductFilter) error {
	var category, collection bool
	if err := tx.QueryRow(ctx, `SELECT $1 = '' OR EXISTS (SELECT 1 FROM categories WHERE slug = $1),
		$2 = '' OR EXISTS (SELECT 1 FROM collections WHERE slug = $2)`, f.Category, f.Collection).Scan(&category, &collection); err != nil {
		return err
	}
	if !category {
		return catalog.UnknownCategory(f.Category)
	}
	if !collection {
		return catalog.UnknownCollection(f.Collection)
	}
	return nil
}

// exportColumns fills head's columns from the snapshot: option names in use, defined attribute
// keys, currencies in use and whether any price has a compare-at amount.
func exportColumns(ctx context.Context, tx pgx.Tx, head *catalog.ExportHead) error {
	return tx.QueryRow(ctx, `SELECT
		coalesce((SELECT array_agg(DISTINCT o->>'name' ORDER BY o->>'name') FROM products p, jsonb_array_elements(p.options) o), '{}'),
		coalesce((SELECT array_agg(key ORDER BY key) FROM attribute_definitions), '{}'),
		coalesce((SELECT array_agg(DISTINCT currency ORDER BY currency) FROM variant_prices), '{}'),
		EXISTS (SELECT 1 FROM variant_prices WHERE compare_at IS NOT NULL)`).Scan(&head.Options, &head.Attributes, &head.Currencies, &head.CompareAt)
}

// exportKey is the keyset position of an export: the last product's creation time and ID.
type exportKey struct {
	created time.Time
	id      string
}

// exportPage returns the IDs of the next page of products matching f after the key, in
// (created_at, id) order, which the products_created index serves, the last one's key, and
// whether more may follow. A page ends early at catalog.ExportPageVariants variants.
func exportPage(ctx context.Context, tx pgx.Tx, f catalog.ProductFilter, after *exportKey) (ids []string, last exportKey, more bool, err error) {
	var b sqlBuilder
	with := ""
	if f.Category != "" {
		with = "WITH " + categorySubtree(b.arg(f.Category)) + " "
		b.where = append(b.where, categoryWalked)
	}
	priceJoin := ""
	if f.Currency != "" {
		priceJoin = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(f.Currency)
	}
	b.filter(f)
	if terms := catalog.SearchTerms(f.Query); len(terms) > 0 {
		tsq := "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
		b.where = append(b.where, "(p.search @@ "+tsq+" OR "+skuMatch(tsq)+")")
	} else if f.Query != "" {
		b.where = append(b.where, "false") // only punctuation: nothing matches (as lists)
	}
	if f.Collection != "" {
		b.where = append(b.where, "p.id IN (SELECT product_id FROM collection_products WHERE collection = "+b.arg(f.Collection)+")")
	}
	if after != nil {
		b.where = append(b.where, "(p.created_at, p.id) > ("+b.arg(after.created)+", "+b.arg(after.id)+"::uuid)")
	}
	rows, err := tx.Query(ctx, with+`SELECT p.id::text, p.created_at, p.variant_count FROM products p`+priceJoin+b.whereSQL()+
		` ORDER BY p.created_at, p.id LIMIT `+b.arg(catalog.ExportPageSize), b.args...)
	if err != nil {
		return nil, exportKey{}, false, err
	}
	defer rows.Close()
	variants := 0
	for rows.Next() {
		var n int
		if err := rows.Scan(&last.id, &last.created, &n); err != nil {
			return nil, last, false, err
		}
		ids = append(ids, last.id)
		if variants += n; variants >= catalog.ExportPageVariants {
			return ids, last, true, nil // a page of big products: the rest on the next page
		}
	}
	return ids, last, len(ids) == catalog.ExportPageSize, rows.Err()
}

// productsByID reads the products with the given IDs and all their variants, in the order of
// ids: two statements for the whole page.
func productsByID(ctx context.Context, q querier, ids []string) ([]catalog.Product, error) {
	rows, err := q.Query(ctx, `SELECT `+productColumns+` FROM unnest($1::uuid[]) WITH ORDINALITY AS k (id, n)
		JOIN products p ON p.id = k.id ORDER BY k.n`, ids)
	if err != nil {
		return nil, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Product, error) {
		var p catalog.Product
		err := r.Scan(scanProductInto(&p)...)
		fixProduct(&p)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT `+variantPriceColumns+variantFrom+` JOIN products p ON p.id = v.product_id
		LEFT JOIN LATERAL (SELECT * FROM variant_prices vp WHERE vp.variant_id = v.id LIMIT `+maxPrices+`) vp ON true
		WHERE v.product_id = ANY ($1::uuid[]) ORDER BY v.product_id, v.position, vp.currency`, ids)
	if err != nil {
		return nil, err
	}
	vs, _, err := scanVariantPrices(rows)
	if err != nil {
		return nil, err
	}
	byProduct := make(map[string][]catalog.Variant, len(ps))
	for _, v := range vs {
		byProduct[v.ProductID] = append(byProduct[v.ProductID], v)
	}
	for i := range ps {
		p := &ps[i]
		p.Variants = byProduct[p.ID]
		if p.Variants == nil {
			p.Variants = []catalog.Variant{}
		}
		p.StockVersion = 0
		for j := range p.Variants {
			p.Variants[j].ProductVersion = p.Version
			p.StockVersion += p.Variants[j].Stock.Version
		}
		p.Summarize()
	}
	return ps, nil
}
