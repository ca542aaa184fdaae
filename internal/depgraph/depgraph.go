// Package depgraph answers the two questions a deployment's dependency graph is asked: does one
// resource wait for another, and is there a cycle. It knows no tool: CloudFormation's template
// (cfn.Template.Dependencies) and the Pulumi program's recorded dependencies both give it a map
// from each resource to the resources it waits for, and the model's order edges
// (blueprint.Architecture.Order) are checked against either.
package depgraph

import "sort"

// Graph maps each resource to the resources it must wait for (created before it).
type Graph map[string][]string

// Waits reports whether from waits for to, directly or through other resources.
func (g Graph) Waits(from, to string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		for _, d := range g[n] {
			if d == to || walk(d) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

// Cycle returns one cycle (its resources in order, the first repeated at the end), or nil when
// the graph is acyclic. Nodes are visited in sorted order, so the answer is deterministic.
func (g Graph) Cycle() []string {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack, found []string
	var visit func(string) bool
	visit = func(n string) bool {
		state[n] = active
		stack = append(stack, n)
		for _, d := range g[n] {
			switch state[d] {
			case active:
				for i, s := range stack {
					if s == d {
						found = append(append([]string{}, stack[i:]...), d)
						return true
					}
				}
			case unseen:
				if visit(d) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return false
	}
	ids := make([]string, 0, len(g))
	for id := range g {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if state[id] == unseen && visit(id) {
			return found
		}
	}
	return nil
}
