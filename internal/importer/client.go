package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
)

// Client uploads a file to POST /imports and follows the job: what `catalog import` runs.
type Client struct {
	// URL is the service's base URL.
	URL string
	// Key is an API key with the catalog scope.
	Key  string
	HTTP *http.Client
	// Poll is the pause between job reads (default 500 ms).
	Poll time.Duration
}

// FileInfo is what the client learned of a file while sending it.
type FileInfo struct {
	Format bulk.Format
	// Lines is the number of lines in the file, for a progress bar against the job's count.
	Lines int64
}

// FormatOfPath guesses a file's format from its name: .csv or .jsonl/.ndjson, optionally .gz.
func FormatOfPath(path string) (f bulk.Format, gzipped bool, ok bool) {
	p := strings.ToLower(path)
	if q, found := strings.CutSuffix(p, ".gz"); found {
		p, gzipped = q, true
	}
	switch {
	case strings.HasSuffix(p, ".csv"):
		return bulk.CSV, gzipped, true
	case strings.HasSuffix(p, ".jsonl"), strings.HasSuffix(p, ".ndjson"):
		return bulk.JSONL, gzipped, true
	}
	return "", gzipped, false
}

// Upload streams the file at path, gzip-compressed, and returns the job the service queued.
// A file already gzipped (.gz) is sent as it is. The request carries a fresh Idempotency-Key,
// so the one retry after a broken connection cannot start the import twice.
func (c *Client) Upload(ctx context.Context, path string, format bulk.Format, dryRun, partial bool) (catalog.ImportJob, FileInfo, error) {
	info := FileInfo{Format: format}
	keyBytes := make([]byte, 16)
	_, _ = rand.Read(keyBytes)
	key := "cli-" + hex.EncodeToString(keyBytes)
	var job catalog.ImportJob
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		job, info.Lines, err = c.upload(ctx, path, format, dryRun, partial, key)
		var he *HTTPError
		if err == nil || errors.As(err, &he) || ctx.Err() != nil {
			break
		}
	}
	return job, info, err
}

func (c *Client) upload(ctx context.Context, path string, format bulk.Format, dryRun, partial bool, key string) (catalog.ImportJob, int64, error) {
	var job catalog.ImportJob
	f, err := os.Open(path)
	if err != nil {
		return job, 0, err
	}
	defer f.Close()
	_, gzipped, _ := FormatOfPath(path)
	pr, pw := io.Pipe()
	lines := make(chan int64, 1)
	go func() {
		// Count lines as the file goes by; compress unless it already is.
		var n int64
		var w io.Writer = pw
		var zw *gzip.Writer
		if !gzipped {
			zw = gzip.NewWriter(pw)
			w = zw
		}
		src := io.Reader(f)
		if gzipped {
			src = f // lines are not counted inside a gzipped file: no progress bar then
		}
		buf := bufio.NewReaderSize(src, 256<<10)
		chunk := make([]byte, 256<<10)
		var werr error
		for {
			k, rerr := buf.Read(chunk)
			if k > 0 {
				if !gzipped {
					n += int64(bytes.Count(chunk[:k], []byte{'\n'}))
				}
				if _, werr = w.Write(chunk[:k]); werr != nil {
					break
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				werr = rerr
				break
			}
		}
		if zw != nil && werr == nil {
			werr = zw.Close()
		}
		lines <- n
		pw.CloseWithError(werr)
	}()
	q := url.Values{}
	if dryRun {
		q.Set("dry_run", "true")
	}
	if partial {
		q.Set("partial", "true")
	}
	u := strings.TrimSuffix(c.URL, "/") + "/imports"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, pr)
	if err != nil {
		pr.CloseWithError(err)
		return job, 0, err
	}
	media := bulk.MediaCSV
	if format == bulk.JSONL {
		media = bulk.MediaJSONL
	}
	req.Header.Set("Content-Type", media)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Authorization", "Bearer "+c.Key)
	err = c.do(req, http.StatusAccepted, &job)
	pr.CloseWithError(errors.New("request done"))
	n := <-lines
	return job, n, err
}

// Follow reads the job until it finishes, calling progress after each read.
func (c *Client) Follow(ctx context.Context, id string, progress func(catalog.ImportJob)) (catalog.ImportJob, error) {
	poll := c.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.URL, "/")+"/imports/"+url.PathEscape(id), nil)
		if err != nil {
			return catalog.ImportJob{}, err
		}
		req.Header.Set("Authorization", "Bearer "+c.Key)
		var job catalog.ImportJob
		if err := c.do(req, http.StatusOK, &job); err != nil {
			return job, err
		}
		if progress != nil {
			progress(job)
		}
		if job.State.Finished() {
			return job, nil
		}
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// HTTPError is an answer other than the one expected, with the service's error body.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	var body struct {
		Error struct {
			Code    string               `json:"code"`
			Message string               `json:"message"`
			Fields  []catalog.FieldError `json:"fields"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(e.Body), &body) != nil || body.Error.Message == "" {
		return fmt.Sprintf("the service answered %d", e.Status)
	}
	s := fmt.Sprintf("the service answered %d %s: %s", e.Status, body.Error.Code, body.Error.Message)
	for _, f := range body.Error.Fields {
		s += fmt.Sprintf("; %s: %s", f.Field, f.Problem)
	}
	return s
}

func (c *Client) do(req *http.Request, want int, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return &HTTPError{Status: resp.StatusCode, Body: string(b)}
	}
	return json.Unmarshal(b, out)
}
