package blueprint_test

import (
	"fmt"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

// TestCoveringChoicesCoverEveryTriple: every assignment of any three options that a valid
// deployment takes appears in some covering choice, and every covering choice is valid.
func TestCoveringChoicesCoverEveryTriple(t *testing.T) {
	for _, strength := range []int{1, 2, 3} {
		cover := blueprint.CoveringChoices(strength)
		seen := map[string]bool{}
		for _, c := range cover {
			if !c.Valid() {
				t.Errorf("strength %d: %v is not a valid deployment", strength, c)
			}
			for _, k := range assignments(c, strength) {
				seen[k] = true
			}
		}
		for _, c := range blueprint.AllChoices() {
			for _, k := range assignments(c, strength) {
				if !seen[k] {
					t.Fatalf("strength %d: no covering choice takes %s", strength, k)
				}
			}
		}
		t.Logf("strength %d: %d choices cover %d deployments", strength, len(cover), len(blueprint.AllChoices()))
	}
}

func assignments(c blueprint.Choices, strength int) []string {
	var out []string
	o := blueprint.Options
	var walk func(start int, prefix string, left int)
	walk = func(start int, prefix string, left int) {
		if left == 0 {
			out = append(out, prefix)
			return
		}
		for i := start; i < len(o); i++ {
			walk(i+1, fmt.Sprintf("%s %s=%v", prefix, o[i], c.Has(o[i])), left-1)
		}
	}
	walk(0, "", strength)
	return out
}
