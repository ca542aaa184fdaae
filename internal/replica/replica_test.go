package replica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/replica"
)

// fakeStore answers Product with its name, or err; every other method is the nil interface's
// (a call panics, so a read routed where it should not be is loud).
type fakeStore struct {
	catalog.Store
	name   string
	err    error
	calls  int
	pos    catalog.ReadPosition
	posErr error
	rep    replica.Replay
	repErr error
}

func (f *fakeStore) Product(ctx context.Context, id string) (catalog.Product, error) {
	f.calls++
	if f.err != nil {
		return catalog.Product{}, f.err
	}
	return catalog.Product{ID: id, Name: f.name}, nil
}

func (f *fakeStore) WritePosition(context.Context) (catalog.ReadPosition, error) {
	return f.pos, f.posErr
}
func (f *fakeStore) Replay(context.Context) (replica.Replay, error) { return f.rep, f.repErr }
func (f *fakeStore) Close() error                                   { return nil }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newRouter(t *testing.T) (*replica.Router, *fakeStore, *fakeStore, *clock) {
	t.Helper()
	w := &fakeStore{name: "writer", pos: 100}
	r := &fakeStore{name: "reader", rep: replica.Replay{Known: true, Replayed: 100}}
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	router := replica.New(w, r, replica.Options{MaxLag: time.Second, ProbeInterval: 100 * time.Millisecond,
		RetryBase: time.Second, RetryCap: 4 * time.Second, Now: c.now})
	return router, w, r, c
}

func answeredBy(t *testing.T, r *replica.Router, ctx context.Context) string {
	t.Helper()
	p, err := r.Product(ctx, "p1")
	if err != nil {
		t.Fatalf("Product = %v", err)
	}
	return p.Name
}

func TestNotProbedMeansWriter(t *testing.T) {
	router, _, _, _ := newRouter(t)
	if got := answeredBy(t, router, context.Background()); got != "writer" {
		t.Fatalf("before any probe answered by %s, want writer", got)
	}
}

func TestRouting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		rep  replica.Replay
		ctx  context.Context
		want string
	}{
		{"caught up", replica.Replay{Known: true, Replayed: 100}, ctx, "reader"},
		{"behind within the bound", replica.Replay{Known: true, Replayed: 90, SinceLastReplay: 900 * time.Millisecond}, ctx, "reader"},
		{"behind past the bound", replica.Replay{Known: true, Replayed: 90, SinceLastReplay: 1100 * time.Millisecond}, ctx, "writer"},
		{"behind, nothing replayed yet", replica.Replay{Known: true, Replayed: 90, SinceLastReplay: -1}, ctx, "writer"},
		{"token reached", replica.Replay{Known: true, Replayed: 100}, catalog.WithReadAfter(ctx, 100), "reader"},
		{"token ahead", replica.Replay{Known: true, Replayed: 100}, catalog.WithReadAfter(ctx, 101), "writer"},
		{"token, position unknown", replica.Replay{Known: false, SinceLastReplay: 0}, catalog.WithReadAfter(ctx, 1), "writer"},
		{"token, reader is a primary", replica.Replay{Primary: true}, catalog.WithReadAfter(ctx, 1<<40), "reader"},
		{"back-office read", replica.Replay{Known: true, Replayed: 100}, catalog.WithWriterReads(ctx), "writer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router, _, r, _ := newRouter(t)
			r.rep = tc.rep
			router.Probe(ctx)
			if got := answeredBy(t, router, tc.ctx); got != tc.want {
				t.Fatalf("answered by %s, want %s", got, tc.want)
			}
		})
	}
}

// TestOldVerdictExpires: a probe that stops coming back (a hanging reader) does not leave an old
// "caught up" in force: past the bound plus two probe intervals the writer answers.
func TestOldVerdictExpires(t *testing.T) {
	router, _, _, c := newRouter(t)
	router.Probe(context.Background())
	c.t = c.t.Add(time.Second + 150*time.Millisecond)
	if got := answeredBy(t, router, context.Background()); got != "reader" {
		t.Fatalf("fresh verdict: answered by %s", got)
	}
	c.t = c.t.Add(100 * time.Millisecond)
	if got := answeredBy(t, router, context.Background()); got != "writer" {
		t.Fatalf("stale verdict: answered by %s, want writer", got)
	}
}

