package storetest

import (
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Slug-named entities keep growing versions (issue 17): a category, collection or attribute
// definition deleted and created again under the same slug continues above the deletion's
// entityversion, so a consumer holding the deletion's version (its tombstone) applies the new
// entity's events under "apply only if newer".

func slugVersionTests() []namedTest {
	return []namedTest{
		{"SlugVersionsGrowAcrossRecreation", testSlugVersionsGrow},
	}
}

func testSlugVersionsGrow(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:slugs")
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		clock.Advance(time.Second)
	}
	_, cursor := feed(t, s, 0)
	for round := range 3 { // three lives of each slug
		step("CreateCategory", second(s.CreateCategory(c, catalog.CategoryInput{Slug: "again", Name: "Again"})))
		step("UpdateCategory", second(s.UpdateCategory(c, "again", catalog.CategoryPatch{Name: ptr("Again 2")})))
		step("DeleteCategory", s.DeleteCategory(c, "again"))

		col, err := s.CreateCollection(c, catalog.CollectionInput{Slug: "again", Name: "Again"})
		step("CreateCollection", err)
		if round > 0 && col.Version <= 2 {
			t.Fatalf("collection created again (life %d) has version %d; want above its deletion's", round+1, col.Version)
		}
		step("UpdateCollection", second(s.UpdateCollection(c, "again", catalog.CollectionPatch{Name: ptr("Again 2")}, 0)))
		step("DeleteCollection", s.DeleteCollection(c, "again", 0))

		attr := catalog.AttributeDefinitionInput{Key: "again", Name: "Again", Type: catalog.AttrText}
		step("CreateAttribute", second(s.CreateAttribute(c, attr)))
		attr.Name = "Again 2"
		step("UpdateAttribute", second(s.UpdateAttribute(c, attr.Key, attr, 0)))
		step("DeleteAttribute", s.DeleteAttribute(c, attr.Key, 0))
	}
	evs, _ := feed(t, s, cursor)
	last := map[string]catalog.Event{}
	counts := map[string]int{}
	for _, e := range evs {
		counts[e.Subject]++
		if prev, ok := last[e.Subject]; ok && e.EntityVersion <= prev.EntityVersion {
			t.Errorf("%s: %s has entityversion %d after %s with %d; want it to keep growing across deletion and re-creation",
				e.Subject, e.Type, e.EntityVersion, prev.Type, prev.EntityVersion)
		}
		last[e.Subject] = e
	}
	for _, subject := range []string{"categories/again", "collections/again", "attributes/again"} {
		if counts[subject] != 9 {
			t.Errorf("%s: %d events, want 9 (three lives of create, update, delete)", subject, counts[subject])
		}
	}
}
