package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// productColumns are a product's own fields (alias p), without its variants.
const productColumns = `p.id::text, p.name, p.description, p.category, p.brand, p.attributes, p.media, p.options,
	p.status, p.version, p.created_at, p.updated_at`

func scanProductInto(p *catalog.Product, dest ...any) []any {
	return append([]any{&p.ID, &p.Name, &p.Description, &p.Category, &p.Brand, &p.Attributes, &p.Media, &p.Options,
		&p.Status, &p.Version, &p.CreatedAt, &p.UpdatedAt}, dest...)
}

func fixProduct(p *catalog.Product) {
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if p.Attributes == nil {
		p.Attributes = catalog.Attributes{}
	}
	if p.Media == nil {
		p.Media = []catalog.Media{}
	}
	if p.Options == nil {
		p.Options = []catalog.Option{}
	}
	if p.PriceRanges == nil {
		p.PriceRanges = []catalog.PriceRange{}
	}
}

// variantColumns are a variant with its stock and its current prices (alias v, inventory i):
// one row per variant, prices aggregated, so a product's variants are one query.
const variantColumns = `v.id::text, v.product_id::text, v.sku, v.options, v.position, v.barcode, v.weight_grams,
	v.attributes, v.image, v.purchase_limit, v.created_at, v.updated_at, i.on_hand, i.reserved, i.version,
	coalesce((SELECT jsonb_agg(jsonb_build_object('currency', vp.currency, 'amount', vp.amount,
		'compare_at', vp.compare_at, 'prior_price', vp.prior_amount, 'sale_ends_at', vp.window_ends_at) ORDER BY vp.currency)
		FROM variant_prices vp WHERE vp.variant_id = v.id), '[]')`

const variantFrom = ` FROM variants v JOIN inventory i ON i.variant_id = v.id`

