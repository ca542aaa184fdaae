package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// errDryRun rolls a dry run's transaction back: it only read (and share-locked definitions).
var errDryRun = errors.New("dry run")

// errUnchanged says an update line matches its product exactly: nothing is written.
var errUnchanged = errors.New("unchanged")

// beforeImportWrite, when set (by tests), runs between a set-based batch's lookups and its
// writes: where a concurrent writer can change what the lookups saw.
var beforeImportWrite func()

// importDigestsOff, when set (by tests), makes every update line go the full comparison path,
// so the digest path's results can be checked against it.
var importDigestsOff bool

// importProven, when set (by tests), is told how many lines of each batch their digests
// proved unchanged.
var importProven func(n int)

// setRefused carries a client error (a constraint) met by one of the batch's set-based
// statements, which cannot say which line caused it: the batch is redone line by line.
type setRefused struct{ err error }

func (e *setRefused) Error() string { return e.err.Error() }
func (e *setRefused) Unwrap() error { return e.err }

// refusedBySet marks err, from a set-based statement, as a line's fault when it is one.
func refusedBySet(err error) error {
	if err == nil {
		return nil
	}
	if e := importError(writeError(err, "")); catalog.ErrorCode(e) != catalog.CodeInternal {
		return &setRefused{err: e}
	}
	return err
}

// UpsertProducts creates or updates a batch of products by SKU in one transaction (see
// catalog.Importer). Lookups are one statement each for the whole batch (SKU owners,
// categories, attribute definitions, the updated products). A dry run stops there: the lines
// are checked in Go against what was read (catalog.PlanImportUpdate), nothing is written. A
// write is set-based: a statement per table for the batch's creates, and for its updates
// (importUpdates). When a set-based statement meets a constraint no check foresaw (a
// concurrent writer took a SKU between the lookup and the write), the batch is redone with
// each update under a savepoint, so only the line at fault is refused.
func (s *Store) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dryRun bool) (catalog.ImportResult, error) {
	if dryRun {
		ctx = context.WithValue(ctx, noOutbox{}, true)
	}
	res, err := s.upsertBatch(ctx, items, dryRun, true)
	var refused *setRefused
	if errors.As(err, &refused) {
		res, err = s.upsertBatch(ctx, items, dryRun, false)
	}
	if err != nil {
		res = catalog.ImportResult{}
	}
	return res, storeError(ctx, err)
}