// TestFallbackOnOutageOnly: an unavailable or internal error from the reader is answered by the
// writer and starts the back-off; not_found is the reader's answer to give; a caller that has
// gone away gets its own error, not a second try.
func TestFallbackOnOutageOnly(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{catalog.Errorf(catalog.CodeUnavailable, "refused"), "writer"},
		{catalog.Errorf(catalog.CodeInternal, "recovery conflict"), "writer"},
		{context.DeadlineExceeded, "writer"},
	} {
		router, w, r, _ := newRouter(t)
		router.Probe(ctx)
		r.err = tc.err
		if got := answeredBy(t, router, ctx); got != tc.want {
			t.Fatalf("reader error %v: answered by %s, want %s", tc.err, got, tc.want)
		}
		if st := router.Status(); st.Up || st.FallbackErr != 1 || r.calls != 1 || w.calls != 1 {
			t.Fatalf("after %v: %+v, reader calls %d, writer calls %d", tc.err, st, r.calls, w.calls)
		}
	}
	// A recovery conflict: the writer answers, the reader stays in use.
	router, w, r, _ := newRouter(t)
	router.Probe(ctx)
	r.err = catalog.Errorf(catalog.CodeConflict, "canceling statement due to conflict with recovery")
	if got := answeredBy(t, router, ctx); got != "writer" {
		t.Fatalf("recovery conflict: answered by %s, want writer", got)
	}
	if st := router.Status(); !st.Up || st.FallbackErr != 1 || r.calls != 1 || w.calls != 1 {
		t.Fatalf("after a recovery conflict: %+v, reader calls %d, writer calls %d; want up with one error fallback, each asked once", st, r.calls, w.calls)
	}
	router, w, r, _ = newRouter(t)
	router.Probe(ctx)
	r.err = catalog.ErrProductNotFound
	if _, err := router.Product(ctx, "p1"); catalog.ErrorCode(err) != catalog.CodeNotFound || w.calls != 0 {
		t.Fatalf("not_found from the reader = %v with %d writer calls, want the reader's answer", err, w.calls)
	}
	if !router.Status().Up {
		t.Fatal("a not_found took the reader down")
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	r.err = errors.Join(context.Canceled, catalog.Errorf(catalog.CodeUnavailable, "cancelled"))
	if _, err := router.Product(gone, "p1"); err == nil || w.calls != 0 {
		t.Fatalf("cancelled caller: %v, %d writer calls; want its error and no retry", err, w.calls)
	}
}

// TestBackOff: after a failure the reader is neither read nor probed until the back-off ends;
// the back-off doubles while probes fail, up to the cap, and a good probe resets it.
func TestBackOff(t *testing.T) {
	ctx := context.Background()
	router, _, r, c := newRouter(t)
	r.repErr = catalog.Errorf(catalog.CodeUnavailable, "refused")
	waits := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, want := range waits {
		router.Probe(ctx)
		c.t = c.t.Add(want - time.Millisecond)
		r.repErr = nil
		router.Probe(ctx) // inside the back-off: not probed
		if router.Status().Up {
			t.Fatalf("failure %d: probed again before %v", i+1, want)
		}
		r.repErr = catalog.Errorf(catalog.CodeUnavailable, "refused")
		c.t = c.t.Add(time.Millisecond)
	}
	r.repErr = nil
	router.Probe(ctx)
	if !router.Status().Up {
		t.Fatal("not up after a good probe")
	}
	if got := answeredBy(t, router, ctx); got != "reader" {
		t.Fatalf("back up: answered by %s", got)
	}
}

// TestReadPositionRoundTrip: every position formats to a string that parses back to it.
func FuzzReadPosition(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(0x16_B374D848))
	f.Add(^uint64(0))
	f.Fuzz(func(t *testing.T, n uint64) {
		p := catalog.ReadPosition(n)
		got, err := catalog.ParseReadPosition(p.String())
		if err != nil || got != p {
			t.Fatalf("ParseReadPosition(%q) = %v, %v; want %v", p.String(), got, err, p)
		}
	})
}

