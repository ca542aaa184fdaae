package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

const productColumns = `p.id, p.name, p.description, p.category, p.brand, p.attributes, p.media, p.options,
	p.status, p.version, p.created_at, p.updated_at`

type scanner interface{ Scan(dest ...any) error }

// queryer is what reads need of a transaction or a pool.
type queryer interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func scanProduct(row scanner, extra ...any) (catalog.Product, error) {
	var (
		p                     catalog.Product
		attrs, media, options string
		created, updated      int64
	)
	dest := append([]any{&p.ID, &p.Name, &p.Description, &p.Category, &p.Brand, &attrs, &media, &options,
		&p.Status, &p.Version, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return p, err
	}
	if err := decodeJSON(attrs, &p.Attributes); err != nil {
		return p, fmt.Errorf("product %s attributes: %w", p.ID, err)
	}
	if err := decodeJSON(media, &p.Media); err != nil {
		return p, fmt.Errorf("product %s media: %w", p.ID, err)
	}
	if err := decodeJSON(options, &p.Options); err != nil {
		return p, fmt.Errorf("product %s options: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = micros(created), micros(updated)
	if p.Attributes == nil {
		p.Attributes = catalog.Attributes{}
	}
	if p.Media == nil {
		p.Media = []catalog.Media{}
	}
	if p.Options == nil {
		p.Options = []catalog.Option{}
	}
	return p, nil
}

func micros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func decodeJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// encodeJSON marshals the store's own values (maps of strings and finite numbers, slices of
// structs of strings): Go sorts map keys, so equal maps encode equally (the variants'
// combination index relies on it).
func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // validated values always marshal
	}
	return string(b)
}

// productOf reads a product with all its variants in two queries: its row, then its variants
// joined with their stock and prices.
func productOf(ctx context.Context, q queryer, id string) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	p, err := scanProduct(q.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	if err != nil {
		return p, err
	}
	if p.Variants, err = variantsOf(ctx, q, `v.product_id = ?`, id); err != nil {
		return p, err
	}
	finishProduct(&p)
	return p, nil
}

// finishProduct derives the summaries and the stock version from the loaded variants.
func finishProduct(p *catalog.Product) {
	p.StockVersion = 0
	for i := range p.Variants {
		p.Variants[i].ProductVersion = p.Version
		p.StockVersion += p.Variants[i].Stock.Version
	}
	p.Summarize()
}

const variantColumns = `v.id, v.product_id, v.sku, v.options, v.position, v.barcode, v.weight_grams, v.attributes,
	v.image, v.purchase_limit, v.created_at, v.updated_at, i.on_hand, i.reserved, i.version,
	vp.currency, vp.amount, vp.compare_at, vp.prior_amount, vp.window_ends_at`

// variantsSQL selects the variants matching cond with their stock and prices.
func variantsSQL(cond string) string {
	return `SELECT ` + variantColumns + ` FROM variants v
		JOIN inventory i ON i.variant_id = v.id
		LEFT JOIN variant_prices vp ON vp.variant_id = v.id
		WHERE ` + cond + ` ORDER BY v.position, v.id, vp.currency`
}

// variantsOf reads the variants matching cond (one placeholder, arg) in position order, each
// with its stock and prices: one query, a row per variant and currency.
func variantsOf(ctx context.Context, q queryer, cond string, arg any) ([]catalog.Variant, error) {
	rows, err := q.QueryContext(ctx, variantsSQL(cond), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []catalog.Variant{}
	for rows.Next() {
		var (
			v                              catalog.Variant
			options, attrs                 string
			weight                         sql.NullInt64
			created, updated               int64
			onHand, reserved, stockVer     int64
			currency                       sql.NullString
			amount, compareAt, prior, ends sql.NullInt64
		)
		if err := rows.Scan(&v.ID, &v.ProductID, &v.SKU, &options, &v.Position, &v.Barcode, &weight, &attrs,
			&v.Image, &v.PurchaseLimit, &created, &updated, &onHand, &reserved, &stockVer,
			&currency, &amount, &compareAt, &prior, &ends); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != v.ID {
			if err := decodeJSON(options, &v.Options); err != nil {
				return nil, fmt.Errorf("variant %s options: %w", v.ID, err)
			}
			if err := decodeJSON(attrs, &v.Attributes); err != nil {
				return nil, fmt.Errorf("variant %s attributes: %w", v.ID, err)
			}
			if v.Options == nil {
				v.Options = map[string]string{}
			}
			if v.Attributes == nil {
				v.Attributes = catalog.Attributes{}
			}
			if weight.Valid {
				w := weight.Int64
				v.WeightGrams = &w
			}
			v.CreatedAt, v.UpdatedAt = micros(created), micros(updated)
			v.Stock = catalog.NewStock(onHand, reserved, stockVer)
			v.Prices = []catalog.Price{}
			out = append(out, v)
		}
		if currency.Valid {
			pr := catalog.Price{Currency: currency.String, Amount: amount.Int64, CompareAt: nullInt(compareAt), PriorPrice: nullInt(prior)}
			if ends.Valid {
				t := micros(ends.Int64)
				pr.SaleEndsAt = &t
			}
			last := &out[len(out)-1]
			last.Prices = append(last.Prices, pr)
		}
	}
	return out, rows.Err()
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func intOrNil(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Product returns a product with all its variants.
func (s *Store) Product(ctx context.Context, id string) (catalog.Product, error) {
	var p catalog.Product
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = productOf(ctx, tx, id)
		return err
	})
	return p, err
}

// VariantBySKU returns the variant with sku, in any case, and its product.
func (s *Store) VariantBySKU(ctx context.Context, sku string) (catalog.Product, catalog.Variant, error) {
	var (
		p catalog.Product
		v catalog.Variant
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		// One query for the product (found through the SKU index), one for its variants.
		var vid string
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+`, v.id FROM variants v JOIN products p ON p.id = v.product_id
			WHERE v.sku = ? COLLATE NOCASE`, sku), &vid)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrVariantNotFound
		}
		if err != nil {
			return err
		}
		if p.Variants, err = variantsOf(ctx, tx, `v.product_id = ?`, p.ID); err != nil {
			return err
		}
		finishProduct(&p)
		var ok bool
		if v, ok = p.Variant(vid); !ok {
			return catalog.ErrVariantNotFound
		}
		return nil
	})
	return p, v, err
}

