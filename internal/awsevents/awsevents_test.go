package awsevents

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// fakeEventBridge serves PutEvents (the AWS JSON 1.1 protocol, target
// AWSEvents.PutEvents) and records what it received. failFirst makes the first n entries of
// the first request fail with ThrottlingException, as EventBridge does under load.
type fakeEventBridge struct {
	mu        sync.Mutex
	requests  [][]map[string]any
	failFirst int
}

func (f *fakeEventBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
		http.Error(w, "unexpected target "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var in struct{ Entries []map[string]any }
	if err := json.Unmarshal(b, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	first := len(f.requests) == 0
	f.requests = append(f.requests, in.Entries)
	f.mu.Unlock()
	type result struct {
		EventId      string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{}
	for i := range in.Entries {
		if first && i < f.failFirst {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded"})
			continue
		}
		out.Entries = append(out.Entries, result{EventId: "ev-" + strings.Repeat("x", i)})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func newPublisher(t *testing.T, f *fakeEventBridge) *Publisher {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := eventbridge.New(eventbridge.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	p := New(client, "catalog-bus", "catalog")
	p.Backoff = time.Millisecond
	return p
}

func events(n, detailBytes int) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = Event{DetailType: "catalog.product.updated", Detail: `{"x":"` + strings.Repeat("a", detailBytes) + `"}`,
			Time: time.Unix(1700000000, 0), Resources: []string{"product/1"}, Summary: `{"summary":true}`}
	}
	return out
}

func TestPublishBatchesWithinTheLimits(t *testing.T) {
	f := &fakeEventBridge{}
	p := newPublisher(t, f)
	// 25 small events: 10 + 10 + 5 entries.
	if _, err := p.Publish(context.Background(), events(25, 10)); err != nil {
		t.Fatal(err)
	}
	if got := []int{len(f.requests[0]), len(f.requests[1]), len(f.requests[2])}; len(f.requests) != 3 || got[0] != 10 || got[2] != 5 {
		t.Fatalf("batches %v (%d requests)", got, len(f.requests))
	}
	e := f.requests[0][0]
	if e["EventBusName"] != "catalog-bus" || e["Source"] != "catalog" || e["DetailType"] != "catalog.product.updated" {
		t.Fatalf("entry %v", e)
	}

	// 100 KB events: two fit under 256 KB, a third does not.
	f.requests = nil
	if _, err := p.Publish(context.Background(), events(3, 100*1024)); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 2 || len(f.requests[0]) != 2 || len(f.requests[1]) != 1 {
		t.Fatalf("size batching: %d requests", len(f.requests))
	}
}

func TestPublishSummarizesAnEventTooLargeForAnEntry(t *testing.T) {
	f := &fakeEventBridge{}
	p := newPublisher(t, f)
	if _, err := p.Publish(context.Background(), events(1, 300*1024)); err != nil {
		t.Fatal(err)
	}
	if d := f.requests[0][0]["Detail"]; d != `{"summary":true}` {
		t.Fatalf("detail %.40v", d)
	}
	big := events(1, 300*1024)
	big[0].Summary = ""
	if _, err := p.Publish(context.Background(), big); err == nil {
		t.Fatal("an event too large with no summary was accepted")
	}
}

func TestPublishRetriesOnlyTheFailedEntries(t *testing.T) {
	f := &fakeEventBridge{failFirst: 3}
	p := newPublisher(t, f)
	if _, err := p.Publish(context.Background(), events(5, 10)); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 2 || len(f.requests[1]) != 3 {
		t.Fatalf("requests: %d, second has %d entries (want the 3 that failed)", len(f.requests), len(f.requests[len(f.requests)-1]))
	}
}

func TestPublishGivesUpAndSaysSo(t *testing.T) {
	f := &fakeEventBridge{failFirst: 10}
	p := newPublisher(t, f)
	p.Attempts = 1
	_, err := p.Publish(context.Background(), events(2, 10))
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), "2 of 2") {
		t.Fatalf("Publish = %v", err)
	}
}

// putFunc is a Putter from a function, to script EventBridge's per-entry answers.
type putFunc func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)

func (f putFunc) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return f(in)
}

