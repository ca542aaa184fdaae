package depgraph

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestWaitsAndCycle(t *testing.T) {
	g := Graph{"A": {"B", "C"}, "B": {"C"}, "C": nil}
	if !g.Waits("A", "C") || !g.Waits("B", "C") || g.Waits("C", "A") || g.Waits("A", "A") {
		t.Error("Waits wrong on A->B->C, A->C")
	}
	if c := g.Cycle(); c != nil {
		t.Errorf("Cycle = %v, want nil", c)
	}
	g["C"] = []string{"A"}
	if c := g.Cycle(); len(c) != 4 || c[0] != c[3] {
		t.Errorf("Cycle = %v, want a three-resource cycle", c)
	}
	if c := (Graph{"S": {"S"}}).Cycle(); len(c) != 2 {
		t.Errorf("self-loop: Cycle = %v", c)
	}
}

// TestCycleProperty: on random graphs, Cycle finds a cycle exactly when a node waits for
// itself, and what it returns is a cycle of the graph's own edges.
func TestCycleProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(8)
		g := Graph{}
		for i := range n {
			id := strconv.Itoa(i)
			g[id] = nil
			for j := range n {
				if r.IntN(6) == 0 {
					g[id] = append(g[id], strconv.Itoa(j))
				}
			}
		}
		cyclic := false
		for id := range g {
			cyclic = cyclic || g.Waits(id, id)
		}
		c := g.Cycle()
		if (c != nil) != cyclic {
			t.Fatalf("graph %v: Cycle = %v, but some node waits for itself: %v", g, c, cyclic)
		}
		for i := 0; i+1 < len(c); i++ {
			if !contains(g[c[i]], c[i+1]) {
				t.Fatalf("graph %v: Cycle = %v has no edge %s -> %s", g, c, c[i], c[i+1])
			}
		}
		if c != nil && c[0] != c[len(c)-1] {
			t.Fatalf("Cycle = %v does not close", c)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