// CreateProduct adds a product with its variants and their initial stock.
func (s *Store) CreateProduct(ctx context.Context, in catalog.ProductInput) (catalog.Product, error) {
	var p catalog.Product
	in.Normalize()
	if err := in.Validate(); err != nil {
		return p, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		id := catalog.NewID()
		if err := insertProduct(ctx, tx, id, in, s.clock.Now()); err != nil {
			return err
		}
		var err error
		p, err = productOf(ctx, tx, id)
		return s.emitAfter(ctx, tx, err, catalog.EventProductCreated, p)
	})
	return p, err
}

// insertProduct writes a validated product and its variants in a handful of multi-row
// statements, whatever the variant count.
func insertProduct(ctx context.Context, tx *sql.Tx, id string, in catalog.ProductInput, now time.Time) error {
	if err := checkAttributes(ctx, tx, in); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO products (id, name, name_key, description, category, brand,
		attributes, media, options, status, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		id, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		encodeJSON(in.Attributes), encodeJSON(in.Media), encodeJSON(in.Options), in.Status,
		now.UnixMicro(), now.UnixMicro())
	if err != nil {
		return productWriteError(err, in)
	}
	if err := writeAttributeValues(ctx, tx, id, "", in.Attributes); err != nil {
		return err
	}
	ids := make([]string, len(in.Variants))
	for i := range ids {
		ids[i] = catalog.NewID()
	}
	return insertVariants(ctx, tx, id, 0, ids, in.Variants, now, catalog.ActorOf(ctx), "variants")
}

// productWriteError turns constraint violations of a product's own row into client errors.
func productWriteError(err error, in catalog.ProductInput) error {
	if isForeignKey(err) {
		return unknownCategory(in, err)
	}
	return err
}

// unknownCategory is the error for in's category not existing (err, the driver's, may be nil).
func unknownCategory(in catalog.ProductInput, err error) error {
	return &catalog.Error{Code: catalog.CodeInvalid, Message: "the category does not exist",
		Fields: []catalog.FieldError{{Field: "category", Problem: fmt.Sprintf("category %q does not exist", in.Category)}}, Err: err}
}

// productRow reads and checks a product's own row for a write: the version the caller saw, and
// what the product's variants are validated against. It reads no variant.
func productRow(ctx context.Context, tx *sql.Tx, id string, ifVersion int64) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	p, err := scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return p, catalog.ErrProductNotFound
	case err != nil:
		return p, err
	case ifVersion != 0 && p.Version != ifVersion:
		return p, catalog.StaleVersion(p.Version, ifVersion)
	}
	return p, nil
}

