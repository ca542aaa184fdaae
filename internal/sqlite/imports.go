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

// errUnchanged says an update line matches its product exactly: nothing is written.
var errUnchanged = errors.New("unchanged")

// UpsertProducts creates or updates a batch of products by SKU in one transaction (see
// catalog.Importer). The SKUs' owners are one statement for the batch; each line runs under a
// savepoint, so a line the store refuses is reported and skipped without undoing the others.
// Created products' events are built from what was written (catalog.CreatedProduct); updated
// ones are read back together, in two statements. A dry run only reads (planImport).
func (s *Store) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dryRun bool) (catalog.ImportResult, error) {
	if dryRun {
		return s.planImport(ctx, items)
	}
	var res catalog.ImportResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		// The one write connection is this transaction's: every other batch waits for it.
		catalog.Held(ctx)
		now, actor := s.clock.Now(), catalog.ActorOf(ctx)
		valid, problems := catalog.CheckImportBatch(items)
		res.Problems = append(res.Problems, problems...)
		var skus []string
		for i := range items {
			if valid[i] {
				for _, v := range items[i].Product.Variants {
					skus = append(skus, strings.ToLower(v.SKU))
				}
			}
		}
		owners, err := skuOwners(ctx, tx, skus)
		if err != nil {
			return err
		}
		created, updated, err := importLines(items, valid, owners, &res, func(pid string, it catalog.ImportItem) (catalog.Product, error) {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT import_line`); err != nil {
				return catalog.Product{}, err
			}
			var p catalog.Product
			var err error
			if pid == "" {
				p, err = createImported(ctx, tx, it.Product, now, actor)
			} else {
				err = s.updateImported(ctx, tx, pid, it.Product, now)
			}
			if err != nil && !errors.Is(err, errUnchanged) {
				if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO import_line`); rerr != nil {
					return catalog.Product{}, rerr
				}
			}
			if _, rerr := tx.ExecContext(ctx, `RELEASE import_line`); rerr != nil {
				return catalog.Product{}, rerr
			}
			return p, err
		})
		if err != nil {
			return err
		}
		for _, p := range created {
			if err := emitAt(ctx, tx, now, catalog.EventProductCreated, p); err != nil {
				return err
			}
		}
		ps, err := productsOf(ctx, tx, updated)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := emitAt(ctx, tx, now, catalog.EventProductUpdated, p); err != nil {
				return err
			}
		}
		res.Created, res.Updated = len(created), len(updated)
		slices.SortStableFunc(res.Problems, func(a, b catalog.ImportProblem) int { return a.Line - b.Line })
		return nil
	})
	if err != nil {
		res = catalog.ImportResult{}
	}
	return res, err
}

// planImport is a dry run: in one read transaction (so it never waits for the writer), each
// line is checked as the write would check it, in the write's order, against what is stored:
// attribute definitions, category, and for an update the product and its variants under
// catalog.PlanImportUpdate (the rules the write applies too). Nothing is written.
func (s *Store) planImport(ctx context.Context, items []catalog.ImportItem) (catalog.ImportResult, error) {
	var res catalog.ImportResult
	err := s.read(ctx, func(tx *sql.Tx) error {
		res = catalog.ImportResult{}
		valid, problems := catalog.CheckImportBatch(items)
		res.Problems = append(res.Problems, problems...)
		var skus, cats []string
		for i := range items {
			if valid[i] {
				for _, v := range items[i].Product.Variants {
					skus = append(skus, strings.ToLower(v.SKU))
				}
				cats = append(cats, items[i].Product.Category)
			}
		}
		owners, err := skuOwners(ctx, tx, skus)
		if err != nil {
			return err
		}
		known, err := knownCategories(ctx, tx, cats)
		if err != nil {
			return err
		}
		created, updated, err := importLines(items, valid, owners, &res, func(pid string, it catalog.ImportItem) (catalog.Product, error) {
			return catalog.Product{}, checkImportLine(ctx, tx, pid, it.Product, known)
		})
		if err != nil {
			return err
		}
		res.Created = len(created)
		res.Updated = len(updated)
		slices.SortStableFunc(res.Problems, func(a, b catalog.ImportProblem) int { return a.Line - b.Line })
		return nil
	})
	if err != nil {
		res = catalog.ImportResult{}
	}
	return res, err
}

