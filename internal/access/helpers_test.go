package access

import (
	"net/http"
	"net/http/httptest"
)

func httptestRequest(auth string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}