// bumpProduct moves a product's version: every write to it or its variants does.
func bumpProduct(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE products SET version = version + 1, updated_at = ? WHERE id = ?`, now.UnixMicro(), id)
	return err
}

// ReplaceProduct replaces a product's own fields, reconciling its variants with new options.
func (s *Store) ReplaceProduct(ctx context.Context, id string, in catalog.ProductInput, ifVersion int64) (catalog.Product, error) {
	var p catalog.Product
	in.Normalize()
	if err := in.ValidateReplace(); err != nil {
		return p, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := productRow(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		if err := s.replaceOwn(ctx, tx, cur, in); err != nil {
			return err
		}
		p, err = productOf(ctx, tx, id)
		return s.emitAfter(ctx, tx, err, catalog.EventProductUpdated, p)
	})
	return p, err
}

// PatchProduct merges a patch into the current product. Every write runs on the one write
// connection inside BEGIN IMMEDIATE, so the read below cannot go stale before the update.
func (s *Store) PatchProduct(ctx context.Context, id string, patch catalog.ProductPatch, ifVersion int64) (catalog.Product, error) {
	var p catalog.Product
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := productRow(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		in, changed, err := catalog.PatchOutcome(cur, patch, ifVersion)
		if err != nil {
			return err
		}
		if changed {
			if err := s.replaceOwn(ctx, tx, cur, in); err != nil {
				return err
			}
		}
		p, err = productOf(ctx, tx, id)
		if !changed {
			return err
		}
		return s.emitAfter(ctx, tx, err, catalog.EventProductUpdated, p)
	})
	return p, err
}

// replaceOwn writes a product's own fields over cur: attributes checked against their
// definitions, variants following a change of options, variant images still among the media.
func (s *Store) replaceOwn(ctx context.Context, tx *sql.Tx, cur catalog.Product, in catalog.ProductInput) error {
	if err := checkAttributes(ctx, tx, catalog.ProductInput{Attributes: in.Attributes}); err != nil {
		return err
	}
	now := s.clock.Now()
	optionsChanged := encodeJSON(cur.Options) != encodeJSON(in.Options)
	if optionsChanged {
		if err := reconcileOptions(ctx, tx, cur.ID, in.Options, now); err != nil {
			return err
		}
	}
	if encodeJSON(cur.Media) != encodeJSON(in.Media) {
		if err := checkVariantImages(ctx, tx, cur.ID, in.Media); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, name_key = ?, description = ?, category = ?, brand = ?,
		attributes = ?, media = ?, options = ?, status = ?, version = version + 1, updated_at = ? WHERE id = ?`,
		in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		encodeJSON(in.Attributes), encodeJSON(in.Media), encodeJSON(in.Options), in.Status, now.UnixMicro(), cur.ID); err != nil {
		return productWriteError(err, in)
	}
	if !cur.Attributes.Equal(in.Attributes) {
		return writeAttributeValues(ctx, tx, cur.ID, "", in.Attributes)
	}
	return nil
}

// reconcileOptions moves the variants' option values to a product's new options
// (catalog.ReconcileOptions decides; this reads the variants' options only).
func reconcileOptions(ctx context.Context, tx *sql.Tx, productID string, next []catalog.Option, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, sku, options FROM variants WHERE product_id = ? ORDER BY position, id`, productID)
	if err != nil {
		return err
	}
	var vs []catalog.Variant
	for rows.Next() {
		var v catalog.Variant
		var opts string
		if err := rows.Scan(&v.ID, &v.SKU, &opts); err != nil {
			rows.Close()
			return err
		}
		if err := decodeJSON(opts, &v.Options); err != nil {
			rows.Close()
			return err
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ch, err := catalog.ReconcileOptions(next, vs)
	if err != nil {
		return err
	}
	for vid, vals := range ch.Values {
		if _, err := tx.ExecContext(ctx, `UPDATE variants SET options = ?, updated_at = ? WHERE id = ?`, encodeJSON(vals), now.UnixMicro(), vid); err != nil {
			if isUnique(err) {
				return catalog.InvalidField("options", "two variants would stand for the same combination")
			}
			return err
		}
	}
	return nil
}

// checkVariantImages refuses new media that drop an image a variant shows.
func checkVariantImages(ctx context.Context, tx *sql.Tx, productID string, media []catalog.Media) error {
	urls := map[string]bool{}
	for _, m := range media {
		urls[m.URL] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT sku, image FROM variants WHERE product_id = ? AND image <> '' ORDER BY position`, productID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var p catalog.Problems
	for rows.Next() {
		var sku, image string
		if err := rows.Scan(&sku, &image); err != nil {
			return err
		}
		if !urls[image] {
			p.Add("media", "variant %s shows %s: change its image before removing that medium", sku, image)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return p.Err()
}

// SetProductStatus changes only the status (archive, publish).
func (s *Store) SetProductStatus(ctx context.Context, id string, status catalog.Status, ifVersion int64) (catalog.Product, error) {
	if !status.Valid() {
		return catalog.Product{}, catalog.InvalidField("status", "must be draft, active or archived")
	}
	var p catalog.Product
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := productRow(ctx, tx, id, ifVersion); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE products SET status = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			status, s.clock.Now().UnixMicro(), id); err != nil {
			return err
		}
		var err error
		p, err = productOf(ctx, tx, id)
		return s.emitAfter(ctx, tx, err, catalog.EventProductUpdated, p)
	})
	return p, err
}