func scanVariant(row pgx.Row, extra ...any) (catalog.Variant, error) {
	var (
		v                          catalog.Variant
		onHand, reserved, stockVer int64
		prices                     []byte
	)
	dest := []any{&v.ID, &v.ProductID, &v.SKU, &v.Options, &v.Position, &v.Barcode, &v.WeightGrams,
		&v.Attributes, &v.Image, &v.PurchaseLimit, &v.CreatedAt, &v.UpdatedAt, &onHand, &reserved, &stockVer, &prices}
	err := row.Scan(append(dest, extra...)...)
	if err != nil {
		return v, err
	}
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	v.Stock = catalog.NewStock(onHand, reserved, stockVer)
	if v.Options == nil {
		v.Options = map[string]string{}
	}
	if v.Attributes == nil {
		v.Attributes = catalog.Attributes{}
	}
	if err := json.Unmarshal(prices, &v.Prices); err != nil {
		return v, fmt.Errorf("decode prices of variant %s: %w", v.ID, err)
	}
	if v.Prices == nil {
		v.Prices = []catalog.Price{}
	}
	for i := range v.Prices {
		if t := v.Prices[i].SaleEndsAt; t != nil {
			u := t.UTC()
			v.Prices[i].SaleEndsAt = &u
		}
	}
	return v, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// productRow reads a product's own fields; lock takes its row FOR UPDATE (the version every
// write to it or its variants moves).
func productRow(ctx context.Context, q querier, id string, lock bool) (catalog.Product, error) {
	var p catalog.Product
	query := `SELECT ` + productColumns + ` FROM products p WHERE p.id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := q.QueryRow(ctx, query, id).Scan(scanProductInto(&p)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, catalog.ErrProductNotFound
	}
	fixProduct(&p)
	return p, err
}

// lockProduct locks a product's row and checks the caller's version.
func lockProduct(ctx context.Context, q querier, id string, ifVersion int64) (catalog.Product, error) {
	p, err := productRow(ctx, q, id, true)
	if err != nil {
		return p, err
	}
	if ifVersion != 0 && p.Version != ifVersion {
		return p, catalog.StaleVersion(p.Version, ifVersion)
	}
	return p, nil
}

// variantsOf reads the variants of a product, in position order.
func variantsOf(ctx context.Context, q querier, productID string) ([]catalog.Variant, error) {
	rows, err := q.Query(ctx, `SELECT `+variantColumns+variantFrom+` WHERE v.product_id = $1 ORDER BY v.position`, productID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Variant, error) { return scanVariant(r) })
}

// withVariants completes p with its variants and the figures derived from them.
func withVariants(ctx context.Context, q querier, p catalog.Product) (catalog.Product, error) {
	vs, err := variantsOf(ctx, q, p.ID)
	if err != nil {
		return p, err
	}
	p.Variants = vs
	p.StockVersion = 0
	for i := range p.Variants {
		p.Variants[i].ProductVersion = p.Version
		p.StockVersion += p.Variants[i].Stock.Version
	}
	p.Summarize()
	return p, nil
}

// productOf reads a product with its variants: two queries.
func productOf(ctx context.Context, q querier, id string) (catalog.Product, error) {
	p, err := productRow(ctx, q, id, false)
	if err != nil {
		return p, err
	}
	return withVariants(ctx, q, p)
}

// variantPriceColumns are a variant with its stock, one of its prices (NULLs when it has
// none) and its product's version: a row per variant and currency, in binary form, which costs
// less to build and read than aggregating the prices as JSON.
const variantPriceColumns = `v.id::text, v.product_id::text, v.sku, v.options, v.position, v.barcode, v.weight_grams,
	v.attributes, v.image, v.purchase_limit, v.created_at, v.updated_at, i.on_hand, i.reserved, i.version,
	vp.currency, vp.amount, vp.compare_at, vp.prior_amount, vp.window_ends_at, p.version`

// maxPrices bounds a variant's prices (catalog.MaxPricesPerVariant). As a LIMIT it keeps the
// planner from flattening the prices' subquery into a join it may answer with a scan of every
// price (it did, on fresh statistics): each variant's prices are one probe of the primary key.
var maxPrices = strconv.Itoa(catalog.MaxPricesPerVariant)

// scanVariantPrices reads variantPriceColumns rows, ordered by variant, into variants, and the
// product version they read.
func scanVariantPrices(rows pgx.Rows) ([]catalog.Variant, int64, error) {
	defer rows.Close()
	var (
		out     []catalog.Variant
		version int64
	)
	for rows.Next() {
		var (
			v                          catalog.Variant
			onHand, reserved, stockVer int64
			currency                   *string
			amount                     *int64
			pr                         catalog.Price
		)
		if err := rows.Scan(&v.ID, &v.ProductID, &v.SKU, &v.Options, &v.Position, &v.Barcode, &v.WeightGrams,
			&v.Attributes, &v.Image, &v.PurchaseLimit, &v.CreatedAt, &v.UpdatedAt, &onHand, &reserved, &stockVer,
			&currency, &amount, &pr.CompareAt, &pr.PriorPrice, &pr.SaleEndsAt, &version); err != nil {
			return nil, 0, err
		}
		if n := len(out); n == 0 || out[n-1].ID != v.ID {
			v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
			v.Stock = catalog.NewStock(onHand, reserved, stockVer)
			if v.Options == nil {
				v.Options = map[string]string{}
			}
			if v.Attributes == nil {
				v.Attributes = catalog.Attributes{}
			}
			v.Prices = []catalog.Price{}
			out = append(out, v)
		}
		if currency != nil && amount != nil {
			pr.Currency, pr.Amount, pr.SaleEndsAt = *currency, *amount, utcPtr(pr.SaleEndsAt)
			last := &out[len(out)-1]
			last.Prices = append(last.Prices, pr)
		}
	}
	return out, version, rows.Err()
}

// readProduct runs query (productByID or productBySKU; $1 is arg) and returns the product with
// its variants, their stock and prices: one statement (productReadSQL), so one snapshot (no
// write can come between the product and its variants, and nothing to check or retry). Each of
// the four tables is read by one range of its product_id index, not the variants' stock and
// prices by one primary-key probe each: 16 buffers for a product of four variants instead of
// 40 (EXPLAIN (ANALYZE, BUFFERS) at 100k, docs/performance.md). The rows come in no promised
// order: the kind column says what each is, and they are put together here.
func readProduct(ctx context.Context, c *pgxpool.Conn, query string, arg any) (catalog.Product, error) {
	var p catalog.Product
	rows, err := c.Query(ctx, query, arg)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	var (
		kind   int
		vid    *string
		found  bool
		v      catalog.Variant
		stock  [3]int64 // on hand, reserved, version
		pr     catalog.Price
		cur    *string
		amt    *int64
		stocks []variantStock
		prices []variantPrice
	)
	dest := make([]any, 0, 2+productReadCols+variantReadCols+3+5)
	dest = append(dest, &kind, &vid)
	dest = append(dest, scanProductInto(&p)...)
	dest = append(dest, &v.SKU, &v.Options, &v.Position, &v.Barcode, &v.WeightGrams, &v.Attributes, &v.Image,
		&v.PurchaseLimit, &v.CreatedAt, &v.UpdatedAt)
	dest = append(dest, &stock[0], &stock[1], &stock[2])
	dest = append(dest, &cur, &amt, &pr.CompareAt, &pr.PriorPrice, &pr.SaleEndsAt)
	// Each kind scans only its own columns: the others stay nil and are skipped.
	kindDest := func(k int) []any {
		d := make([]any, len(dest))
		d[0], d[1] = dest[0], dest[1]
		lo, hi := 2, 2+productReadCols
		switch k {
		case 1:
			lo, hi = hi, hi+variantReadCols
		case 2:
			lo, hi = 2+productReadCols+variantReadCols, 2+productReadCols+variantReadCols+3
		case 3:
			lo, hi = 2+productReadCols+variantReadCols+3, len(dest)
		}
		copy(d[lo:hi], dest[lo:hi])
		return d
	}
	var byKind [4][]any
	for k := range byKind {
		byKind[k] = kindDest(k)
	}
	for rows.Next() {
		k, err := rowKind(rows.RawValues()[0])
		if err != nil {
			return p, err
		}
		v, pr, cur, amt, vid = catalog.Variant{}, catalog.Price{}, nil, nil, nil
		if err := rows.Scan(byKind[k]...); err != nil {
			return p, err
		}
		switch k {
		case 0:
			found = true
		case 1:
			v.ID = *vid
			v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
			if v.Options == nil {
				v.Options = map[string]string{}
			}
			if v.Attributes == nil {
				v.Attributes = catalog.Attributes{}
			}
			v.Prices = []catalog.Price{}
			p.Variants = append(p.Variants, v)
		case 2:
			stocks = append(stocks, variantStock{id: *vid, stock: catalog.NewStock(stock[0], stock[1], stock[2])})
		case 3:
			if cur != nil && amt != nil {
				pr.Currency, pr.Amount, pr.SaleEndsAt = *cur, *amt, utcPtr(pr.SaleEndsAt)
				prices = append(prices, variantPrice{id: *vid, price: pr})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	if !found {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	fixProduct(&p)
	assembleVariants(&p, stocks, prices)
	p.Summarize()
	return p, nil
}

// readProduct's statements, built once rather than concatenated (2 kB) on every read.
var (
	productByID  = productReadSQL(``, `$1::uuid`)
	productBySKU = productReadSQL(`WITH k AS MATERIALIZED (SELECT (SELECT product_id FROM variants WHERE lower(sku) = lower($1)) AS id) `,
		`(SELECT id FROM k)`)
)

// Column counts of productReadSQL's product and variant parts.
const productReadCols, variantReadCols = 12, 10

type variantStock struct {
	id    string
	stock catalog.Stock
}

type variantPrice struct {
	id    string
	price catalog.Price
}

// rowKind reads productReadSQL's first column before the row is scanned, so only that kind's
// columns are decoded: an int4, in binary form as pgx asks for it, or as text.
func rowKind(raw []byte) (int, error) {
	switch {
	case len(raw) == 4 && raw[0] == 0 && raw[1] == 0 && raw[2] == 0 && raw[3] <= 3:
		return int(raw[3]), nil
	case len(raw) == 1 && raw[0] >= '0' && raw[0] <= '3':
		return int(raw[0] - '0'), nil
	}
	return 0, fmt.Errorf("product read: unexpected row kind %x", raw)
}

// assembleVariants puts p's variants in position order and gives each its stock and its prices
// in currency order, the product's version, and p the sum of their stock versions.
func assembleVariants(p *catalog.Product, stocks []variantStock, prices []variantPrice) {
	slices.SortFunc(p.Variants, func(a, b catalog.Variant) int { return cmp.Compare(a.Position, b.Position) })
	at := make(map[string]int, len(p.Variants))
	for i := range p.Variants {
		at[p.Variants[i].ID] = i
		p.Variants[i].ProductID, p.Variants[i].ProductVersion = p.ID, p.Version
	}
	for _, s := range stocks {
		if i, ok := at[s.id]; ok {
			p.Variants[i].Stock = s.stock
			p.StockVersion += s.stock.Version
		}
	}
	slices.SortStableFunc(prices, func(a, b variantPrice) int { return strings.Compare(a.price.Currency, b.price.Currency) })
	for _, pr := range prices {
		if i, ok := at[pr.id]; ok {
			p.Variants[i].Prices = append(p.Variants[i].Prices, pr.price)
		}
	}
}

// productReadSQL is readProduct's statement for the product key names, after with: the
// product's row (kind 0), its variants (1), their stock (2) and their prices (3), each found
// through its table's product_id index. A key that costs a lookup (a SKU) is computed once, in
// a materialized CTE given as with; a parameter is named in each part as it is: the CTE and its
// four InitPlans cost 10-20% of a read by ID in PostgreSQL CPU (81-96 -> 73-76 us at 100k,
// docs/performance.md). The NULLs are typed: a UNION of more than two parts resolves its
// column types pairwise, and two untyped NULLs would make text.
func productReadSQL(with, key string) string {
	return with + `SELECT 0, NULL::text, ` + productColumns + `, ` + variantNulls + `, ` + stockNulls + `, ` + priceNulls + `
			FROM products p WHERE p.id = ` + key + `
		UNION ALL
		SELECT 1, v.id::text, ` + productNulls + `, v.sku, v.options, v.position, v.barcode, v.weight_grams,
			v.attributes, v.image, v.purchase_limit, v.created_at, v.updated_at, ` + stockNulls + `, ` + priceNulls + `
			FROM variants v WHERE v.product_id = ` + key + `
		UNION ALL
		SELECT 2, i.variant_id::text, ` + productNulls + `, ` + variantNulls + `, i.on_hand, i.reserved, i.version, ` + priceNulls + `
			FROM inventory i WHERE i.product_id = ` + key + `
		UNION ALL
		SELECT 3, vp.variant_id::text, ` + productNulls + `, ` + variantNulls + `, ` + stockNulls + `,
			vp.currency, vp.amount, vp.compare_at, vp.prior_amount, vp.window_ends_at
			FROM variant_prices vp WHERE vp.product_id = ` + key
}

const (
	productNulls = `NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb, NULL::jsonb,
		NULL::text, NULL::bigint, NULL::timestamptz, NULL::timestamptz`
	variantNulls = `NULL::text, NULL::jsonb, NULL::int, NULL::text, NULL::bigint, NULL::jsonb, NULL::text, NULL::bigint,
		NULL::timestamptz, NULL::timestamptz`
	stockNulls = `NULL::bigint, NULL::bigint, NULL::bigint`
	priceNulls = `NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::timestamptz`
)

// Product returns the product with the given ID and all its variants.
func (s *Store) Product(ctx context.Context, id string) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	var p catalog.Product
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		p, err = readProduct(ctx, c, productByID, id)
		return err
	})
	return p, storeError(ctx, err)
}

// VariantBySKU returns the variant with the given SKU, in any case, and its product.
func (s *Store) VariantBySKU(ctx context.Context, sku string) (catalog.Product, catalog.Variant, error) {
	var (
		p catalog.Product
		v catalog.Variant
	)
	if !catalog.ValidSKU(sku) {
		return p, v, catalog.ErrVariantNotFound
	}
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		p, err = readProduct(ctx, c, productBySKU, sku)
		if errors.Is(err, catalog.ErrProductNotFound) {
			return catalog.ErrVariantNotFound
		}
		return err
	})
	if err != nil {
		return p, v, storeError(ctx, err)
	}
	for _, x := range p.Variants {
		if strings.EqualFold(x.SKU, sku) {
			return p, x, nil
		}
	}
	return p, v, catalog.ErrVariantNotFound
}

// Variant returns one variant of a product.
func (s *Store) Variant(ctx context.Context, productID, variantID string) (catalog.Variant, error) {
	if !catalog.ValidID(productID) || !catalog.ValidID(variantID) {
		return catalog.Variant{}, catalog.ErrVariantNotFound
	}
	var v catalog.Variant
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		var pv int64
		v, err = scanVariant(c.QueryRow(ctx, `SELECT `+variantColumns+`, p.version`+variantFrom+` JOIN products p ON p.id = v.product_id
			WHERE v.id = $1 AND v.product_id = $2`, variantID, productID), &pv)
		v.ProductVersion = pv
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return v, catalog.ErrVariantNotFound
	}
	return v, storeError(ctx, err)
}

// writeError turns constraint violations of a product or variant write into client errors.
// SKUs are checked before inserting (skuTaken); a violation here lost a race with another
// write.
func writeError(err error, category string) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	switch {
	case pg.Code == uniqueViolation && pg.ConstraintName == "variants_combination":
		return &catalog.Error{Code: catalog.CodeConflict, Message: "another variant of this product has these option values",
			Fields: []catalog.FieldError{{Field: "options", Problem: "each combination of option values appears at most once per product"}}, Err: err}
	case pg.Code == uniqueViolation:
		return &catalog.Error{Code: catalog.CodeConflict, Message: "another variant already has this SKU",
			Fields: []catalog.FieldError{{Field: "sku", Problem: "is already used (SKUs are unique across the catalog regardless of case)"}}, Err: err}
	case pg.Code == foreignKeyViolation && pg.ConstraintName == "products_category_fkey":
		return &catalog.Error{Code: catalog.CodeInvalid, Message: "the category does not exist",
			Fields: []catalog.FieldError{{Field: "category", Problem: fmt.Sprintf("category %q does not exist", category)}}, Err: err}
	}
	return err
}

// skuTaken names, for each SKU of skus (by field) already used by a variant other than except,
// the problem, so a duplicate is a 409 naming the field rather than a constraint violation.
func skuTaken(ctx context.Context, q querier, fields map[string]string, except string) error {
	if len(fields) == 0 {
		return nil
	}
	lower := make([]string, 0, len(fields))
	for _, sku := range fields {
		lower = append(lower, strings.ToLower(sku))
	}
	rows, err := q.Query(ctx, `SELECT lower(sku) FROM variants WHERE lower(sku) = ANY($1) AND ($2 = '' OR id::text <> $2)`, lower, except)
	if err != nil {
		return err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(taken) == 0 {
		return err
	}
	var fe []catalog.FieldError
	for field, sku := range fields {
		for _, t := range taken {
			if t == strings.ToLower(sku) {
				fe = append(fe, catalog.FieldError{Field: field, Problem: fmt.Sprintf("%q is already used (SKUs are unique across the catalog regardless of case)", sku)})
			}
		}
	}
	sortFields(fe)
	return &catalog.Error{Code: catalog.CodeConflict, Message: "another variant already has this SKU", Fields: fe}
}

func sortFields(fe []catalog.FieldError) {
	for i := 1; i < len(fe); i++ {
		for j := i; j > 0 && fe[j].Field < fe[j-1].Field; j-- {
			fe[j], fe[j-1] = fe[j-1], fe[j]
		}
	}
}

// CreateProduct adds a product with its variants, their prices and initial stock: one
// statement per table, whatever the number of variants.
func (s *Store) CreateProduct(ctx context.Context, in catalog.ProductInput) (catalog.Product, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return catalog.Product{}, err
	}
	var p catalog.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkProductAttributes(ctx, tx, in); err != nil {
			return err
		}
		fields := map[string]string{}
		for i, v := range in.Variants {
			fields[fmt.Sprintf("variants[%d].sku", i)] = v.SKU
		}
		if err := skuTaken(ctx, tx, fields, ""); err != nil {
			return err
		}
		id := catalog.NewID()
		now := s.clock.Now()
		if err := insertProduct(ctx, tx, id, in, now, catalog.ActorOf(ctx)); err != nil {
			return err
		}
		var err error
		p, err = productOf(ctx, tx, id)
		return s.emitAfter(ctx, tx, err, catalog.EventProductCreated, p)
	})
	return p, err
}

// checkProductAttributes validates the attributes of a product and its variants against the
// definitions, read (and share-locked, so none is redefined under the write) in tx.
func checkProductAttributes(ctx context.Context, tx pgx.Tx, in catalog.ProductInput) error {
	sets := []catalog.Attributes{in.Attributes}
	for _, v := range in.Variants {
		sets = append(sets, v.Attributes)
	}
	defs, err := loadDefinitions(ctx, tx, sets...)
	if err != nil {
		return err
	}
	var p catalog.Problems
	catalog.CheckAttributes("attributes", in.Attributes, defs, &p)
	for i, v := range in.Variants {
		catalog.CheckAttributes(fmt.Sprintf("variants[%d].attributes", i), v.Attributes, defs, &p)
	}
	return p.Err()
}

// newProduct is a product to insert, with its ID and creation time; insertProducts fills
// vids with its variants' IDs, in order.
type newProduct struct {
	id      string
	in      catalog.ProductInput
	created time.Time
	vids    []string
}

// insertProduct writes a new product with its variants, stock, prices and their history.
func insertProduct(ctx context.Context, tx pgx.Tx, id string, in catalog.ProductInput, now time.Time, actor string) error {
	return insertProducts(ctx, tx, []newProduct{{id: id, in: in, created: now}}, actor)
}

// insertProducts writes new products with their variants, stock, prices, price history and
// list summaries: one statement per table, whatever the number of products and variants.
func insertProducts(ctx context.Context, tx pgx.Tx, ps []newProduct, actor string) error {
	n := len(ps)
	ids, names, keys, descs, cats, brands, attrs, media, opts, statuses := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	counts := make([]int32, n)
	created := make([]time.Time, n)
	var vs []newVariant
	for i, p := range ps {
		in := p.in
		for j, dst := range []*string{&attrs[i], &media[i], &opts[i]} {
			b, err := json.Marshal([]any{in.Attributes, in.Media, in.Options}[j])
			if err != nil {
				return err
			}
			*dst = string(b)
		}
		ids[i], names[i], keys[i], descs[i], cats[i], brands[i], statuses[i] = p.id, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand, string(in.Status)
		counts[i], created[i] = int32(len(in.Variants)), p.created
		ps[i].vids = make([]string, len(in.Variants))
		for j, v := range in.Variants {
			ps[i].vids[j] = catalog.NewID()
			vs = append(vs, newVariant{id: ps[i].vids[j], pid: p.id, in: v, pos: j, at: p.created})
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO products (id, name, name_key, description, category, brand,
			attributes, media, options, status, version, variant_count, created_at, updated_at)
		SELECT u.id, u.name, u.key, u.descr, u.cat, u.brand, u.attrs::jsonb, u.media::jsonb, u.opts::jsonb, u.status, 1, u.n, u.at, u.at
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[], $12::timestamptz[])
			AS u (id, name, key, descr, cat, brand, attrs, media, opts, status, n, at)`,
		ids, names, keys, descs, cats, brands, attrs, media, opts, statuses, counts, created); err != nil {
		cat := ""
		if n == 1 {
			cat = ps[0].in.Category
		}
		return writeError(err, cat)
	}
	if err := insertVariants(ctx, tx, vs, actor); err != nil {
		return err
	}
	// New products: their summaries are the aggregate of their own new prices, taken from the
	// batch in hand rather than read back from variant_prices.
	var sPID, sCur []string
	var sMin, sMax []int64
	for _, p := range ps {
		first := len(sPID)
		for _, v := range p.in.Variants {
		price:
			for _, pr := range v.Prices {
				for k := first; k < len(sPID); k++ {
					if sCur[k] == pr.Currency {
						sMin[k], sMax[k] = min(sMin[k], pr.Amount), max(sMax[k], pr.Amount)
						continue price
					}
				}
				sPID, sCur, sMin, sMax = append(sPID, p.id), append(sCur, pr.Currency), append(sMin, pr.Amount), append(sMax, pr.Amount)
			}
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO product_prices (product_id, currency, min_amount, max_amount)
		SELECT u.pid, u.cur, u.lo, u.hi FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[]) AS u (pid, cur, lo, hi)`,
		sPID, sCur, sMin, sMax)
	return err
}

// newVariant is a variant to insert: its ID, product, position and time.
type newVariant struct {
	id, pid string
	in      catalog.VariantInput
	pos     int
	at      time.Time
}

// insertVariants writes variants with their stock, prices, price history and initial-stock
// movements, one statement per table. Product summaries are the caller's to bring up to date.
func insertVariants(ctx context.Context, tx pgx.Tx, vs []newVariant, actor string) error {
	n := len(vs)
	ids, pids, skus, opts, attrs, barcodes, images := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	pos := make([]int32, n)
	// Nullable amounts travel as -1 (weights and compare-at prices are never negative: CHECK
	// constraints and catalog validation), so every array has a plain element type and pgx
	// encodes it without reflection.
	weights := make([]int64, n)
	limits, stock := make([]int64, n), make([]int64, n)
	ats := make([]time.Time, n)
	var pvID, pPID, pCur []string
	var pAmt []int64
	var pCmp []int64
	var pAt []time.Time
	for i, nv := range vs {
		v := nv.in
		ob, err := json.Marshal(v.Options)
		if err != nil {
			return err
		}
		ab, err := json.Marshal(v.Attributes)
		if err != nil {
			return err
		}
		ids[i], pids[i], skus[i], opts[i], attrs[i], barcodes[i], images[i] = nv.id, nv.pid, v.SKU, string(ob), string(ab), v.Barcode, v.Image
		pos[i], weights[i], limits[i], stock[i], ats[i] = int32(nv.pos), orNone(v.WeightGrams), v.PurchaseLimit, v.InitialStock, nv.at
		for _, pr := range v.Prices {
			pvID, pPID, pCur, pAmt, pCmp, pAt = append(pvID, nv.id), append(pPID, nv.pid), append(pCur, pr.Currency), append(pAmt, pr.Amount), append(pCmp, orNone(pr.CompareAt)), append(pAt, nv.at)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO variants (id, product_id, sku, options, position, barcode, weight_grams, attributes,
			image, purchase_limit, created_at, updated_at)
		SELECT u.id, u.pid, u.sku, u.opts::jsonb, u.pos, u.barcode, nullif(u.weight, -1), u.attrs::jsonb, u.image, u.lim, u.at, u.at
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::timestamptz[])
			AS u (id, pid, sku, opts, pos, barcode, weight, attrs, image, lim, at)`,
		ids, pids, skus, opts, pos, barcodes, weights, attrs, images, limits, ats)
	if err != nil {
		return writeError(err, "")
	}
	if _, err := tx.Exec(ctx, `WITH inv AS (
			INSERT INTO inventory (variant_id, product_id, on_hand, reserved, version, updated_at)
			SELECT u.id, u.pid, u.qty, 0, 1, u.at FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::timestamptz[]) AS u (id, pid, qty, at)
		)
		INSERT INTO stock_movements (variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at)
		SELECT u.id, u.pid, u.sku, 'initial', u.qty, 0, u.qty, 0, 'opening balance', $6, u.at
		FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::timestamptz[], $5::text[]) AS u (id, pid, qty, at, sku) WHERE u.qty > 0`,
		ids, pids, stock, ats, skus, actor); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `WITH vp AS (
			INSERT INTO variant_prices (variant_id, currency, product_id, amount, compare_at)
			SELECT u.id, u.cur, u.pid, u.amt, nullif(u.cmp, -1) FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::bigint[]) AS u (id, pid, cur, amt, cmp)
		)
		INSERT INTO price_history (variant_id, product_id, kind, currency, amount, compare_at, valid_from, applied_at, actor, created_at)
		SELECT u.id, u.pid, 'set', u.cur, u.amt, nullif(u.cmp, -1), u.at, u.at, $7, u.at
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::timestamptz[]) AS u (id, pid, cur, amt, cmp, at)`,
		pvID, pPID, pCur, pAmt, pCmp, pAt, actor)
	return err
}