// TestLagFromTheWritersHistory: a reader that has replayed what the writer had at the previous
// probe is as stale as that probe is old, however old its last replayed transaction (WAL with
// no transaction, on an idle writer, must not look like an hour of lag); one that has not is at
// least that stale and as stale as its last replayed transaction.
func TestLagFromTheWritersHistory(t *testing.T) {
	ctx := context.Background()
	router, w, r, c := newRouter(t)
	router.Probe(ctx) // writer at 100, reader at 100
	if st := router.Status(); st.Lag != 0 {
		t.Fatalf("caught up: lag %v", st.Lag)
	}
	c.t = c.t.Add(200 * time.Millisecond)
	w.pos, r.rep = 110, replica.Replay{Known: true, Replayed: 105, SinceLastReplay: time.Hour}
	router.Probe(ctx)
	if st := router.Status(); st.Lag != 200*time.Millisecond {
		t.Fatalf("past the previous probe's position: lag %v, want 200ms", st.Lag)
	}
	if got := answeredBy(t, router, ctx); got != "reader" {
		t.Fatalf("answered by %s, want reader", got)
	}
	c.t = c.t.Add(200 * time.Millisecond)
	w.pos = 120 // the reader is still at 105, short of the previous probe's 110
	router.Probe(ctx)
	if st := router.Status(); st.Lag != time.Hour {
		t.Fatalf("short of the previous probe's position: lag %v, want the last replay's age, 1h", st.Lag)
	}
	c.t = c.t.Add(200 * time.Millisecond)
	r.rep.SinceLastReplay = 50 * time.Millisecond // a clock skew cannot make it fresher than the probe
	router.Probe(ctx)
	if st := router.Status(); st.Lag != 200*time.Millisecond {
		t.Fatalf("lag %v, want at least the time since the previous probe, 200ms", st.Lag)
	}
}

// errNoWALFunctions is what an Aurora writer without logical replication answers for
// pg_current_wal_insert_lsn() (SQLSTATE 55000, "WAL control functions cannot be executed when
// wal_level < logical").
var errNoWALFunctions = errors.New("wal_level must be set to 'logical'")

// TestAuroraReportedLag (ADR 0022, 2026-12-02): when the positions cannot be compared (an
// Aurora reader answers NULL for its replay position, an Aurora writer may refuse its own), the
// lag the reader reports (aurora_replica_status().replica_lag_in_msec) decides, within the same
// bound; a client's read-after token can never be checked against it, so such reads go to the
// writer; where positions exist they win over a reported lag; and with neither, the reader is
// not read.
func TestAuroraReportedLag(t *testing.T) {
	ctx := context.Background()
	aurora := func(lag time.Duration) replica.Replay {
		return replica.Replay{Known: false, SinceLastReplay: -1, LagReported: true, ReportedLag: lag}
	}
	for _, tc := range []struct {
		name      string
		writerErr error
		rep       replica.Replay
		ctx       context.Context
		want      string
	}{
		{"reported lag within the bound", errNoWALFunctions, aurora(20 * time.Millisecond), ctx, "reader"},
		{"reported lag within the bound, writer positions work", nil, aurora(20 * time.Millisecond), ctx, "reader"},
		{"reported lag past the bound", errNoWALFunctions, aurora(1500 * time.Millisecond), ctx, "writer"},
		{"lag not reported yet (NULL)", errNoWALFunctions, aurora(-1), ctx, "writer"},
		{"token with a reported lag", nil, aurora(0), catalog.WithReadAfter(ctx, 1), "writer"},
		{"token, writer without positions", errNoWALFunctions, aurora(0), catalog.WithReadAfter(ctx, 1), "writer"},
		{"positions win over a reported lag", nil, replica.Replay{Known: true, Replayed: 100, LagReported: true, ReportedLag: 5 * time.Second}, ctx, "reader"},
		{"no positions, no reported lag", errNoWALFunctions, replica.Replay{Known: true, Replayed: 100}, ctx, "writer"},
		{"back-office read", errNoWALFunctions, aurora(0), catalog.WithWriterReads(ctx), "writer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router, w, r, _ := newRouter(t)
			w.posErr, r.rep = tc.writerErr, tc.rep
			router.Probe(ctx)
			if got := answeredBy(t, router, tc.ctx); got != tc.want {
				t.Fatalf("answered by %s, want %s (status %+v)", got, tc.want, router.Status())
			}
		})
	}
	// A reported lag is a verdict like any other: it lapses when the probes stop.
	router, w, r, c := newRouter(t)
	w.posErr, r.rep = errNoWALFunctions, aurora(10*time.Millisecond)
	router.Probe(ctx)
	if st := router.Status(); !st.Up || st.Lag != 10*time.Millisecond {
		t.Fatalf("status %+v, want up with the reported 10ms", st)
	}
	c.t = c.t.Add(time.Second + 250*time.Millisecond)
	if got := answeredBy(t, router, ctx); got != "writer" {
		t.Fatalf("stale reported lag: answered by %s, want writer", got)
	}
}
