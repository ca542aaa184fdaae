package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

const attributeColumns = `key, name, type, enum_values, unit, filterable, version, created_at, updated_at`

func scanAttribute(row pgx.Row) (catalog.AttributeDefinition, error) {
	var d catalog.AttributeDefinition
	err := row.Scan(&d.Key, &d.Name, &d.Type, &d.Values, &d.Unit, &d.Filterable, &d.Version, &d.CreatedAt, &d.UpdatedAt)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if len(d.Values) == 0 {
		d.Values = nil
	}
	return d, err
}

// loadDefinitions reads the definitions of every key in sets, share-locked: a definition a
// write validated against cannot be changed or deleted until the write commits (which would
// otherwise let a value of a deleted or retyped attribute in). Writes lock their product row
// before the definitions; attribute writes lock only definitions, so the order is acyclic.
func loadDefinitions(ctx context.Context, q querier, sets ...catalog.Attributes) (func(string) (catalog.AttributeDefinition, bool), error) {
	seen := map[string]bool{}
	var ks []string
	for _, a := range sets {
		for k := range a {
			if !seen[k] {
				seen[k] = true
				ks = append(ks, k)
			}
		}
	}
	defs := map[string]catalog.AttributeDefinition{}
	if len(ks) > 0 {
		rows, err := q.Query(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions WHERE key = ANY($1) ORDER BY key FOR SHARE`, ks)
		if err != nil {
			return nil, err
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.AttributeDefinition, error) { return scanAttribute(r) })
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			defs[d.Key] = d
		}
	}
	return func(k string) (catalog.AttributeDefinition, bool) { d, ok := defs[k]; return d, ok }, nil
}

// CreateAttribute defines an attribute.
func (s *Store) CreateAttribute(ctx context.Context, in catalog.AttributeDefinitionInput) (catalog.AttributeDefinition, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return catalog.AttributeDefinition{}, err
	}
	var d catalog.AttributeDefinition
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := s.clock.Now()
		var err error
		d, err = scanAttribute(tx.QueryRow(ctx, `INSERT INTO attribute_definitions (key, name, type, enum_values, unit, filterable, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, `+nextVersion("attributes/", "$1")+`, $7, $7) RETURNING `+attributeColumns,
			in.Key, in.Name, in.Type, enumValues(in), in.Unit, in.Filterable, now))
		if sqlState(err) == uniqueViolation {
			return &catalog.Error{Code: catalog.CodeConflict, Message: "the attribute is already defined",
				Fields: []catalog.FieldError{{Field: "key", Problem: "attribute " + in.Key + " already exists: change it with PUT"}}, Err: err}
		}
		return s.emitAfter(ctx, tx, err, catalog.EventAttributeChanged, d)
	})
	return d, err
}

func enumValues(in catalog.AttributeDefinitionInput) []string {
	if in.Values == nil {
		return []string{}
	}
	return in.Values
}

// Attribute returns one definition.
func (s *Store) Attribute(ctx context.Context, key string) (catalog.AttributeDefinition, error) {
	if !catalog.ValidAttributeKey(key) {
		return catalog.AttributeDefinition{}, catalog.ErrAttributeNotFound
	}
	var d catalog.AttributeDefinition
	err := s.read(ctx, func(c *pgxpool.Conn) (err error) {
		d, err = scanAttribute(c.QueryRow(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions WHERE key = $1`, key))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return d, catalog.ErrAttributeNotFound
	}
	return d, storeError(ctx, err)
}

// AttributeList returns every definition, by key.
func (s *Store) AttributeList(ctx context.Context) ([]catalog.AttributeDefinition, error) {
	var out []catalog.AttributeDefinition
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions ORDER BY key COLLATE "C"`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.AttributeDefinition, error) { return scanAttribute(r) })
		return err
	})
	if out == nil {
		out = []catalog.AttributeDefinition{}
	}
	return out, storeError(ctx, err)
}

// lockAttribute locks a definition and checks the caller's version.
func lockAttribute(ctx context.Context, tx pgx.Tx, key string, ifVersion int64) (catalog.AttributeDefinition, error) {
	d, err := scanAttribute(tx.QueryRow(ctx, `SELECT `+attributeColumns+` FROM attribute_definitions WHERE key = $1 FOR UPDATE`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, catalog.ErrAttributeNotFound
	}
	if err == nil && ifVersion != 0 && d.Version != ifVersion {
		return d, catalog.StaleVersion(d.Version, ifVersion)
	}
	return d, err
}

// attributeInUse reports whether any product or variant has a value for key (value "": any
// value), through the attributes' GIN indexes.
func attributeInUse(ctx context.Context, q querier, key, value string) (bool, error) {
	cond, arg := `attributes ? $1`, any(key)
	if value != "" {
		cond, arg = `attributes @> $1`, map[string]any{key: value}
	}
	var used bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE `+cond+`) OR EXISTS (SELECT 1 FROM variants WHERE `+cond+`)`, arg).Scan(&used)
	return used, err
}

// UpdateAttribute replaces a definition; CanRedefine decides what may change while values use
// it.
func (s *Store) UpdateAttribute(ctx context.Context, key string, in catalog.AttributeDefinitionInput, ifVersion int64) (catalog.AttributeDefinition, error) {
	if !catalog.ValidAttributeKey(key) {
		return catalog.AttributeDefinition{}, catalog.ErrAttributeNotFound
	}
	in.Normalize()
	if in.Key == "" {
		in.Key = key
	}
	if err := in.Validate(); err != nil {
		return catalog.AttributeDefinition{}, err
	}
	var d catalog.AttributeDefinition
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockAttribute(ctx, tx, key, ifVersion)
		if err != nil {
			return err
		}
		var qerr error
		inUse := func(value string) bool {
			used, err := attributeInUse(ctx, tx, key, value)
			if err != nil && qerr == nil {
				qerr = err
			}
			return used || err != nil
		}
		err = catalog.CanRedefine(cur, in, inUse)
		if qerr != nil {
			return qerr
		}
		if err != nil {
			return err
		}
		d, err = scanAttribute(tx.QueryRow(ctx, `UPDATE attribute_definitions SET name = $2, type = $3, enum_values = $4, unit = $5,
			filterable = $6, version = version + 1, updated_at = $7 WHERE key = $1 RETURNING `+attributeColumns,
			key, in.Name, in.Type, enumValues(in), in.Unit, in.Filterable, s.clock.Now()))
		return s.emitAfter(ctx, tx, err, catalog.EventAttributeChanged, d)
	})
	return d, err
}

// DeleteAttribute removes a definition no product or variant uses.
func (s *Store) DeleteAttribute(ctx context.Context, key string, ifVersion int64) error {
	if !catalog.ValidAttributeKey(key) {
		return catalog.ErrAttributeNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockAttribute(ctx, tx, key, ifVersion)
		if err != nil {
			return err
		}
		used, err := attributeInUse(ctx, tx, key, "")
		if err != nil {
			return err
		}
		if used {
			return &catalog.Error{Code: catalog.CodeConflict, Message: "attribute " + key + " is in use: remove it from every product and variant first",
				Fields: []catalog.FieldError{{Field: "key", Problem: "products or variants have a value for " + key}}}
		}
		_, err = tx.Exec(ctx, `DELETE FROM attribute_definitions WHERE key = $1`, key)
		return s.emitDeleted(ctx, tx, err, catalog.EventAttributeDeleted, catalog.Deleted{Subject: "attributes/" + key, Version: cur.Version + 1})
	})
}
