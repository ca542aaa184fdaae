package relay_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/acme/catalog/internal/awsevents"
	"github.com/acme/catalog/internal/catalog"
)

// fakeBus serves PutEvents (AWS JSON 1.1, target AWSEvents.PutEvents) like EventBridge: it
// answers per entry, records every entry it accepted with the time it did, and can be told to
// be down (503 for every request) or to fail chosen entries.
type fakeBus struct {
	t  testing.TB
	mu sync.Mutex
	// accepted lists the entries accepted, in arrival order.
	accepted []received
	// down answers every request 503.
	down bool
	// fail, when set, decides per entry (by its sequence) whether it fails this time.
	fail     func(seq int64) bool
	requests int
	failures int // entries answered with an error code
	// latency delays every answer (PutEvents from a task in the same region: tens of ms).
	latency time.Duration
}

type received struct {
	seq    int64
	at     time.Time
	entry  map[string]any
	detail catalog.Event
}

func (f *fakeBus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var in struct{ Entries []map[string]any }
	if err := json.Unmarshal(b, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.latency > 0 {
		time.Sleep(f.latency) // outside the lock: requests overlap as they would in AWS
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if f.down {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"__type":"ServiceUnavailableException","message":"down for the test"}`)
		return
	}
	if len(in.Entries) == 0 || len(in.Entries) > awsevents.MaxEntries {
		http.Error(w, "entries: "+strconv.Itoa(len(in.Entries)), http.StatusBadRequest)
		return
	}
	type result struct {
		EventId, ErrorCode, ErrorMessage string `json:",omitempty"`
	}
	var out struct {
		FailedEntryCount int
		Entries          []result
	}
	now := time.Now()
	for _, e := range in.Entries {
		var ev catalog.Event
		if err := json.Unmarshal([]byte(e["Detail"].(string)), &ev); err != nil {
			f.t.Errorf("detail is not a CloudEvent: %v", err)
		}
		seq, _ := strconv.ParseInt(ev.Sequence, 10, 64)
		if f.fail != nil && f.fail(seq) {
			out.FailedEntryCount++
			f.failures++
			out.Entries = append(out.Entries, result{ErrorCode: "InternalFailure", ErrorMessage: "failed for the test"})
			continue
		}
		f.accepted = append(f.accepted, received{seq: seq, at: now, entry: e, detail: ev})
		out.Entries = append(out.Entries, result{EventId: ev.ID})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func (f *fakeBus) set(fn func(f *fakeBus)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// seqs returns the accepted sequences in arrival order.
func (f *fakeBus) seqs() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int64, len(f.accepted))
	for i, r := range f.accepted {
		out[i] = r.seq
	}
	return out
}

// has reports whether every sequence in want was accepted.
func (f *fakeBus) has(want []int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := map[int64]bool{}
	for _, r := range f.accepted {
		got[r.seq] = true
	}
	for _, s := range want {
		if !got[s] {
			return false
		}
	}
	return true
}

// newBus serves a fake bus and returns it with a publisher to it. The SDK's own retries are
// off so a down endpoint answers at once; the relay's backoff is what is under test.
func newBus(t testing.TB) (*fakeBus, *awsevents.Publisher) {
	t.Helper()
	f := &fakeBus{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := eventbridge.New(eventbridge.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
	p := awsevents.New(client, "catalog-bus", "com.acme.catalog")
	p.Backoff = time.Millisecond
	return f, p
}

// eventually waits up to 20 s for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
