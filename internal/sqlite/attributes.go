package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

const attributeColumns = `key, name, type, "values", unit, filterable, version, created_at, updated_at`

func scanAttribute(row scanner) (catalog.AttributeDefinition, error) {
	var (
		d                catalog.AttributeDefinition
		values           string
		filterable       int
		created, updated int64
	)
	if err := row.Scan(&d.Key, &d.Name, &d.Type, &values, &d.Unit, &filterable, &d.Version, &created, &updated); err != nil {
		return d, err
	}
	if err := decodeJSON(values, &d.Values); err != nil {
		return d, fmt.Errorf("attribute %s values: %w", d.Key, err)
	}
	if len(d.Values) == 0 {
		d.Values = nil
	}
	d.Filterable = filterable != 0
	d.CreatedAt, d.UpdatedAt = micros(created), micros(updated)
	return d, nil
}

// definitions reads the definitions of keys inside the write's transaction.
func definitions(ctx context.Context, q queryer, keys []string) (map[string]catalog.AttributeDefinition, error) {
	defs := map[string]catalog.AttributeDefinition{}
	if len(keys) == 0 {
		return defs, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := q.QueryContext(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions WHERE key IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanAttribute(rows)
		if err != nil {
			return nil, err
		}
		defs[d.Key] = d
	}
	return defs, rows.Err()
}

// checkAttributes validates the product's attributes and its variants' against their
// definitions, read in the write's transaction so a definition cannot change in between.
func checkAttributes(ctx context.Context, tx *sql.Tx, in catalog.ProductInput) error {
	seen := map[string]bool{}
	var keys []string
	add := func(a catalog.Attributes) {
		for k := range a {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	add(in.Attributes)
	for _, v := range in.Variants {
		add(v.Attributes)
	}
	if len(keys) == 0 {
		return nil
	}
	defs, err := definitions(ctx, tx, keys)
	if err != nil {
		return err
	}
	lookup := func(k string) (catalog.AttributeDefinition, bool) { d, ok := defs[k]; return d, ok }
	var p catalog.Problems
	catalog.CheckAttributes("attributes", in.Attributes, lookup, &p)
	for i, v := range in.Variants {
		field := fmt.Sprintf("variants[%d].attributes", i)
		if in.Name == "" && len(in.Variants) == 1 {
			field = "attributes" // one variant added or changed on its own
		}
		catalog.CheckAttributes(field, v.Attributes, lookup, &p)
	}
	return p.Err()
}

// writeAttributeValues replaces the indexed attribute values of a product's own attributes
// (variantID "") or of one variant.
func writeAttributeValues(ctx context.Context, tx *sql.Tx, productID, variantID string, a catalog.Attributes) error {
	var err error
	if variantID == "" {
		_, err = tx.ExecContext(ctx, `DELETE FROM attribute_values WHERE product_id = ? AND variant_id IS NULL`, productID)
	} else {
		_, err = tx.ExecContext(ctx, `DELETE FROM attribute_values WHERE variant_id = ?`, variantID)
	}
	if err != nil {
		return err
	}
	rows, err := attributeRows(productID, variantID, a)
	if err != nil {
		return err
	}
	return bulkInsert(ctx, tx, insertAttributeValues, rows)
}

const insertAttributeValues = `INSERT INTO attribute_values (product_id, variant_id, key, text_value, num_value) VALUES `

// attributeRows are the attribute_values rows of a product's own attributes (variantID "") or
// of one variant's: text and enum values and booleans ("true"/"false") as text, numbers as
// numbers, so filters compare each as its type.
func attributeRows(productID, variantID string, a catalog.Attributes) ([][]any, error) {
	rows := make([][]any, 0, len(a))
	for k, v := range a {
		var text, num any
		switch x := v.(type) {
		case string:
			text = x
		case bool:
			text = strconv.FormatBool(x)
		case float64:
			num = x
		default:
			return nil, fmt.Errorf("attribute %s: unexpected value type %T", k, v)
		}
		rows = append(rows, []any{productID, nullable(variantID), k, text, num})
	}
	return rows, nil
}

// CreateAttribute defines a new attribute key.
func (s *Store) CreateAttribute(ctx context.Context, in catalog.AttributeDefinitionInput) (catalog.AttributeDefinition, error) {
	var d catalog.AttributeDefinition
	in.Normalize()
	if err := in.Validate(); err != nil {
		return d, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now().UnixMicro()
		_, err := tx.ExecContext(ctx, `INSERT INTO attribute_definitions (key, name, type, "values", unit, filterable, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, `+nextVersion("attributes/")+`, ?, ?)`, in.Key, in.Name, in.Type, encodeJSON(valuesOf(in)), in.Unit, in.Filterable, in.Key, now, now)
		if isUnique(err) {
			return &catalog.Error{Code: catalog.CodeConflict, Message: fmt.Sprintf("attribute %s is already defined", in.Key),
				Fields: []catalog.FieldError{{Field: "key", Problem: fmt.Sprintf("%q is already defined: change it with PUT /attributes/%s", in.Key, in.Key)}}, Err: err}
		}
		if err != nil {
			return err
		}
		d, err = attributeOf(ctx, tx, in.Key)
		return s.emitAfter(ctx, tx, err, catalog.EventAttributeChanged, d)
	})
	return d, err
}

func valuesOf(in catalog.AttributeDefinitionInput) []string {
	if in.Values == nil {
		return []string{}
	}
	return in.Values
}

func attributeOf(ctx context.Context, q queryer, key string) (catalog.AttributeDefinition, error) {
	d, err := scanAttribute(q.QueryRowContext(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return d, catalog.ErrAttributeNotFound
	}
	return d, err
}

// Attribute returns one definition.
func (s *Store) Attribute(ctx context.Context, key string) (catalog.AttributeDefinition, error) {
	d, err := attributeOf(ctx, s.r, key)
	return d, storeError(ctx, err)
}

// AttributeList returns every definition, by key.
func (s *Store) AttributeList(ctx context.Context) ([]catalog.AttributeDefinition, error) {
	out := []catalog.AttributeDefinition{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions ORDER BY key`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanAttribute(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// attributeInUse reports whether any product or variant has a value for key (value "" ) or
// the value value.
func attributeInUse(ctx context.Context, tx *sql.Tx, key, value string) (bool, error) {
	var n int
	var err error
	if value == "" {
		err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM attribute_values WHERE key = ?)`, key).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM attribute_values WHERE key = ? AND text_value = ?)`, key, value).Scan(&n)
	}
	return n != 0, err
}

// UpdateAttribute replaces a definition; catalog.CanRedefine decides what may change while
// values use it.
func (s *Store) UpdateAttribute(ctx context.Context, key string, in catalog.AttributeDefinitionInput, ifVersion int64) (catalog.AttributeDefinition, error) {
	var d catalog.AttributeDefinition
	in.Normalize()
	if err := in.Validate(); err != nil {
		return d, err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := attributeOf(ctx, tx, key)
		if err != nil {
			return err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return catalog.StaleVersion(cur.Version, ifVersion)
		}
		var qerr error
		inUse := func(v string) bool {
			used, err := attributeInUse(ctx, tx, key, v)
			if err != nil && qerr == nil {
				qerr = err
			}
			return used || err != nil
		}
		if err := catalog.CanRedefine(cur, in, inUse); err != nil {
			if qerr != nil {
				return qerr
			}
			return err
		}
		if qerr != nil {
			return qerr
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attribute_definitions SET name = ?, type = ?, "values" = ?, unit = ?, filterable = ?,
			version = version + 1, updated_at = ? WHERE key = ?`,
			in.Name, in.Type, encodeJSON(valuesOf(in)), in.Unit, in.Filterable, s.clock.Now().UnixMicro(), key); err != nil {
			return err
		}
		d, err = attributeOf(ctx, tx, key)
		return s.emitAfter(ctx, tx, err, catalog.EventAttributeChanged, d)
	})
	return d, err
}

// DeleteAttribute removes a definition no product or variant uses.
func (s *Store) DeleteAttribute(ctx context.Context, key string, ifVersion int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		cur, err := attributeOf(ctx, tx, key)
		if err != nil {
			return err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return catalog.StaleVersion(cur.Version, ifVersion)
		}
		used, err := attributeInUse(ctx, tx, key, "")
		if err != nil {
			return err
		}
		if used {
			return &catalog.Error{Code: catalog.CodeConflict, Message: fmt.Sprintf("attribute %s is in use: remove its values from every product and variant first", key),
				Fields: []catalog.FieldError{{Field: "key", Problem: fmt.Sprintf("products or variants have a value for %s", key)}}}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM attribute_definitions WHERE key = ?`, key)
		return s.emitDeleted(ctx, tx, err, catalog.EventAttributeDeleted, catalog.Deleted{Subject: "attributes/" + key, Version: cur.Version + 1})
	})
}
