package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// maxParams keeps one multi-row statement well below SQLite's bound on bound parameters
// (32,766 since 3.32).
const maxParams = 9000

// bulkInsert runs head ("INSERT INTO t (a, b) VALUES ") with as many rows per statement as the
// parameter bound allows, so n rows cost a few statements, not n.
func bulkInsert(ctx context.Context, tx *sql.Tx, head string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	ncols := len(rows[0])
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", ncols), ", ") + ")"
	per := max(1, maxParams/ncols)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*ncols)
		tuples := make([]string, len(chunk))
		for i, r := range chunk {
			args = append(args, r...)
			tuples[i] = tuple
		}
		if _, err := tx.ExecContext(ctx, head+strings.Join(tuples, ", "), args...); err != nil {
			return err
		}
	}
	return nil
}

// insertVariants writes new variants of a product with their stock, prices, price history and
// attribute values, in a few multi-row statements. field names the variants in errors
// ("variants" for variants[i], "" for a single variant).
func insertVariants(ctx context.Context, tx *sql.Tx, productID string, firstPos int, ids []string, vins []catalog.VariantInput, now time.Time, actor, field string) error {
	at := now.UnixMicro()
	var vrows, irows, mrows, prows, hrows [][]any
	currencies := map[string]bool{}
	for i, in := range vins {
		id := ids[i]
		vrows = append(vrows, []any{id, productID, in.SKU, encodeJSON(in.Options), firstPos + i, in.Barcode,
			intOrNil(in.WeightGrams), encodeJSON(in.Attributes), in.Image, in.PurchaseLimit, at, at})
		irows = append(irows, []any{id, productID, in.InitialStock, 0, 1, at})
		if in.InitialStock > 0 {
			mrows = append(mrows, []any{id, productID, in.SKU, catalog.MoveInitial, in.InitialStock, 0, in.InitialStock, 0, "opening balance", actor, at})
		}
		for _, pr := range in.Prices {
			prows = append(prows, []any{id, productID, pr.Currency, pr.Amount, intOrNil(pr.CompareAt)})
			hrows = append(hrows, []any{id, productID, catalog.PriceSet, pr.Currency, pr.Amount, intOrNil(pr.CompareAt), at, at, actor, at})
			currencies[pr.Currency] = true
		}
	}
	if err := bulkInsert(ctx, tx, `INSERT INTO variants (id, product_id, sku, options, position, barcode, weight_grams,
		attributes, image, purchase_limit, created_at, updated_at) VALUES `, vrows); err != nil {
		if isUnique(err) {
			return variantConflict(ctx, tx, vins, "", field, err)
		}
		return err
	}
	for _, step := range []struct {
		head string
		rows [][]any
	}{
		{`INSERT INTO inventory (variant_id, product_id, on_hand, reserved, version, updated_at) VALUES `, irows},
		{`INSERT INTO stock_movements (variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at) VALUES `, mrows},
		{`INSERT INTO variant_prices (variant_id, product_id, currency, amount, compare_at) VALUES `, prows},
		{`INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, applied_at, actor, created_at) VALUES `, hrows},
	} {
		if err := bulkInsert(ctx, tx, step.head, step.rows); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE products SET variant_count = variant_count + ?, next_position = max(next_position, ?) WHERE id = ?`,
		len(vins), firstPos+len(vins), productID); err != nil {
		return err
	}
	var arows [][]any
	for i, in := range vins {
		rows, err := attributeRows(productID, ids[i], in.Attributes)
		if err != nil {
			return err
		}
		arows = append(arows, rows...)
	}
	if err := bulkInsert(ctx, tx, insertAttributeValues, arows); err != nil {
		return err
	}
	for c := range currencies {
		if err := refreshProductPrice(ctx, tx, productID, c); err != nil {
			return err
		}
	}
	return nil
}

// variantConflict explains a unique violation of new or changed variants (self is the changed
// one's ID): a SKU taken elsewhere in the catalog, or a combination the product already has.
func variantConflict(ctx context.Context, tx *sql.Tx, vins []catalog.VariantInput, self, field string, err error) error {
	var p catalog.Problems
	for i, in := range vins {
		var taken string
		switch e := tx.QueryRowContext(ctx, `SELECT sku FROM variants WHERE sku = ? COLLATE NOCASE AND id <> ?`, in.SKU, self).Scan(&taken); {
		case e == nil:
			p.Add(fieldOf(field, i, "sku"), "%q is already used by another variant (SKUs are unique across the catalog regardless of case)", in.SKU)
		case !errors.Is(e, sql.ErrNoRows):
			return e
		}
	}
	if len(p) == 0 {
		p.Add(fieldOf(field, 0, "options"), "the product already has a variant with these option values: each combination at most once")
	}
	return &catalog.Error{Code: catalog.CodeConflict, Message: "a variant clashes with an existing one", Fields: p, Err: err}
}

func fieldOf(prefix string, i int, name string) string {
	if prefix == "" {
		return name
	}
	return fmt.Sprintf("%s[%d].%s", prefix, i, name)
}

// variantOf reads one variant of a product with its stock and prices.
func variantOf(ctx context.Context, q queryer, productID, variantID string) (catalog.Variant, error) {
	if !catalog.ValidID(productID) || !catalog.ValidID(variantID) {
		return catalog.Variant{}, catalog.ErrVariantNotFound
	}
	vs, err := variantsOf(ctx, q, `v.id = ?`, variantID)
	if err != nil {
		return catalog.Variant{}, err
	}
	if len(vs) == 0 || vs[0].ProductID != productID {
		return catalog.Variant{}, catalog.ErrVariantNotFound
	}
	return vs[0], nil
}

// Variant returns one variant of a product, with ProductVersion set.
func (s *Store) Variant(ctx context.Context, productID, variantID string) (catalog.Variant, error) {
	var v catalog.Variant
	err := s.read(ctx, func(tx *sql.Tx) error {
		if !catalog.ValidID(productID) {
			return catalog.ErrProductNotFound
		}
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM products WHERE id = ?`, productID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrProductNotFound
		}
		if err != nil {
			return err
		}
		if v, err = variantOf(ctx, tx, productID, variantID); err != nil {
			return err
		}
		v.ProductVersion = version
		return nil
	})
	return v, err
}

