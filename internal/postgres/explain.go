package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// Plan is what EXPLAIN (ANALYZE, BUFFERS) says about one list query as ListProducts runs it.
type Plan struct {
	// Nodes are the plan's nodes, depth first, as "Index Scan on products (products_name_id)".
	Nodes []string
	// Buffers counts the pages the query touched (shared hits and reads), with those of the
	// count that chose a search plan, if there was one: the work it did, independent of how
	// busy the machine was.
	Buffers int64
	Rows    int64
}

// SeqScan reports whether the plan reads the whole products table.
func (p Plan) SeqScan() bool {
	for _, n := range p.Nodes {
		if strings.HasPrefix(n, "Seq Scan on products") {
			return true
		}
	}
	return false
}

// ExplainList runs the page query ListProducts would run for q, plan choice included, under
// EXPLAIN ANALYZE, so benchmarks and tests can show how much of the catalog a page reads.
func (s *Store) ExplainList(ctx context.Context, q catalog.ListQuery) (Plan, error) {
	if err := q.Validate(); err != nil {
		return Plan{}, err
	}
	st, err := s.listStatements(context.WithValue(ctx, freshPlanKey{}, true), s.pool, q)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	// The counts that chose the search plan are part of what the search costs.
	for _, c := range st.counts {
		n, err := s.explainIn(ctx, forceSearchIndex, c.sql, c.args...) // as onIndexes runs it
		if err != nil {
			return Plan{}, err
		}
		p.Buffers += n.SharedHit + n.SharedRead
	}
	setup := ""
	if st.rare {
		setup = forceSearchIndex
	}
	top, err := s.explainIn(ctx, setup, st.query, st.args...)
	if err != nil {
		return Plan{}, err
	}
	p.Buffers += top.SharedHit + top.SharedRead
	p.Rows = top.Rows
	var walk func(n planNode)
	walk = func(n planNode) {
		name := n.Type
		if n.Relation != "" {
			name += " on " + n.Relation
		}
		if n.Index != "" {
			name += " (" + n.Index + ")"
		}
		p.Nodes = append(p.Nodes, name)
		for _, k := range n.Plans {
			walk(k)
		}
	}
	walk(top)
	return p, nil
}

func (s *Store) explain(ctx context.Context, query string, args ...any) (planNode, error) {
	return s.explainIn(ctx, "", query, args...)
}

// explainIn explains query in a read-only transaction that first runs setup, if any, as
// listPage runs it.
func (s *Store) explainIn(ctx context.Context, setup, query string, args ...any) (planNode, error) {
	var raw []byte
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if setup != "" {
			if _, err := tx.Exec(ctx, setup); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+query, args...).Scan(&raw)
	})
	if err != nil {
		return planNode{}, err
	}
	var out []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		return planNode{}, fmt.Errorf("unexpected EXPLAIN output: %v", err)
	}
	return out[0].Plan, nil
}

type planNode struct {
	Type       string     `json:"Node Type"`
	Relation   string     `json:"Relation Name"`
	Index      string     `json:"Index Name"`
	Rows       int64      `json:"Actual Rows"`
	Loops      int64      `json:"Actual Loops"`
	SharedHit  int64      `json:"Shared Hit Blocks"`
	SharedRead int64      `json:"Shared Read Blocks"`
	Plans      []planNode `json:"Plans"`
}