// orNone is a nullable amount as insertVariants passes it: -1 for none.
func orNone(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// refreshProductPrices recomputes a product's lowest and highest price in each of currencies
// from its variants' prices, each an index probe at either end of variant_prices_product, so
// the cost does not grow with the variant count.
func refreshProductPrices(ctx context.Context, q querier, pid string, currencies []string) error {
	if len(currencies) == 0 {
		return nil
	}
	_, err := q.Exec(ctx, `WITH r AS (
			SELECT c.cur,
				(SELECT amount FROM variant_prices WHERE product_id = $1 AND currency = c.cur ORDER BY amount LIMIT 1) AS lo,
				(SELECT amount FROM variant_prices WHERE product_id = $1 AND currency = c.cur ORDER BY amount DESC LIMIT 1) AS hi
			FROM unnest($2::text[]) AS c (cur)
		), del AS (
			DELETE FROM product_prices pp USING r WHERE pp.product_id = $1 AND pp.currency = r.cur AND r.lo IS NULL
		)
		INSERT INTO product_prices (product_id, currency, min_amount, max_amount)
		SELECT $1, r.cur, r.lo, r.hi FROM r WHERE r.lo IS NOT NULL
		ON CONFLICT (product_id, currency) DO UPDATE SET min_amount = excluded.min_amount, max_amount = excluded.max_amount
		WHERE (product_prices.min_amount, product_prices.max_amount) IS DISTINCT FROM (excluded.min_amount, excluded.max_amount)`,
		pid, currencies)
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

// ReplaceProduct overwrites the product's own fields; a change of options reconciles its
// variants.
func (s *Store) ReplaceProduct(ctx context.Context, id string, in catalog.ProductInput, ifVersion int64) (catalog.Product, error) {
	if !catalog.ValidID(id) {
		return catalog.Product{}, catalog.ErrProductNotFound
	}
	in.Normalize()
	if err := in.ValidateReplace(); err != nil {
		return catalog.Product{}, err
	}
	var p catalog.Product
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockProduct(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		if err := s.writeProduct(ctx, tx, cur, in); err != nil {
			return err
		}
		p, err = productOf(ctx, tx, id)
		return s.emitAfter(ctx, tx, err, catalog.EventProductUpdated, p)
	})
	return p, err
}

// writeProduct writes in over cur (whose row is locked): attributes checked against their
// definitions, variants reconciled with a change of options, variant images that no longer
// name a media refused.
func (s *Store) writeProduct(ctx context.Context, tx pgx.Tx, cur catalog.Product, in catalog.ProductInput) error {
	defs, err := loadDefinitions(ctx, tx, in.Attributes)
	if err != nil {
		return err
	}
	if err := catalog.ValidateAttributes("attributes", in.Attributes, defs); err != nil {
		return err
	}
	optionsChanged := !(catalog.ProductInput{Options: cur.Options}).Same(catalog.ProductInput{Options: in.Options})
	var change catalog.OptionChange
	if optionsChanged {
		vs, err := variantsOf(ctx, tx, cur.ID)
		if err != nil {
			return err
		}
		if change, err = catalog.ReconcileOptions(in.Options, vs); err != nil {
			return err
		}
	}
	if err := imagesStillListed(ctx, tx, cur.ID, in.Media); err != nil {
		return err
	}
	now := s.clock.Now()
	if _, err := tx.Exec(ctx, `UPDATE products SET name = $2, name_key = $3, description = $4, category = $5, brand = $6,
		attributes = $7, media = $8, options = $9, status = $10, version = version + 1, updated_at = $11 WHERE id = $1`,
		cur.ID, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		in.Attributes, in.Media, in.Options, in.Status, now); err != nil {
		return writeError(err, in.Category)
	}
	if len(change.Values) == 0 {
		return nil
	}
	vids, vals := make([]string, 0, len(change.Values)), make([]string, 0, len(change.Values))
	for vid, o := range change.Values {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		vids, vals = append(vids, vid), append(vals, string(b))
	}
	_, err = tx.Exec(ctx, `UPDATE variants v SET options = u.opts::jsonb, updated_at = $3
		FROM unnest($1::uuid[], $2::text[]) AS u (id, opts) WHERE v.id = u.id`, vids, vals, now)
	return writeError(err, "")
}

// imagesStillListed refuses media that drop an image a variant shows.
func imagesStillListed(ctx context.Context, q querier, pid string, media []catalog.Media) error {
	urls := make([]string, len(media))
	for i, m := range media {
		urls[i] = m.URL
	}
	var sku, image string
	err := q.QueryRow(ctx, `SELECT sku, image FROM variants WHERE product_id = $1 AND image <> '' AND NOT (image = ANY($2::text[])) LIMIT 1`, pid, urls).Scan(&sku, &image)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	return catalog.InvalidField("media", "must keep %s: variant %s shows it (change that variant's image first)", image, sku)
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
		return s.emitAfter(ctx, tx, err, catalog.EventProductUpdated, p)
	})
	return p, err
}