// importLines walks a batch's valid lines in file order, as the write and the dry run both do:
// the product each line is for (catalog.ImportOwner), at most one line per product in a batch,
// then do, whose outcome is counted in res (unchanged, refused) or returned (the products
// created and the IDs updated, in order). An internal error stops the walk.
func importLines(items []catalog.ImportItem, valid []bool, owners map[string]string, res *catalog.ImportResult,
	do func(pid string, it catalog.ImportItem) (catalog.Product, error)) (created []catalog.Product, updated []string, err error) {
	refuse := func(line int, err error) {
		res.Problems = append(res.Problems, catalog.ImportProblemsOf(line, err)...)
	}
	touched := map[string]int{} // product -> the line that is for it
	for i, it := range items {
		if !valid[i] {
			continue
		}
		pid, err := catalog.ImportOwner(it.Product, owners)
		if err != nil {
			refuse(it.Line, err)
			continue
		}
		if l, ok := touched[pid]; ok && pid != "" {
			refuse(it.Line, catalog.InvalidField("variants", "update product %s, as line %d of this batch does: a product is imported once per batch", pid, l))
			continue
		}
		p, err := do(pid, it)
		switch {
		case errors.Is(err, errUnchanged):
			res.Unchanged++
		case err != nil && catalog.ErrorCode(err) == catalog.CodeInternal:
			return nil, nil, err
		case err != nil:
			refuse(it.Line, err)
		case pid == "":
			created = append(created, p)
		default:
			touched[pid] = it.Line
			updated = append(updated, pid)
		}
	}
	return created, updated, nil
}

// checkImportLine checks in as createImported (pid empty) or updateImported would write it,
// the same checks in the same order, and returns the error the write would meet (errUnchanged
// for a line that matches its product).
func checkImportLine(ctx context.Context, tx *sql.Tx, pid string, in catalog.ProductInput, known map[string]bool) error {
	var cur catalog.Product
	if pid != "" {
		var err error
		if cur, err = productRow(ctx, tx, pid, 0); err != nil {
			return err
		}
	}
	if err := checkAttributes(ctx, tx, in); err != nil {
		return err
	}
	if pid != "" {
		vs, err := variantsOf(ctx, tx, `v.product_id = ?`, pid)
		if err != nil {
			return err
		}
		if cur.Variants = vs; !catalog.ImportChanges(cur, in) {
			return errUnchanged
		}
		if _, err := catalog.PlanImportUpdate(cur, in); err != nil {
			return err
		}
	}
	if !known[in.Category] {
		return unknownCategory(in, nil)
	}
	return nil
}

// knownCategories returns which of slugs exist: one statement.
func knownCategories(ctx context.Context, tx *sql.Tx, slugs []string) (map[string]bool, error) {
	known := map[string]bool{}
	if len(slugs) == 0 {
		return known, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT slug FROM categories WHERE slug IN (SELECT value FROM json_each(?))`, encodeJSON(slugs))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var slug string
		if err := rows.Scan(&slug); err != nil {
			return nil, err
		}
		known[slug] = true
	}
	return known, rows.Err()
}

// skuOwners maps each of skus (lower case) that exists to its product: one statement.
func skuOwners(ctx context.Context, tx *sql.Tx, skus []string) (map[string]string, error) {
	owners := map[string]string{}
	if len(skus) == 0 {
		return owners, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT lower(sku), product_id FROM variants WHERE sku COLLATE NOCASE IN (SELECT value FROM json_each(?))`, encodeJSON(skus))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, pid string
		if err := rows.Scan(&k, &pid); err != nil {
			return nil, err
		}
		owners[k] = pid
	}
	return owners, rows.Err()
}

