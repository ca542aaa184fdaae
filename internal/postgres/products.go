package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

const productColumns = `p.id::text, p.sku, p.name, p.description, p.category, p.brand, p.attributes, p.images,
	p.status, p.price_currency, p.price_amount, p.version, p.created_at, p.updated_at,
	i.on_hand, i.reserved, i.version`

const productFrom = ` FROM products p JOIN inventory i ON i.product_id = p.id`

func scanProduct(row pgx.Row) (catalog.Product, error) {
	var (
		p                          catalog.Product
		onHand, reserved, stockVer int64
	)
	err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.Description, &p.Category, &p.Brand, &p.Attributes, &p.Images,
		&p.Status, &p.Price.Currency, &p.Price.Amount, &p.Version, &p.CreatedAt, &p.UpdatedAt,
		&onHand, &reserved, &stockVer)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.Stock = catalog.NewStock(onHand, reserved, stockVer)
	return p, err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func productOf(ctx context.Context, q querier, id string) (catalog.Product, error) {
	p, err := scanProduct(q.QueryRow(ctx, `SELECT `+productColumns+productFrom+` WHERE p.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	return p, err
}

// Product returns the product with the given ID.
func (s *Store) Product(ctx context.Context, id string) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	var p catalog.Product
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		p, err = productOf(ctx, c, id)
		return err
	})
	return p, storeError(ctx, err)
}

// ProductBySKU returns the product with the given SKU, in any case.
func (s *Store) ProductBySKU(ctx context.Context, sku string) (catalog.Product, error) {
	var p catalog.Product
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		p, err = scanProduct(c.QueryRow(ctx, `SELECT `+productColumns+productFrom+` WHERE lower(p.sku) = lower($1)`, sku))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	return p, storeError(ctx, err)
}

// writeError turns constraint violations of a product write into client errors.
func writeError(err error, in catalog.ProductInput) error {
	switch sqlState(err) {
	case uniqueViolation:
		return &catalog.Error{Code: catalog.CodeConflict, Message: "another product already has this SKU",
			Fields: []catalog.FieldError{{Field: "sku", Problem: fmt.Sprintf("%q is already used (SKUs are unique regardless of case)", in.SKU)}}, Err: err}
	case foreignKeyViolation:
		return &catalog.Error{Code: catalog.CodeInvalid, Message: "the category does not exist",
			Fields: []catalog.FieldError{{Field: "category", Problem: fmt.Sprintf("category %q does not exist", in.Category)}}, Err: err}
	}
	return err
}

// CreateProduct adds a product with no stock.
func (s *Store) CreateProduct(ctx context.Context, in catalog.ProductInput) (catalog.Product, error) {
	var p catalog.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		id := catalog.NewID()
		if err := insertProduct(ctx, tx, id, in, 0, s.clock.Now()); err != nil {
			return err
		}
		var err error
		p, err = productOf(ctx, tx, id)
		return err
	})
	return p, err
}

func insertProduct(ctx context.Context, tx pgx.Tx, id string, in catalog.ProductInput, onHand int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO products (id, sku, name, name_key, description, category, brand,
		attributes, images, status, price_currency, price_amount, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13)`,
		id, in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		in.Attributes, in.Images, in.Status, in.Price.Currency, in.Price.Amount, now)
	if err != nil {
		return writeError(err, in)
	}
	if _, err = tx.Exec(ctx, `INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at) VALUES ($1, $2, 0, 1, $3)`,
		id, onHand, now); err != nil {
		return err
	}
	_, err = recordPrice(ctx, tx, id, in.Price, now, &now, catalog.ActorOf(ctx), now)
	return err
}

// checkVersion explains why a conditional update of id matched no row.
func checkVersion(ctx context.Context, tx pgx.Tx, id string, ifVersion int64) error {
	var v int64
	err := tx.QueryRow(ctx, `SELECT version FROM products WHERE id = $1`, id).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return catalog.ErrProductNotFound
	case err != nil:
		return err
	}
	return catalog.StaleVersion(v, ifVersion)
}