// AddVariant adds one variant; it reads the product's own row and writes the new variant's
// rows only (the SKU and combination indexes find clashes), so its cost does not grow with
// the product's variant count.
func (s *Store) AddVariant(ctx context.Context, productID string, in catalog.VariantInput, ifVersion int64) (catalog.Variant, error) {
	var v catalog.Variant
	in.Normalize()
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := productRow(ctx, tx, productID, ifVersion)
		if err != nil {
			return err
		}
		if err := in.ValidateVariant(p.Options, p.Media); err != nil {
			return err
		}
		if err := checkAttributes(ctx, tx, catalog.ProductInput{Variants: []catalog.VariantInput{in}}); err != nil {
			return err
		}
		var n, pos int
		if err := tx.QueryRowContext(ctx, `SELECT variant_count, next_position FROM products WHERE id = ?`, productID).Scan(&n, &pos); err != nil {
			return err
		}
		if n >= catalog.MaxVariants {
			return catalog.InvalidField("variants", "a product has at most %d variants", catalog.MaxVariants)
		}
		if len(p.Options) == 0 {
			return &catalog.Error{Code: catalog.CodeConflict, Message: "a product without options has exactly one variant: declare options (e.g. Size) first",
				Fields: []catalog.FieldError{{Field: "options", Problem: "the product has no options"}}}
		}
		now := s.clock.Now()
		id := catalog.NewID()
		if err := insertVariants(ctx, tx, productID, pos, []string{id}, []catalog.VariantInput{in}, now, catalog.ActorOf(ctx), ""); err != nil {
			return err
		}
		if err := bumpProduct(ctx, tx, productID, now); err != nil {
			return err
		}
		if v, err = variantOf(ctx, tx, productID, id); err != nil {
			return err
		}
		v.ProductVersion = p.Version + 1
		return s.emit(ctx, tx, catalog.EventVariantCreated, v)
	})
	return v, err
}

