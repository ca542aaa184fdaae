package apitest_test

import (
	"testing"

	"github.com/acme/catalog/internal/apitest"
)

// TestDocumentIsValid: the embedded OpenAPI document loads and passes kin-openapi's
// validation, on its own, before any end-to-end test leans on it.
func TestDocumentIsValid(t *testing.T) {
	doc := apitest.Load(t)
	if doc.Paths.Len() == 0 {
		t.Fatal("the document has no paths")
	}
}