// ReplaceProduct overwrites every writable field of a product.
func (s *Store) ReplaceProduct(ctx context.Context, id string, in catalog.ProductInput, ifVersion int64) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	var p catalog.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var before catalog.Money
		if err := tx.QueryRow(ctx, `SELECT price_currency, price_amount FROM products WHERE id = $1 FOR UPDATE`, id).Scan(&before.Currency, &before.Amount); errors.Is(err, pgx.ErrNoRows) {
			return catalog.ErrProductNotFound
		} else if err != nil {
			return err
		}
		now := s.clock.Now()
		tag, err := tx.Exec(ctx, `UPDATE products SET sku = $2, name = $3, name_key = $4, description = $5,
			category = $6, brand = $7, attributes = $8, images = $9, status = $10, price_currency = $11,
			price_amount = $12, version = version + 1, updated_at = $13
			WHERE id = $1 AND ($14 = 0 OR version = $14)`,
			id, in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
			in.Attributes, in.Images, in.Status, in.Price.Currency, in.Price.Amount, now, ifVersion)
		if err != nil {
			return writeError(err, in)
		}
		if tag.RowsAffected() == 0 {
			return checkVersion(ctx, tx, id, ifVersion)
		}
		if p, err = productOf(ctx, tx, id); err != nil {
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
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	var p catalog.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE products SET status = $2, version = version + 1, updated_at = $3
			WHERE id = $1 AND ($4 = 0 OR version = $4)`, id, status, s.clock.Now(), ifVersion)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return checkVersion(ctx, tx, id, ifVersion)
		}
		p, err = productOf(ctx, tx, id)
		return err
	})
	return p, err
}

// DeleteProduct removes a product with no stock, keeping its movements and price history and
// recording what it was in deleted_products. It locks the inventory row before the product
// row, the order every path follows (see inventory.go).
func (s *Store) DeleteProduct(ctx context.Context, id string, ifVersion int64) error {
	if !catalog.ValidID(id) {
		return catalog.ErrProductNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var onHand, reserved int64
		err := tx.QueryRow(ctx, `SELECT on_hand, reserved FROM inventory WHERE product_id = $1 FOR UPDATE`, id).Scan(&onHand, &reserved)
		if errors.Is(err, pgx.ErrNoRows) {
			return catalog.ErrProductNotFound
		} else if err != nil {
			return err
		}
		var version int64
		var sku, name string
		err = tx.QueryRow(ctx, `SELECT version, sku, name FROM products WHERE id = $1 FOR UPDATE`, id).Scan(&version, &sku, &name)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return catalog.ErrProductNotFound
		case err != nil:
			return err
		case ifVersion != 0 && version != ifVersion:
			return catalog.StaleVersion(version, ifVersion)
		}
		if err := catalog.CanDelete(onHand, reserved); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `WITH gone AS (DELETE FROM products WHERE id = $1 RETURNING id)
			INSERT INTO deleted_products (id, sku, name, actor, deleted_at) SELECT id, $2, $3, $4, $5 FROM gone
			ON CONFLICT (id) DO NOTHING`, id, sku, name, catalog.ActorOf(ctx), s.clock.Now())
		return err
	})
}

// Import adds products with their initial stock, streaming each batch with COPY.
func (s *Store) Import(ctx context.Context, products []catalog.NewProduct) error {
	const batch = 5000
	for start := 0; start < len(products); start += batch {
		chunk := products[start:min(start+batch, len(products))]
		err := s.tx(ctx, func(tx pgx.Tx) error {
			now := s.clock.Now()
			prows := make([][]any, len(chunk))
			irows := make([][]any, len(chunk))
			for i, np := range chunk {
				created := now
				if !np.CreatedAt.IsZero() {
					created = np.CreatedAt.UTC().Truncate(time.Microsecond)
				}
				id := catalog.NewID()
				in := np.ProductInput
				prows[i] = []any{id, in.SKU, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
					in.Attributes, in.Images, string(in.Status), in.Price.Currency, in.Price.Amount, int64(1), created, created}
				irows[i] = []any{id, np.OnHand, int64(0), int64(1), created}
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"products"},
				[]string{"id", "sku", "name", "name_key", "description", "category", "brand", "attributes", "images",
					"status", "price_currency", "price_amount", "version", "created_at", "updated_at"},
				pgx.CopyFromRows(prows))
			if err != nil {
				return fmt.Errorf("import products %d-%d: %w", start, start+len(chunk)-1, importError(err))
			}
			if _, err = tx.CopyFrom(ctx, pgx.Identifier{"inventory"},
				[]string{"product_id", "on_hand", "reserved", "version", "updated_at"}, pgx.CopyFromRows(irows)); err != nil {
				return err
			}
			actor := catalog.ActorOf(ctx)
			var mrows [][]any
			hrows := make([][]any, len(chunk))
			for i, np := range chunk {
				id, created := prows[i][0], prows[i][13]
				if np.OnHand > 0 {
					mrows = append(mrows, []any{id, "initial", np.OnHand, int64(0), np.OnHand, int64(0), "opening balance", actor, created})
				}
				hrows[i] = []any{id, np.Price.Currency, np.Price.Amount, created, created, actor, created}
			}
			if _, err = tx.CopyFrom(ctx, pgx.Identifier{"stock_movements"},
				[]string{"product_id", "kind", "on_hand_delta", "reserved_delta", "on_hand", "reserved", "reason", "actor", "at"}, pgx.CopyFromRows(mrows)); err != nil {
				return err
			}
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"price_history"},
				[]string{"product_id", "currency", "amount", "valid_from", "applied_at", "actor", "created_at"}, pgx.CopyFromRows(hrows))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func importError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (pg.Code == uniqueViolation || pg.Code == foreignKeyViolation) {
		return catalog.Wrap(catalog.CodeConflict, err, "import clashes with existing data: "+pg.Detail)
	}
	return err
}

// Empty reports whether there are no products and no categories.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var any bool
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM categories)`).Scan(&any)
	})
	return !any, storeError(ctx, err)
}

// ProductVersions returns a product's version and stock version, for conditional GETs.
func (s *Store) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	if !catalog.ValidID(id) {
		return 0, 0, catalog.ErrProductNotFound
	}
	var v, sv int64
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT p.version, i.version FROM products p JOIN inventory i ON i.product_id = p.id WHERE p.id = $1`, id).Scan(&v, &sv)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, catalog.ErrProductNotFound
	}
	return v, sv, storeError(ctx, err)
}