// UpdateVariant merges a patch into one variant, writing that variant's rows only.
func (s *Store) UpdateVariant(ctx context.Context, productID, variantID string, patch catalog.VariantPatch, ifVersion int64) (catalog.Variant, error) {
	var v catalog.Variant
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := productRow(ctx, tx, productID, 0)
		if err != nil {
			return err
		}
		cur, err := variantOf(ctx, tx, productID, variantID)
		if err != nil {
			return err
		}
		in, changed, err := catalog.VariantPatchOutcome(p, cur, patch, ifVersion)
		if err != nil {
			return err
		}
		if !changed {
			v, v.ProductVersion = cur, p.Version
			return nil
		}
		if err := checkAttributes(ctx, tx, catalog.ProductInput{Variants: []catalog.VariantInput{in}}); err != nil {
			return err
		}
		now := s.clock.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE variants SET sku = ?, options = ?, barcode = ?, weight_grams = ?, attributes = ?,
			image = ?, purchase_limit = ?, updated_at = ? WHERE id = ?`,
			in.SKU, encodeJSON(in.Options), in.Barcode, intOrNil(in.WeightGrams), encodeJSON(in.Attributes),
			in.Image, in.PurchaseLimit, now.UnixMicro(), variantID); err != nil {
			if isUnique(err) {
				return variantConflict(ctx, tx, []catalog.VariantInput{in}, variantID, "", err)
			}
			return err
		}
		if !in.Attributes.Equal(cur.Attributes) {
			if err := writeAttributeValues(ctx, tx, productID, variantID, in.Attributes); err != nil {
				return err
			}
		}
		if err := replacePrices(ctx, tx, cur, in.Prices, catalog.ActorOf(ctx), now); err != nil {
			return err
		}
		if err := bumpProduct(ctx, tx, productID, now); err != nil {
			return err
		}
		if v, err = variantOf(ctx, tx, productID, variantID); err != nil {
			return err
		}
		v.ProductVersion = p.Version + 1
		return s.emit(ctx, tx, catalog.EventVariantUpdated, v)
	})
	return v, err
}

// replacePrices makes next the variant's current prices: each changed or new currency is set
// now (history line, prior price, ending a running window), each missing one removed.
func replacePrices(ctx context.Context, tx *sql.Tx, cur catalog.Variant, next []catalog.PriceInput, actor string, now time.Time) error {
	for _, pr := range next {
		old, ok := cur.Price(pr.Currency)
		if ok && old.Amount == pr.Amount && eqInt(old.CompareAt, pr.CompareAt) {
			continue
		}
		if _, err := applyPrice(ctx, tx, priceWrite{variantID: cur.ID, productID: cur.ProductID, currency: pr.Currency,
			amount: pr.Amount, compareAt: pr.CompareAt, kind: catalog.PriceSet, actor: actor}, now); err != nil {
			return err
		}
	}
	for _, old := range cur.Prices {
		if !slices.ContainsFunc(next, func(p catalog.PriceInput) bool { return p.Currency == old.Currency }) {
			if err := dropPrice(ctx, tx, cur.ID, cur.ProductID, old.Currency, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func eqInt(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// DeleteVariant removes a variant with no stock, keeping its movements and price history.
func (s *Store) DeleteVariant(ctx context.Context, productID, variantID string, ifVersion int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := productRow(ctx, tx, productID, ifVersion); err != nil {
			return err
		}
		if !catalog.ValidID(variantID) {
			return catalog.ErrVariantNotFound
		}
		var onHand, reserved int64
		err := tx.QueryRowContext(ctx, `SELECT on_hand, reserved FROM inventory WHERE variant_id = ? AND product_id = ?`, variantID, productID).Scan(&onHand, &reserved)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrVariantNotFound
		}
		if err != nil {
			return err
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT variant_count FROM products WHERE id = ?`, productID).Scan(&count); err != nil {
			return err
		}
		if count <= 1 {
			return &catalog.Error{Code: catalog.CodeConflict, Message: "a product keeps at least one variant: delete the product instead",
				Fields: []catalog.FieldError{{Field: "variant", Problem: "is the product's last variant"}}}
		}
		if err := catalog.CanDelete(onHand, reserved); err != nil {
			return err
		}
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, `SELECT currency FROM variant_prices WHERE variant_id = ?`, variantID)
		if err != nil {
			return err
		}
		var currencies []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			currencies = append(currencies, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE price_history SET ended_at = ? WHERE variant_id = ? AND applied_at IS NULL AND ended_at IS NULL`,
			now.UnixMicro(), variantID); err != nil {
			return err
		}
		// The foreign keys cascade to its stock, prices and attribute values; the logs stay.
		if _, err := tx.ExecContext(ctx, `DELETE FROM variants WHERE id = ?`, variantID); err != nil {
			return err
		}
		for _, c := range currencies {
			if err := refreshProductPrice(ctx, tx, productID, c); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE products SET variant_count = variant_count - 1 WHERE id = ?`, productID); err != nil {
			return err
		}
		if err := bumpProduct(ctx, tx, productID, now); err != nil {
			return err
		}
		// The event carries the product's version after the deletion, as PostgreSQL's does, so
		// a consumer orders it after the variant's earlier events.
		var version int64
		err = tx.QueryRowContext(ctx, `SELECT version FROM products WHERE id = ?`, productID).Scan(&version)
		return s.emitAfter(ctx, tx, err, catalog.EventVariantDeleted,
			catalog.Deleted{Subject: "products/" + productID + "/variants/" + variantID, Version: version})
	})
}
