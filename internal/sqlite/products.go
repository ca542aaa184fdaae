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

const productColumns = `p.id, p.sku, p.name, p.description, p.category, p.brand, p.attributes, p.images,
	p.status, p.price_currency, p.price_amount, p.version, p.created_at, p.updated_at,
	i.on_hand, i.reserved, i.version`

const productFrom = ` FROM products p JOIN inventory i ON i.product_id = p.id`

type scanner interface{ Scan(dest ...any) error }

func scanProduct(row scanner) (catalog.Product, error) {
	var (
		p                          catalog.Product
		attrs, images              string
		created, updated           int64
		onHand, reserved, stockVer int64
	)
	err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.Description, &p.Category, &p.Brand, &attrs, &images,
		&p.Status, &p.Price.Currency, &p.Price.Amount, &p.Version, &created, &updated,
		&onHand, &reserved, &stockVer)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(attrs), &p.Attributes); err != nil {
		return p, fmt.Errorf("product %s attributes: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(images), &p.Images); err != nil {
		return p, fmt.Errorf("product %s images: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = micros(created), micros(updated)
	p.Stock = catalog.NewStock(onHand, reserved, stockVer)
	return p, nil
}

func micros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings and slices of strings always marshal
	}
	return string(b)
}

// Product returns the product with the given ID.
func (s *Store) Product(ctx context.Context, id string) (catalog.Product, error) {
	p, err := scanProduct(s.r.QueryRowContext(ctx, `SELECT `+productColumns+productFrom+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	return p, storeError(ctx, err)
}

// ProductBySKU returns the product with the given SKU, in any case.
func (s *Store) ProductBySKU(ctx context.Context, sku string) (catalog.Product, error) {
	p, err := scanProduct(s.r.QueryRowContext(ctx, `SELECT `+productColumns+productFrom+` WHERE p.sku = ? COLLATE NOCASE`, sku))
	if errors.Is(err, sql.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	return p, storeError(ctx, err)
}

func productOf(tx *sql.Tx, ctx context.Context, id string) (catalog.Product, error) {
	p, err := scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+productFrom+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	return p, err
}

// writeError turns constraint violations of a product write into client errors.
func writeError(err error, in catalog.ProductInput) error {
	switch {
	case isUnique(err):
		return &catalog.Error{Code: catalog.CodeConflict, Message: "another product already has this SKU",
			Fields: []catalog.FieldError{{Field: "sku", Problem: fmt.Sprintf("%q is already used (SKUs are unique regardless of case)", in.SKU)}}, Err: err}
	case isForeignKey(err):
		return &catalog.Error{Code: catalog.CodeInvalid, Message: "the category does not exist",
			Fields: []catalog.FieldError{{Field: "category", Problem: fmt.Sprintf("category %q does not exist", in.Category)}}, Err: err}
	}
	return err
}

// CreateProduct adds a product with no stock.
func (s *Store) CreateProduct(ctx context.Context, in catalog.ProductInput) (catalog.Product, error) {
	var p catalog.Product
	err := s.write(ctx, func(tx *sql.Tx) error {
		id := catalog.NewID()
		if err := insertProduct(ctx, tx, id, in, 0, s.clock.Now()); err != nil {
			return err
		}
		var err error
		p, err = productOf(tx, ctx, id)
		return err
	})
	return p, err
}

func insertProduct(ctx context.Context, tx *sql.Tx, id string, in catalog.ProductInput, onHand int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO products (id, sku, name, name_key, description, category, brand,
		attributes, images, status, price_currency, price_amount, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		id, in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		encodeJSON(in.Attributes), encodeJSON(in.Images), in.Status, in.Price.Currency, in.Price.Amount,
		now.UnixMicro(), now.UnixMicro())
	if err != nil {
		return writeError(err, in)
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES (?, ?, 0, 1, ?)`,
		id, onHand, now.UnixMicro()); err != nil {
		return err
	}
	actor := catalog.ActorOf(ctx)
	if onHand > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at)
			VALUES (?, 'initial', ?, 0, ?, 0, 'opening balance', ?, ?)`, id, onHand, onHand, actor, now.UnixMicro()); err != nil {
			return err
		}
	}
	_, err = recordPrice(ctx, tx, id, in.Price, now, &now, actor, now)
	return err
}

// checkVersion explains why a conditional update of id matched no row.
func checkVersion(ctx context.Context, tx *sql.Tx, id string, ifVersion int64) error {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM products WHERE id = ?`, id).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return catalog.ErrProductNotFound
	case err != nil:
		return err
	}
	return catalog.StaleVersion(v, ifVersion)
}

// ReplaceProduct overwrites every writable field of a product.
func (s *Store) ReplaceProduct(ctx context.Context, id string, in catalog.ProductInput, ifVersion int64) (catalog.Product, error) {
	var p catalog.Product
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		var before catalog.Money
		if err := tx.QueryRowContext(ctx, `SELECT price_currency, price_amount FROM products WHERE id = ?`, id).Scan(&before.Currency, &before.Amount); errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrProductNotFound
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE products SET sku = ?, name = ?, name_key = ?, description = ?,
			category = ?, brand = ?, attributes = ?, images = ?, status = ?, price_currency = ?, price_amount = ?,
			version = version + 1, updated_at = ?
			WHERE id = ? AND (? = 0 OR version = ?)`,
			in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
			encodeJSON(in.Attributes), encodeJSON(in.Images), in.Status, in.Price.Currency, in.Price.Amount,
			now.UnixMicro(), id, ifVersion, ifVersion)
		if err != nil {
			return writeError(err, in)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return checkVersion(ctx, tx, id, ifVersion)
		}
		if p, err = productOf(tx, ctx, id); err != nil {
			return err
		}
		if p.Price != before {
			_, err = recordPrice(ctx, tx, id, p.Price, now, &now, catalog.ActorOf(ctx), now)
		}
		return err
	})
	return p, err
}