// DeleteProduct removes a product with no stock and its variants, keeping their movements and
// price history and recording what they were in deleted_products and deleted_variants. It
// locks the inventory rows (in variant-ID order) before the product row, the order every path
// follows (see inventory.go).
func (s *Store) DeleteProduct(ctx context.Context, id string, ifVersion int64) error {
	if !catalog.ValidID(id) {
		return catalog.ErrProductNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var onHand, reserved int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(on_hand), 0)::bigint, coalesce(sum(reserved), 0)::bigint FROM (
			SELECT on_hand, reserved FROM inventory WHERE product_id = $1 ORDER BY variant_id FOR UPDATE) i`, id).Scan(&onHand, &reserved); err != nil {
			return err
		}
		p, err := lockProduct(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		if err := catalog.CanDelete(onHand, reserved); err != nil {
			return err
		}
		now, actor := s.clock.Now(), catalog.ActorOf(ctx)
		if err := cancelScheduled(ctx, tx, `product_id = $1`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deleted_variants (id, product_id, sku, actor, deleted_at)
			SELECT id, product_id, sku, $2, $3 FROM variants WHERE product_id = $1 ON CONFLICT (id) DO NOTHING`, id, actor, now); err != nil {
			return err
		}
		var sku string
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT sku FROM variants WHERE product_id = $1 ORDER BY position LIMIT 1), '')`, id).Scan(&sku); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `WITH gone AS (DELETE FROM products WHERE id = $1 RETURNING id)
			INSERT INTO deleted_products (id, sku, name, actor, deleted_at) SELECT id, $2, $3, $4, $5 FROM gone
			ON CONFLICT (id) DO NOTHING`, id, sku, p.Name, actor, now)
		return s.emitAfter(ctx, tx, err, catalog.EventProductDeleted, catalog.Deleted{Subject: "products/" + id, Version: p.Version + 1})
	})
}

// Import adds products with their variants and initial stock, a batch per transaction, each
// batch a handful of statements.
func (s *Store) Import(ctx context.Context, products []catalog.NewProduct) error {
	const batch = 1000
	for start := 0; start < len(products); start += batch {
		chunk := products[start:min(start+batch, len(products))]
		err := s.tx(ctx, func(tx pgx.Tx) error {
			now, actor := s.clock.Now(), catalog.ActorOf(ctx)
			ps := make([]newProduct, len(chunk))
			var sets []catalog.Attributes
			for i, np := range chunk {
				in := np.ProductInput
				in.Normalize()
				if err := in.Validate(); err != nil {
					return fmt.Errorf("import product %d: %w", start+i, err)
				}
				created := now
				if !np.CreatedAt.IsZero() {
					created = np.CreatedAt.UTC().Truncate(time.Microsecond)
				}
				ps[i] = newProduct{id: catalog.NewID(), in: in, created: created}
				sets = append(sets, in.Attributes)
				for _, v := range in.Variants {
					sets = append(sets, v.Attributes)
				}
			}
			defs, err := loadDefinitions(ctx, tx, sets...)
			if err != nil {
				return err
			}
			for i, p := range ps {
				var pr catalog.Problems
				catalog.CheckAttributes("attributes", p.in.Attributes, defs, &pr)
				for j, v := range p.in.Variants {
					catalog.CheckAttributes(fmt.Sprintf("variants[%d].attributes", j), v.Attributes, defs, &pr)
				}
				if err := pr.Err(); err != nil {
					return fmt.Errorf("import product %d: %w", start+i, err)
				}
			}
			if err := insertProducts(ctx, tx, ps, actor); err != nil {
				return fmt.Errorf("import products %d-%d: %w", start, start+len(chunk)-1, importError(err))
			}
			return emitImported(ctx, tx, ps, now)
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

// ProductVersions returns a product's version and the sum of its variants' stock versions, for
// conditional GETs.
func (s *Store) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	if !catalog.ValidID(id) {
		return 0, 0, catalog.ErrProductNotFound
	}
	var v, sv int64
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT p.version, coalesce((SELECT sum(i.version) FROM inventory i WHERE i.product_id = p.id), 0)::bigint
			FROM products p WHERE p.id = $1`, id).Scan(&v, &sv)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, catalog.ErrProductNotFound
	}
	return v, sv, storeError(ctx, err)
}
