package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// readAll reads a response body and puts it back for the caller.
func readAll(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}

func extractCursor(body []byte) string {
	var v struct {
		NextCursor string `json:"next_cursor"`
	}
	json.Unmarshal(body, &v)
	return v.NextCursor
}