// SetProductStatus changes only the status (archive, publish).
func (s *Store) SetProductStatus(ctx context.Context, id string, status catalog.Status, ifVersion int64) (catalog.Product, error) {
	if !status.Valid() {
		return catalog.Product{}, catalog.InvalidField("status", "must be draft, active or archived")
	}
	var p catalog.Product
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE products SET status = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND (? = 0 OR version = ?)`, status, s.clock.Now().UnixMicro(), id, ifVersion, ifVersion)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return checkVersion(ctx, tx, id, ifVersion)
		}
		p, err = productOf(tx, ctx, id)
		return err
	})
	return p, err
}

// DeleteProduct removes a product with no stock, keeping its movements and price history and
// recording what it was in deleted_products.
func (s *Store) DeleteProduct(ctx context.Context, id string, ifVersion int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var version, onHand, reserved int64
		var sku, name string
		err := tx.QueryRowContext(ctx, `SELECT p.version, p.sku, p.name, i.on_hand, i.reserved`+productFrom+` WHERE p.id = ?`, id).Scan(&version, &sku, &name, &onHand, &reserved)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return catalog.ErrProductNotFound
		case err != nil:
			return err
		case ifVersion != 0 && version != ifVersion:
			return catalog.StaleVersion(version, ifVersion)
		}
		if err := catalog.CanDelete(onHand, reserved); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM products WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO deleted_products (id, sku, name, actor, deleted_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, sku, name, catalog.ActorOf(ctx), s.clock.Now().UnixMicro())
		return err
	})
}

// Import adds products with their initial stock, 500 to a transaction.
func (s *Store) Import(ctx context.Context, products []catalog.NewProduct) error {
	const batch = 500
	for start := 0; start < len(products); start += batch {
		chunk := products[start:min(start+batch, len(products))]
		err := s.write(ctx, func(tx *sql.Tx) error {
			now := s.clock.Now()
			for _, np := range chunk {
				created := now
				if !np.CreatedAt.IsZero() {
					created = np.CreatedAt.UTC().Truncate(time.Microsecond)
				}
				if err := insertProduct(ctx, tx, catalog.NewID(), np.ProductInput, np.OnHand, created); err != nil {
					return fmt.Errorf("import %s: %w", np.SKU, err)
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

// ftsQuery turns search terms into an FTS5 query that matches rows containing every term, the
// last as a prefix (ADR 0011). Each term is a quoted string, so nothing in it is FTS5 syntax.
func ftsQuery(terms []string) string {
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	quoted[len(quoted)-1] += "*"
	return strings.Join(quoted, " ")
}

// ProductVersions returns a product's version and stock version, for conditional GETs.
func (s *Store) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	var v, sv int64
	err := s.r.QueryRowContext(ctx, `SELECT p.version, i.version FROM products p JOIN inventory i ON i.product_id = p.id WHERE p.id = ?`, id).Scan(&v, &sv)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, catalog.ErrProductNotFound
	}
	return v, sv, storeError(ctx, err)
}