// createImported inserts a product created at created and returns it as a read would, built
// from what was inserted rather than read back.
func createImported(ctx context.Context, tx *sql.Tx, in catalog.ProductInput, now time.Time, actor string) (catalog.Product, error) {
	id := catalog.NewID()
	if err := checkAttributes(ctx, tx, in); err != nil {
		return catalog.Product{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO products (id, name, name_key, description, category, brand,
		attributes, media, options, status, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		id, in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		encodeJSON(in.Attributes), encodeJSON(in.Media), encodeJSON(in.Options), in.Status,
		now.UnixMicro(), now.UnixMicro()); err != nil {
		return catalog.Product{}, productWriteError(err, in)
	}
	if err := writeAttributeValues(ctx, tx, id, "", in.Attributes); err != nil {
		return catalog.Product{}, err
	}
	ids := make([]string, len(in.Variants))
	for i := range ids {
		ids[i] = catalog.NewID()
	}
	if err := insertVariants(ctx, tx, id, 0, ids, in.Variants, now, actor, "variants"); err != nil {
		return catalog.Product{}, err
	}
	return catalog.CreatedProduct(id, in, ids, now), nil
}

// updateImported replaces the own fields of product pid with in's, replaces the variants in
// names (by SKU, any case) and adds the new ones; the product's other variants stay, their
// options following a change of options (catalog.ReconcileOptions).
func (s *Store) updateImported(ctx context.Context, tx *sql.Tx, pid string, in catalog.ProductInput, now time.Time) error {
	cur, err := productRow(ctx, tx, pid, 0)
	if err != nil {
		return err
	}
	if err := checkAttributes(ctx, tx, in); err != nil {
		return err
	}
	vs, err := variantsOf(ctx, tx, `v.product_id = ?`, pid)
	if err != nil {
		return err
	}
	if cur.Variants = vs; !catalog.ImportChanges(cur, in) {
		return errUnchanged
	}
	pl, err := catalog.PlanImportUpdate(cur, in)
	if err != nil {
		return err
	}
	matched, change := pl.Matched, pl.Options
	// Positions are not reused after a variant's deletion: the product remembers the next.
	var next int
	if err := tx.QueryRowContext(ctx, `SELECT next_position FROM products WHERE id = ?`, pid).Scan(&next); err != nil {
		return err
	}
	next = max(next, pl.Next)
	at := now.UnixMicro()
	if _, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, name_key = ?, description = ?, category = ?, brand = ?,
		attributes = ?, media = ?, options = ?, status = ?, version = version + 1, updated_at = ? WHERE id = ?`,
		in.Name, catalog.SortKey(in.Name), in.Description, in.Category, in.Brand,
		encodeJSON(in.Attributes), encodeJSON(in.Media), encodeJSON(in.Options), in.Status, at, pid); err != nil {
		return productWriteError(err, in)
	}
	if !cur.Attributes.Equal(in.Attributes) {
		if err := writeAttributeValues(ctx, tx, pid, "", in.Attributes); err != nil {
			return err
		}
	}
	for vid, vals := range change.Values {
		if _, err := tx.ExecContext(ctx, `UPDATE variants SET options = ?, updated_at = ? WHERE id = ?`, encodeJSON(vals), at, vid); err != nil {
			if isUnique(err) {
				return catalog.InvalidField("options", "two variants would stand for the same combination")
			}
			return err
		}
	}
	var freshIDs []string
	var fresh []catalog.VariantInput
	for j, vin := range in.Variants {
		m := matched[j]
		if m == nil {
			freshIDs, fresh = append(freshIDs, catalog.NewID()), append(fresh, vin)
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE variants SET sku = ?, options = ?, barcode = ?, weight_grams = ?, attributes = ?,
			image = ?, purchase_limit = ?, updated_at = ? WHERE id = ?`,
			vin.SKU, encodeJSON(vin.Options), vin.Barcode, intOrNil(vin.WeightGrams), encodeJSON(vin.Attributes),
			vin.Image, vin.PurchaseLimit, at, m.ID); err != nil {
			if isUnique(err) {
				return variantConflict(ctx, tx, []catalog.VariantInput{vin}, m.ID, fmt.Sprintf("variants[%d]", j), err)
			}
			return err
		}
		if !vin.Attributes.Equal(m.Attributes) {
			if err := writeAttributeValues(ctx, tx, pid, m.ID, vin.Attributes); err != nil {
				return err
			}
		}
		if err := replacePrices(ctx, tx, *m, vin.Prices, catalog.ActorOf(ctx), now); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		return insertVariants(ctx, tx, pid, next, freshIDs, fresh, now, catalog.ActorOf(ctx), "variants")
	}
	return nil
}

// productsOf reads products with their variants: two statements for all of them, in the order
// of ids.
func productsOf(ctx context.Context, q queryer, ids []string) ([]catalog.Product, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := encodeJSON(ids)
	rows, err := q.QueryContext(ctx, `SELECT `+productColumns+` FROM products p WHERE p.id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, err
	}
	byID := map[string]*catalog.Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[p.ID] = &p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vs, err := variantsOf(ctx, q, `v.product_id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if p := byID[v.ProductID]; p != nil {
			p.Variants = append(p.Variants, v)
		}
	}
	out := make([]catalog.Product, 0, len(ids))
	for _, id := range ids {
		if p := byID[id]; p != nil {
			finishProduct(p)
			out = append(out, *p)
		}
	}
	return out, nil
}

const importJobColumns = `id, actor, coalesce(idempotency_key, ''), digest, state, format, dry_run, partial, bytes, lines,
	products, created, updated, unchanged, failed, errors, reason, created_at, updated_at, finished_at`