// TestPublishCountsOnlyTheAcceptedPrefix: the count Publish returns never passes an event
// that was not accepted, whichever entries fail, so a caller advancing by it skips nothing.
func TestPublishCountsOnlyTheAcceptedPrefix(t *testing.T) {
	for _, tc := range []struct {
		name   string
		failed func(detail string) bool // entries that always fail
		want   int
	}{
		{"none fails", func(string) bool { return false }, 25},
		{"the 4th fails, later ones pass", func(d string) bool { return d == `{"n":3}` }, 3},
		{"one in the second request", func(d string) bool { return d == `{"n":14}` }, 14},
		{"the first fails", func(d string) bool { return d == `{"n":0}` }, 0},
	} {
		for _, concurrency := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/concurrency=%d", tc.name, concurrency), func(t *testing.T) {
				sent := map[string]int{}
				var mu sync.Mutex
				p := New(putFunc(func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
					mu.Lock()
					defer mu.Unlock()
					out := &eventbridge.PutEventsOutput{}
					for _, e := range in.Entries {
						d := aws.ToString(e.Detail)
						sent[d]++
						if tc.failed(d) {
							out.FailedEntryCount++
							out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure")})
							continue
						}
						out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("x")})
					}
					return out, nil
				}), "bus", "catalog")
				p.Backoff = time.Microsecond
				p.Concurrency = concurrency
				evs := make([]Event, 25)
				for i := range evs {
					evs[i] = Event{DetailType: "t", Detail: fmt.Sprintf(`{"n":%d}`, i), Time: time.Unix(0, 0)}
				}
				n, err := p.Publish(context.Background(), evs)
				if n != tc.want || (err == nil) != (tc.want == len(evs)) {
					t.Fatalf("Publish = %d, %v; want %d", n, err, tc.want)
				}
				// Accepted entries are never sent again within a call.
				for d, k := range sent {
					if k > 1 && !tc.failed(d) {
						t.Errorf("%s sent %d times", d, k)
					}
				}
			})
		}
	}
}

// TestPublishPrefixProperty: for random event counts, random per-entry failures (each entry
// fails a random number of times) and random concurrency, the count Publish returns is the
// longest prefix of events EventBridge accepted, nil error exactly when it is all of them, and
// no accepted entry is sent again within the call.
func TestPublishPrefixProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 1 + rng.IntN(60)
		failures := make([]int, n) // how many times each event fails before it passes
		for i := range failures {
			if rng.IntN(8) == 0 {
				failures[i] = 1 + rng.IntN(5)
			}
		}
		var mu sync.Mutex
		accepted := make([]int, n)
		tries := make([]int, n)
		p := New(putFunc(func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
			mu.Lock()
			defer mu.Unlock()
			out := &eventbridge.PutEventsOutput{}
			for _, e := range in.Entries {
				var i int
				fmt.Sscanf(aws.ToString(e.Detail), `{"n":%d}`, &i)
				tries[i]++
				if tries[i] <= failures[i] {
					out.FailedEntryCount++
					out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException")})
					continue
				}
				accepted[i]++
				out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("x")})
			}
			return out, nil
		}), "bus", "catalog")
		p.Backoff = time.Nanosecond
		p.Attempts = 1 + rng.IntN(4)
		p.Concurrency = 1 + rng.IntN(4)
		evs := make([]Event, n)
		for i := range evs {
			evs[i] = Event{DetailType: "t", Detail: fmt.Sprintf(`{"n":%d}`, i), Time: time.Unix(0, 0)}
		}
		got, err := p.Publish(context.Background(), evs)
		prefix := 0
		for prefix < n && accepted[prefix] > 0 {
			prefix++
		}
		if got != prefix || (err == nil) != (got == n) {
			t.Fatalf("round %d (attempts %d, concurrency %d, failures %v): Publish = %d, %v; accepted prefix %d",
				round, p.Attempts, p.Concurrency, failures, got, err, prefix)
		}
		for i, k := range accepted {
			if k > 1 {
				t.Fatalf("round %d: event %d accepted %d times in one call", round, i, k)
			}
		}
	}
}