// DeleteProduct removes a product and its variants with no stock, keeping their movements and
// price history and recording what it was in deleted_products.
func (s *Store) DeleteProduct(ctx context.Context, id string, ifVersion int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		p, err := productRow(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		var onHand, reserved int64
		var sku string
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(on_hand), 0), coalesce(sum(reserved), 0),
			coalesce((SELECT sku FROM variants WHERE product_id = ? ORDER BY position LIMIT 1), '')
			FROM inventory WHERE product_id = ?`, id, id).Scan(&onHand, &reserved, &sku); err != nil {
			return err
		}
		if err := catalog.CanDelete(onHand, reserved); err != nil {
			return err
		}
		now := s.clock.Now()
		// Scheduled prices of the variants going away are cancelled, so no sweeper looks for them.
		if _, err := tx.ExecContext(ctx, `UPDATE price_history SET ended_at = ? WHERE product_id = ? AND applied_at IS NULL AND ended_at IS NULL`,
			now.UnixMicro(), id); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM products WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO deleted_products (id, sku, name, actor, deleted_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, sku, p.Name, catalog.ActorOf(ctx), now.UnixMicro())
		return s.emitAfter(ctx, tx, err, catalog.EventProductDeleted, catalog.Deleted{Subject: "products/" + id, Version: p.Version + 1})
	})
}

// Import adds products with their variants and initial stock, 500 products to a transaction.
func (s *Store) Import(ctx context.Context, products []catalog.NewProduct) error {
	const batch = 500
	for start := 0; start < len(products); start += batch {
		chunk := products[start:min(start+batch, len(products))]
		err := s.write(ctx, func(tx *sql.Tx) error {
			now := s.clock.Now()
			for _, np := range chunk {
				in := np.ProductInput
				in.Normalize()
				if err := in.Validate(); err != nil {
					return fmt.Errorf("import %q: %w", in.Name, err)
				}
				created := now
				if !np.CreatedAt.IsZero() {
					created = np.CreatedAt.UTC().Truncate(time.Microsecond)
				}
				p, err := createImported(ctx, tx, in, created, catalog.ActorOf(ctx))
				if err != nil {
					return fmt.Errorf("import %q: %w", in.Name, err)
				}
				if err := emitAt(ctx, tx, now, catalog.EventProductCreated, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Empty reports whether there are no products and no categories.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var any int
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM categories)`).Scan(&any)
	return any == 0, storeError(ctx, err)
}

// ftsQuery turns one search term into an FTS5 query, a prefix query for the last term of a
// search (ADR 0011). The term is a quoted string, so nothing in it is FTS5 syntax.
func ftsQuery(term string, prefix bool) string {
	q := `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	if prefix {
		q += "*"
	}
	return q
}

// ProductVersions returns a product's version and the sum of its variants' stock versions, for
// conditional GETs.
func (s *Store) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	if !catalog.ValidID(id) {
		return 0, 0, catalog.ErrProductNotFound
	}
	var v, sv int64
	err := s.r.QueryRowContext(ctx, `SELECT p.version, (SELECT coalesce(sum(i.version), 0) FROM inventory i WHERE i.product_id = p.id)
		FROM products p WHERE p.id = ?`, id).Scan(&v, &sv)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, catalog.ErrProductNotFound
	}
	return v, sv, storeError(ctx, err)
}