func scanImportJob(row scanner) (catalog.ImportJob, error) {
	var (
		j                catalog.ImportJob
		errs             string
		created, updated int64
		finished         sql.NullInt64
	)
	err := row.Scan(&j.ID, &j.Actor, &j.IdempotencyKey, &j.Digest, &j.State, &j.Format, &j.DryRun, &j.Partial, &j.Bytes,
		&j.Lines, &j.Products, &j.Created, &j.Updated, &j.Unchanged, &j.Failed, &errs, &j.Reason, &created, &updated, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return j, catalog.ErrImportJobNotFound
	}
	if err != nil {
		return j, err
	}
	j.CreatedAt, j.UpdatedAt = micros(created), micros(updated)
	if finished.Valid {
		t := micros(finished.Int64)
		j.FinishedAt = &t
	}
	if err := decodeJSON(errs, &j.Errors); err != nil {
		return j, err
	}
	if j.Errors == nil {
		j.Errors = []catalog.ImportProblem{}
	}
	return j, nil
}

// CreateImportJob records a queued job, or returns the one the actor's idempotency key made.
func (s *Store) CreateImportJob(ctx context.Context, in catalog.ImportJobInput) (catalog.ImportJob, bool, error) {
	var (
		job     catalog.ImportJob
		created bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		now, actor := s.clock.Now().UnixMicro(), catalog.ActorOf(ctx)
		if in.IdempotencyKey != "" {
			j, err := scanImportJob(tx.QueryRowContext(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE actor = ? AND idempotency_key = ?`, actor, in.IdempotencyKey))
			if err == nil {
				job = j
				return catalog.SameImport(j, in)
			}
			if !errors.Is(err, catalog.ErrImportJobNotFound) {
				return err
			}
		}
		var key any
		if in.IdempotencyKey != "" {
			key = in.IdempotencyKey
		}
		id := catalog.NewID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_jobs (id, actor, idempotency_key, digest, state, format,
				dry_run, partial, bytes, created_at, updated_at, heartbeat_at)
			VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`,
			id, actor, key, in.Digest, in.Format, in.DryRun, in.Partial, in.Bytes, now, now, now); err != nil {
			return err
		}
		var err error
		job, err = scanImportJob(tx.QueryRowContext(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE id = ?`, id))
		created = err == nil
		return err
	})
	return job, created, err
}

// ImportJob returns a job.
func (s *Store) ImportJob(ctx context.Context, id string) (catalog.ImportJob, error) {
	if !catalog.ValidID(id) {
		return catalog.ImportJob{}, catalog.ErrImportJobNotFound
	}
	job, err := scanImportJob(s.r.QueryRowContext(ctx, `SELECT `+importJobColumns+` FROM import_jobs WHERE id = ?`, id))
	return job, storeError(ctx, err)
}

// SaveImportJob writes a job's progress and moves its heartbeat; a finished job is not written
// again.
func (s *Store) SaveImportJob(ctx context.Context, j catalog.ImportJob) error {
	if j.Errors == nil {
		j.Errors = []catalog.ImportProblem{}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now().UnixMicro()
		var finished any
		if j.State.Finished() {
			finished = now
		}
		res, err := tx.ExecContext(ctx, `UPDATE import_jobs SET state = ?, lines = ?, products = ?, created = ?, updated = ?,
			failed = ?, errors = ?, reason = ?, updated_at = ?, heartbeat_at = ?, finished_at = ?, bytes = ?, unchanged = ?
			WHERE id = ? AND state NOT IN ('succeeded', 'failed')`,
			j.State, j.Lines, j.Products, j.Created, j.Updated, j.Failed, encodeJSON(j.Errors), j.Reason, now, now, finished, j.Bytes, j.Unchanged, j.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, catalog.Errorf(catalog.CodeConflict, "import job %s is finished", j.ID))
		}
		return nil
	})
}

// FailStaleImportJobs fails unfinished jobs whose heartbeat is older than before.
func (s *Store) FailStaleImportJobs(ctx context.Context, before time.Time, reason string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now().UnixMicro()
		res, err := tx.ExecContext(ctx, `UPDATE import_jobs SET state = 'failed', reason = ?, updated_at = ?, finished_at = ?
			WHERE state IN ('queued', 'validating', 'running') AND heartbeat_at < ?`, reason, now, now, before.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// PurgeImportJobs deletes at most limit finished jobs that finished longer than retention ago,
// oldest first.
func (s *Store) PurgeImportJobs(ctx context.Context, retention time.Duration, limit int) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM import_jobs WHERE id IN (
			SELECT id FROM import_jobs WHERE state IN ('succeeded', 'failed') AND finished_at <= ?
			ORDER BY finished_at LIMIT ?)`, s.clock.Now().Add(-retention).UnixMicro(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