func (s *Store) upsertBatch(ctx context.Context, items []catalog.ImportItem, dryRun, setBased bool) (catalog.ImportResult, error) {
	var res catalog.ImportResult
	err := s.tx(ctx, func(tx pgx.Tx) error {
		res = catalog.ImportResult{}
		// A batch's statements carry thousands of rows, so the planner's costs pass the JIT
		// threshold, and compiling took longer than running (130 of 470 ms for the batch's
		// variants read, measured): the batch runs without it.
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		plan, err := planImport(ctx, tx, items, &res)
		if err != nil {
			return err
		}
		// Lines whose digest and versions prove them unchanged are counted and left: their
		// products are not read (importDigest). The updated products are locked before
		// anything is written, in product-ID order (the order every writer locks in, so an
		// import and concurrent writers queue rather than deadlock), by the same statement.
		// From here a batch naming none of these SKUs may start beside this one
		// (catalog.WhenHeld): it waits for every product both write.
		if err := plan.digest(); err != nil {
			return err
		}
		if len(plan.updates) > 0 {
			proven, err := provenUnchanged(ctx, tx, plan.updates, !dryRun)
			if err != nil {
				return err
			}
			res.Unchanged += len(proven)
			if importProven != nil {
				importProven(len(proven))
			}
			plan.updates = slices.DeleteFunc(plan.updates, func(u importUpdate) bool { return proven[u.pid] })
		}
		catalog.Held(ctx)
		now, actor := s.clock.Now(), catalog.ActorOf(ctx)
		if hook := beforeImportWrite; hook != nil && setBased && !dryRun {
			hook()
		}
		var proved digestWrites // the lines whose digest this batch writes, once its writes are done
		if len(plan.creates) > 0 && !dryRun {
			// planImport checked what insertProducts could refuse (SKUs free, categories and
			// definitions known): a dry run counts the creates without writing them.
			ps := make([]newProduct, len(plan.creates))
			for i, it := range plan.creates {
				ps[i] = newProduct{id: catalog.NewID(), in: it.Product, created: now}
				proved.add(ps[i].id, plan.createDigests[i])
			}
			if err := insertProducts(ctx, tx, ps, actor); err != nil {
				return refusedBySet(err)
			}
			if err := emitImported(ctx, tx, ps, now); err != nil {
				return err
			}
		}
		res.Created = len(plan.creates)
		switch {
		case len(plan.updates) == 0:
		case dryRun:
			// The updated products in one pair of statements, unlocked: a dry run plans each
			// line against them and writes nothing.
			pids := make([]string, len(plan.updates))
			for i, u := range plan.updates {
				pids[i] = u.pid
			}
			current, err := productMap(ctx, tx, pids)
			if err != nil {
				return err
			}
			for _, u := range plan.updates {
				p, ok := current[u.pid]
				switch {
				case !ok:
					res.Problems = append(res.Problems, catalog.ImportProblemsOf(u.item.Line, catalog.ErrProductNotFound)...)
				case !catalog.ImportChanges(p, u.item.Product):
					res.Unchanged++
				default:
					if _, err := catalog.PlanImportUpdate(p, u.item.Product); err != nil {
						res.Problems = append(res.Problems, catalog.ImportProblemsOf(u.item.Line, err)...)
						continue
					}
					res.Updated++
				}
			}
		case setBased:
			ps, same, err := s.importUpdates(ctx, tx, plan.updates, now, &res)
			if err != nil {
				return err
			}
			res.Updated = len(ps)
			if err := emitProducts(ctx, tx, catalog.EventProductUpdated, ps, now); err != nil {
				return err
			}
			// The products updated, and those compared and found unchanged (their digest was
			// missing or stale): the next import of the same line skips them.
			byPID := make(map[string][]byte, len(plan.updates))
			for _, u := range plan.updates {
				byPID[u.pid] = u.digest
			}
			for _, p := range ps {
				proved.add(p.ID, byPID[p.ID])
			}
			for _, pid := range same {
				proved.add(pid, byPID[pid])
			}
		default:
			// Line by line (a set-based statement met a constraint): no digest is written for
			// these updates; the versions they move make any older digest prove nothing.
			updated, err := s.importUpdatesByLine(ctx, tx, plan.updates, now, &res)
			if err != nil {
				return err
			}
			res.Updated = len(updated)
			if err := emitUpdated(ctx, tx, updated, now); err != nil {
				return err
			}
		}
		if !dryRun {
			if err := proved.write(ctx, tx); err != nil {
				return err
			}
		}
		slices.SortStableFunc(res.Problems, func(a, b catalog.ImportProblem) int { return a.Line - b.Line })
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return res, err
}

// importDigestRules is hashed into every import digest: change it whenever what
// catalog.ImportChanges compares, or how an import line is normalised, changes, so that no
// digest written under the old rules proves a line unchanged under the new ones.
const importDigestRules = "catalog import digest 1\n"

// importDigest is the digest of an import line: SHA-256 of its normalised product as JSON
// (encoding/json sorts map keys, so equal lines give equal bytes).
func importDigest(in catalog.ProductInput) ([]byte, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("import digest: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(importDigestRules))
	h.Write(b)
	return h.Sum(nil), nil
}

// digest sets the digest of each planned line, creates and updates.
func (p *importPlan) digest() error {
	p.createDigests = make([][]byte, len(p.creates))
	for i, it := range p.creates {
		d, err := importDigest(it.Product)
		if err != nil {
			return err
		}
		p.createDigests[i] = d
	}
	for i := range p.updates {
		d, err := importDigest(p.updates[i].item.Product)
		if err != nil {
			return err
		}
		p.updates[i].digest = d
	}
	return nil
}

// provenUnchanged returns the products of ups whose line is proven unchanged by its digest:
// the digest stored for the product is the line's, and the product's versions are still the
// ones recorded with it (any write outside an import moves one of them). With lock, the same
// statement locks every product of ups, in product-ID order (the order every writer locks
// in, so an import and concurrent writers queue rather than deadlock); the versions compared
// are then the locked rows' own. A product deleted since the SKU lookup is not returned (the
// comparison path reports it).
func provenUnchanged(ctx context.Context, tx pgx.Tx, ups []importUpdate, lock bool) (map[string]bool, error) {
	pids, ds := make([]string, len(ups)), make([][]byte, len(ups))
	for i, u := range ups {
		pids[i] = u.pid
		if !importDigestsOff {
			ds[i] = u.digest // NULL proves nothing
		}
	}
	q := `SELECT p.id::text, coalesce(d.digest = u.digest AND d.version = p.version AND d.price_version = p.price_version, false)
		FROM unnest($1::uuid[], $2::bytea[]) AS u (id, digest)
		JOIN products p ON p.id = u.id
		LEFT JOIN import_digests d ON d.product_id = p.id
		ORDER BY p.id`
	if lock {
		q += ` FOR UPDATE OF p`
	}
	rows, err := tx.Query(ctx, q, pids, ds)
	if err != nil {
		return nil, err
	}
	proven := map[string]bool{}
	var (
		pid string
		ok  bool
	)
	_, err = pgx.ForEachRow(rows, []any{&pid, &ok}, func() error {
		if ok {
			proven[pid] = true
		}
		return nil
	})
	return proven, err
}

// digestWrites gathers the digests a batch records, one per product it created, updated or
// compared unchanged.
type digestWrites struct {
	ids     []string
	digests [][]byte
}

func (w *digestWrites) add(id string, digest []byte) {
	if digest != nil {
		w.ids, w.digests = append(w.ids, id), append(w.digests, digest)
	}
}

// write records the gathered digests with the products' versions as this transaction leaves
// them (it holds the updated products' locks and the created ones are its own), in one
// statement.
func (w *digestWrites) write(ctx context.Context, tx pgx.Tx) error {
	if len(w.ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO import_digests (product_id, digest, version, price_version)
		SELECT p.id, u.digest, p.version, p.price_version
		FROM unnest($1::uuid[], $2::bytea[]) AS u (id, digest) JOIN products p ON p.id = u.id
		ON CONFLICT (product_id) DO UPDATE SET digest = excluded.digest, version = excluded.version,
			price_version = excluded.price_version`, w.ids, w.digests)
	return err
}

// importUpdatesByLine applies updates one by one, each under a savepoint, so a line the store
// refuses is reported and skipped without undoing the others. It returns the products updated.
func (s *Store) importUpdatesByLine(ctx context.Context, tx pgx.Tx, ups []importUpdate, now time.Time, res *catalog.ImportResult) ([]string, error) {
	var updated []string
	for _, u := range ups {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return nil, err
		}
		err = s.updateImported(ctx, sp, u.pid, u.item.Product, now)
		if errors.Is(err, errUnchanged) { // the savepoint holds only reads and the row lock
			if err := sp.Commit(ctx); err != nil {
				return nil, err
			}
			res.Unchanged++
			continue
		}
		if err == nil {
			err = sp.Commit(ctx)
		}
		if err != nil {
			if rerr := sp.Rollback(ctx); rerr != nil {
				return nil, rerr
			}
			if catalog.ErrorCode(err) == catalog.CodeInternal {
				return nil, err
			}
			res.Problems = append(res.Problems, catalog.ImportProblemsOf(u.item.Line, err)...)
			continue
		}
		updated = append(updated, u.pid)
	}
	return updated, nil
}

// emitUpdated records catalog.product.updated for each of ids, read back in two statements.
func emitUpdated(ctx context.Context, tx pgx.Tx, ids []string, now time.Time) error {
	if len(ids) == 0 || ctx.Value(noOutbox{}) != nil {
		return nil
	}
	ps, err := productsOf(ctx, tx, ids)
	if err != nil {
		return err
	}
	return emitProducts(ctx, tx, catalog.EventProductUpdated, ps, now)
}

// emitProducts records an event of type typ for each of ps, in one statement.
func emitProducts(ctx context.Context, tx pgx.Tx, typ string, ps []catalog.Product, now time.Time) error {
	if len(ps) == 0 || ctx.Value(noOutbox{}) != nil {
		return nil
	}
	events := make([]pending, 0, len(ps))
	for _, p := range ps {
		e, err := newPending(ctx, now, typ, p)
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	return emitMany(ctx, tx, events)
}

// productMap is productsOf as a map by ID.
func productMap(ctx context.Context, tx pgx.Tx, ids []string) (map[string]catalog.Product, error) {
	out := make(map[string]catalog.Product, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ps, err := productsOf(ctx, tx, ids)
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, err
}

// importPlan is a batch sorted into creates and updates; refused lines are in the result.
type importPlan struct {
	creates       []catalog.ImportItem
	createDigests [][]byte       // importDigest of each create (digest)
	updates       []importUpdate // in product-ID order: the order rows are locked in
}

type importUpdate struct {
	pid    string
	item   catalog.ImportItem
	digest []byte // importDigest of the line (importPlan.digest)
}

// planImport validates the batch and decides, line by line, create, update or refuse: with
// one statement for the SKUs' owners, one for the categories and one for the definitions.
func planImport(ctx context.Context, tx pgx.Tx, items []catalog.ImportItem, res *catalog.ImportResult) (importPlan, error) {
	var plan importPlan
	refuse := func(line int, err error) { res.Problems = append(res.Problems, catalog.ImportProblemsOf(line, err)...) }
	var skus, cats []string
	var sets []catalog.Attributes
	valid, problems := catalog.CheckImportBatch(items)
	res.Problems = append(res.Problems, problems...)
	for i := range items {
		if !valid[i] {
			continue
		}
		in := items[i].Product
		for _, v := range in.Variants {
			skus = append(skus, strings.ToLower(v.SKU))
			sets = append(sets, v.Attributes)
		}
		cats = append(cats, in.Category)
		sets = append(sets, in.Attributes)
	}
	owners := map[string]string{}
	if len(skus) > 0 {
		rows, err := tx.Query(ctx, `SELECT lower(sku), product_id::text FROM variants WHERE lower(sku) = ANY($1)`, skus)
		if err != nil {
			return plan, err
		}
		var k, pid string
		if _, err := pgx.ForEachRow(rows, []any{&k, &pid}, func() error { owners[k] = pid; return nil }); err != nil {
			return plan, err
		}
	}
	known := map[string]bool{}
	if len(cats) > 0 {
		rows, err := tx.Query(ctx, `SELECT slug FROM categories WHERE slug = ANY($1)`, cats)
		if err != nil {
			return plan, err
		}
		var slug string
		if _, err := pgx.ForEachRow(rows, []any{&slug}, func() error { known[slug] = true; return nil }); err != nil {
			return plan, err
		}
	}
	defs, err := loadDefinitions(ctx, tx, sets...)
	if err != nil {
		return plan, err
	}
	for i, it := range items {
		if !valid[i] {
			continue
		}
		in := it.Product
		var p catalog.Problems
		if !known[in.Category] {
			p.Add("category", "category %q does not exist", in.Category)
		}
		catalog.CheckAttributes("attributes", in.Attributes, defs, &p)
		for j, v := range in.Variants {
			catalog.CheckAttributes(fmt.Sprintf("variants[%d].attributes", j), v.Attributes, defs, &p)
		}
		pid, err := catalog.ImportOwner(in, owners)
		if err != nil {
			refuse(it.Line, errors.Join(p.Err(), err))
			continue
		}
		if err := p.Err(); err != nil {
			refuse(it.Line, err)
			continue
		}
		if pid == "" {
			plan.creates = append(plan.creates, it)
		} else {
			plan.updates = append(plan.updates, importUpdate{pid: pid, item: it})
		}
	}
	slices.SortStableFunc(plan.updates, func(a, b importUpdate) int { return strings.Compare(a.pid, b.pid) })
	for i := 1; i < len(plan.updates); i++ {
		if plan.updates[i].pid == plan.updates[i-1].pid {
			// Two lines of one batch update one product: the later is refused rather than
			// silently winning within one transaction.
			u := plan.updates[i]
			refuse(u.item.Line, catalog.InvalidField("variants", "update product %s, as line %d of this batch does: a product is imported once per batch", u.pid, plan.updates[i-1].item.Line))
			plan.updates = slices.Delete(plan.updates, i, i+1)
			i--
		}
	}
	return plan, nil
}

// updateImported replaces the own fields of product pid with in's, replaces the variants in
// names (by SKU, any case) and adds the new ones; the product's other variants stay, their
// options following a change of options (catalog.ReconcileOptions).
func (s *Store) updateImported(ctx context.Context, tx pgx.Tx, pid string, in catalog.ProductInput, now time.Time) error {
	p, err := lockProduct(ctx, tx, pid, 0)
	if err != nil {
		return err
	}
	cur, err := variantsOf(ctx, tx, pid)
	if err != nil {
		return err
	}
	if p.Variants = cur; !catalog.ImportChanges(p, in) {
		return errUnchanged
	}
	pl, err := catalog.PlanImportUpdate(p, in)
	if err != nil {
		return err
	}
	matched, change, next, total := pl.Matched, pl.Options, pl.Next, pl.Total
	if _, err := tx.Exec(ctx, `UPDATE products SET name = $2, name_key = $3, description = $4, category = $5, brand = $6,
		attributes = $7, media = $8, options = $9, status = $10, version = version + 1, updated_at = $11, variant_count = $12 WHERE id = $1`,
		pid, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		in.Attributes, in.Media, in.Options, in.Status, now, total); err != nil {
		return writeError(err, in.Category)
	}
	vids, vals := []string{}, []string{}
	for vid, o := range change.Values {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		vids, vals = append(vids, vid), append(vals, string(b))
	}
	var fresh []newVariant
	currencies := map[string]bool{}
	for j, vin := range in.Variants {
		m := matched[j]
		if m == nil {
			fresh = append(fresh, newVariant{id: catalog.NewID(), pid: pid, in: vin, pos: next, at: now})
			next++
			for _, pr := range vin.Prices {
				currencies[pr.Currency] = true
			}
			continue
		}
		b, err := json.Marshal(vin.Options)
		if err != nil {
			return err
		}
		vids, vals = append(vids, m.ID), append(vals, string(b))
		if _, err := tx.Exec(ctx, `UPDATE variants SET sku = $2, barcode = $3, weight_grams = $4, attributes = $5,
			image = $6, purchase_limit = $7, updated_at = $8 WHERE id = $1`,
			m.ID, vin.SKU, vin.Barcode, vin.WeightGrams, vin.Attributes, vin.Image, vin.PurchaseLimit, now); err != nil {
			return writeError(err, "")
		}
		if err := s.replacePrices(ctx, tx, *m, vin.Prices, now); err != nil {
			return err
		}
	}
	if len(vids) > 0 {
		// Options of every variant that changes, in one statement; a combination clash is the
		// line's problem (the savepoint undoes the rest of it).
		if _, err := tx.Exec(ctx, `UPDATE variants v SET options = u.opts::jsonb, updated_at = $3
			FROM unnest($1::uuid[], $2::text[]) AS u (id, opts) WHERE v.id = u.id AND v.options <> u.opts::jsonb`, vids, vals, now); err != nil {
			return writeError(err, "")
		}
	}
	if len(fresh) > 0 {
		if err := insertVariants(ctx, tx, fresh, catalog.ActorOf(ctx)); err != nil {
			return err
		}
		if err := refreshProductPrices(ctx, tx, pid, keys(currencies)); err != nil {
			return err
		}
	}
	return nil
}

// productsOf reads products with their variants, in the order of ids: four statements sent
// together (one round trip), each table by one range of its product_id index. The variants'
// stock and prices joined per variant cost a primary-key probe each, about 30,000 buffers for
// 1,000 products of 4 variants against about 7,500 by ranges (EXPLAIN (ANALYZE, BUFFERS),
// docs/performance.md "Updates"). Each statement has its own snapshot: the products are locked
// by the caller that writes them (every write to a product's variants or prices locks the
// product), so only the stock, which a reservation moves without that lock, may be a moment
// newer than the rest, as it may be a moment later anyway.
func productsOf(ctx context.Context, tx pgx.Tx, ids []string) ([]catalog.Product, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT `+productColumns+` FROM products p WHERE p.id = ANY($1::uuid[])`, ids)
	b.Queue(`SELECT v.id::text, v.product_id::text, v.sku, v.options, v.position, v.barcode, v.weight_grams,
		v.attributes, v.image, v.purchase_limit, v.created_at, v.updated_at
		FROM variants v WHERE v.product_id = ANY($1::uuid[]) ORDER BY v.product_id, v.position`, ids)
	b.Queue(`SELECT variant_id::text, on_hand, reserved, version FROM inventory WHERE product_id = ANY($1::uuid[])`, ids)
	b.Queue(`SELECT variant_id::text, currency, amount, compare_at, prior_amount, window_ends_at
		FROM variant_prices WHERE product_id = ANY($1::uuid[])`, ids)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Product, error) {
		var p catalog.Product
		err := r.Scan(scanProductInto(&p)...)
		fixProduct(&p)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*catalog.Product, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Variant, error) {
		var v catalog.Variant
		err := r.Scan(&v.ID, &v.ProductID, &v.SKU, &v.Options, &v.Position, &v.Barcode, &v.WeightGrams,
			&v.Attributes, &v.Image, &v.PurchaseLimit, &v.CreatedAt, &v.UpdatedAt)
		v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
		if v.Options == nil {
			v.Options = map[string]string{}
		}
		if v.Attributes == nil {
			v.Attributes = catalog.Attributes{}
		}
		v.Prices = []catalog.Price{}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	byVariant := make(map[string]*catalog.Variant, len(vs))
	for i := range vs {
		byVariant[vs[i].ID] = &vs[i]
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	stocked := make(map[string]bool, len(vs))
	var (
		vid                        string
		onHand, reserved, stockVer int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&vid, &onHand, &reserved, &stockVer}, func() error {
		if v := byVariant[vid]; v != nil {
			v.Stock = catalog.NewStock(onHand, reserved, stockVer)
			stocked[vid] = true
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	var pr catalog.Price
	if _, err := pgx.ForEachRow(rows, []any{&vid, &pr.Currency, &pr.Amount, &pr.CompareAt, &pr.PriorPrice, &pr.SaleEndsAt}, func() error {
		if v := byVariant[vid]; v != nil {
			pr.SaleEndsAt = utcPtr(pr.SaleEndsAt)
			v.Prices = append(v.Prices, pr)
		}
		pr = catalog.Price{}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, v := range vs {
		p := byID[v.ProductID]
		if p == nil || !stocked[v.ID] { // a variant has its stock row from its insert on
			continue
		}
		slices.SortFunc(v.Prices, func(a, b catalog.Price) int { return strings.Compare(a.Currency, b.Currency) })
		v.ProductVersion = p.Version
		p.Variants = append(p.Variants, v)
		p.StockVersion += v.Stock.Version
	}
	out := make([]catalog.Product, 0, len(ids))
	for _, id := range ids {
		if p := byID[id]; p != nil {
			p.Summarize()
			out = append(out, *p)
		}
	}
	return out, br.Close()
}

const importJobColumns = `id::text, actor, coalesce(idempotency_key, ''), digest, state, format, dry_run, partial, bytes, lines,
	products, created, updated, unchanged, failed, errors, reason, created_at, updated_at, finished_at`

func scanImportJob(row pgx.Row) (catalog.ImportJob, error) {
	var j catalog.ImportJob
	err := row.Scan(&j.ID, &j.Actor, &j.IdempotencyKey, &j.Digest, &j.State, &j.Format, &j.DryRun, &j.Partial, &j.Bytes,
		&j.Lines, &j.Products, &j.Created, &j.Updated, &j.Unchanged, &j.Failed, &j.Errors, &j.Reason, &j.CreatedAt, &j.UpdatedAt, &j.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, catalog.ErrImportJobNotFound
	}
	j.CreatedAt, j.UpdatedAt, j.FinishedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC(), utcPtr(j.FinishedAt)
	if j.Errors == nil {
		j.Errors = []catalog.ImportProblem{}
	}
	return j, err
}

// CreateImportJob records a queued job, or returns the one the actor's idempotency key made.
func (s *Store) CreateImportJob(ctx context.Context, in catalog.ImportJobInput) (catalog.ImportJob, bool, error) {
	var (
		job     catalog.ImportJob
		created bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now, actor := s.clock.Now(), catalog.ActorOf(ctx)
		var key *string
		if in.IdempotencyKey != "" {
			key = &in.IdempotencyKey
		}
		var err error
		job, err = scanImportJob(tx.QueryRow(ctx, `INSERT INTO import_jobs (id, actor, idempotency_key, digest, state, format,
				dry_run, partial, bytes, created_at, updated_at, heartbeat_at)
			VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $9, $9)
			ON CONFLICT (actor, idempotency_key) DO NOTHING RETURNING `+importJobColumns,
			catalog.NewID(), actor, key, in.Digest, in.Format, in.DryRun, in.Partial, in.Bytes, now))
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, catalog.ErrImportJobNotFound) {
			return err
		}
		job, err = scanImportJob(tx.QueryRow(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE actor = $1 AND idempotency_key = $2`, actor, in.IdempotencyKey))
		if err != nil {
			return err
		}
		return catalog.SameImport(job, in)
	})
	return job, created, storeError(ctx, err)
}

// ImportJob returns a job.
func (s *Store) ImportJob(ctx context.Context, id string) (catalog.ImportJob, error) {
	if !catalog.ValidID(id) {
		return catalog.ImportJob{}, catalog.ErrImportJobNotFound
	}
	var job catalog.ImportJob
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		job, err = scanImportJob(c.QueryRow(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE id = $1`, id))
		return err
	})
	return job, storeError(ctx, err)
}

// SaveImportJob writes a job's progress and moves its heartbeat. A job already finished (the
// stale sweep may have failed it) is not written again.
func (s *Store) SaveImportJob(ctx context.Context, j catalog.ImportJob) error {
	if j.Errors == nil {
		j.Errors = []catalog.ImportProblem{}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		var finished *time.Time
		if j.State.Finished() {
			finished = &now
		}
		tag, err := tx.Exec(ctx, `UPDATE import_jobs SET state = $2, lines = $3, products = $4, created = $5, updated = $6,
			failed = $7, errors = $8, reason = $9, updated_at = $10, heartbeat_at = $10, finished_at = $11, bytes = $12, unchanged = $13
			WHERE id = $1 AND state NOT IN ('succeeded', 'failed')`,
			j.ID, j.State, j.Lines, j.Products, j.Created, j.Updated, j.Failed, j.Errors, j.Reason, now, finished, j.Bytes, j.Unchanged)
		if err == nil && tag.RowsAffected() == 0 {
			return catalog.Errorf(catalog.CodeConflict, "import job %s is finished", j.ID)
		}
		return err
	})
	return storeError(ctx, err)
}

// FailStaleImportJobs fails unfinished jobs whose heartbeat is older than before.
func (s *Store) FailStaleImportJobs(ctx context.Context, before time.Time, reason string) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		tag, err := tx.Exec(ctx, `UPDATE import_jobs SET state = 'failed', reason = $2, updated_at = $3, finished_at = $3
			WHERE state IN ('queued', 'validating', 'running') AND heartbeat_at < $1`, before, reason, now)
		n = int(tag.RowsAffected())
		return err
	})
	return n, storeError(ctx, err)
}

// PurgeImportJobs deletes at most limit finished jobs that finished longer than retention ago,
// oldest first. The table holds jobs, not lines (a few a day): no index is needed to find them.
func (s *Store) PurgeImportJobs(ctx context.Context, retention time.Duration, limit int) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM import_jobs WHERE id IN (
			SELECT id FROM import_jobs WHERE state IN ('succeeded', 'failed') AND finished_at <= $1
			ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.clock.Now().Add(-retention), limit)
		n = int(tag.RowsAffected())
		return err
	})
	return n, storeError(ctx, err)
}
