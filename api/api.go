// Package api embeds the catalog's OpenAPI document, served at /openapi.yaml and used by the
// contract tests.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 description of the HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte
