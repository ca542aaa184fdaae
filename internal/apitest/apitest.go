// Package apitest holds the API to its OpenAPI document in tests: an HTTP client whose every
// response is validated against the document (status, headers, body), so end-to-end tests
// double as a contract test.
package apitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/klauspost/compress/zstd"

	"github.com/acme/catalog/api"
)

func init() {
	// JSON Lines (GET /exports): the document describes the body as the array of its lines, so
	// every line is validated against its schema.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		dec := json.NewDecoder(r)
		dec.UseNumber()
		lines := []any{}
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return lines, nil
			} else if err != nil {
				return nil, fmt.Errorf("line %d: %w", len(lines)+1, err)
			}
			lines = append(lines, v)
		}
	})
}

// Load parses and validates the embedded OpenAPI document.
func Load(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

// Client returns an HTTP client that fails t when a response does not match the document.
// Requests to paths the document does not describe are not checked (tests of unknown routes
// make them on purpose).
func Client(t testing.TB) *http.Client {
	doc := Load(t)
	// Match requests to any host: tests serve on loopback ports, not the documented server.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &validator{t: t, router: router, next: http.DefaultTransport}}
}

type validator struct {
	t      testing.TB
	router routers.Router
	next   http.RoundTripper
}

func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	// A test that sets Accept-Encoding itself gets the coded body, as a client would; the
	// document describes the decoded one.
	decoded, err := decode(resp.Header.Get("Content-Encoding"), body)
	if err != nil {
		v.t.Errorf("%s %s -> %d: %v", req.Method, req.URL.RequestURI(), resp.StatusCode, err)
		return resp, nil
	}
	if err := v.check(req, resp, decoded); err != nil {
		v.t.Errorf("%s %s -> %d does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, truncate(body))
	}
	return resp, nil
}

func (v *validator) check(req *http.Request, resp *http.Response, body []byte) error {
	if resp.StatusCode == http.StatusMethodNotAllowed {
		return nil // the router's generic answer for a method the document does not describe
	}
	route, params, err := v.router.FindRoute(req)
	if err == nil && (route.Operation == nil || route.Method != req.Method) {
		err = fmt.Errorf("no %s operation on %s", req.Method, route.Path)
	}
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("route not in the document: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// decode undoes a response's content coding: gzip and zstd, the ones the service sends.
func decode(coding string, body []byte) ([]byte, error) {
	switch coding {
	case "":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		return io.ReadAll(zr)
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("zstd body: %w", err)
		}
		defer zr.Close()
		return io.ReadAll(zr)
	}
	return nil, fmt.Errorf("content coding %q the service does not send", coding)
}

// Decode returns a response body without its content coding, for tests that ask for one.
func Decode(t testing.TB, resp *http.Response, body []byte) []byte {
	t.Helper()
	b, err := decode(resp.Header.Get("Content-Encoding"), body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func truncate(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "..."
	}
	return string(b)
}
