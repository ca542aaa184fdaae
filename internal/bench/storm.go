package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/hostile"
	"github.com/acme/catalog/internal/httpapi"
)

// stormOK are the statuses hostile input may get (a mutation is sometimes still valid: a long
// but legal description is created); anything else counts as an error, and a 5xx fails the
// scenario.
var stormOK = []int{200, 201, 204, 400, 401, 404, 405, 408, 409, 412, 413, 415, 422, 431}

// serverRSSBound is the resident memory the service may reach above its idle level under the
// storm: MaxConcurrentBodies bodies in flight, each within BodyBudget, twice over because the
// Go collector lets the heap grow to twice the live data (GOGC=100) before it runs.
const serverRSSBound = 2 * httpapi.DefaultConcurrentBodies * httpapi.BodyBudget

type hostileKey struct{}

// storm is the bad-input storm: requests drawn from the hostile generator (the one the handler
// tests and fuzz targets use), each answer held to hostile.Check.
type storm struct {
	e        *env
	once     sync.Once
	gen      *hostile.Generator
	failures atomic.Int64
	mu       sync.Mutex
	first    []string // the first few failed checks, for the report

	// Against the binary: the process, its address and its idle resident memory.
	proc   *process
	base   string
	idleKB int64
}

func (s *storm) generator() *hostile.Generator {
	s.once.Do(func() {
		s.gen = hostile.NewGenerator(hostile.Targets{ProductID: s.e.ids[0], VariantID: s.e.variantIDs[0], SKU: s.e.skus[0], Category: s.e.cats[0]})
	})
	return s.gen
}

// request draws worker w's next hostile request to base; the hostile.Request rides in the
// context for the After hook.
func (s *storm) request(ctx context.Context, rs *rngs, w int, base string) (*http.Request, error) {
	hr := s.generator().Random(rs.of(w))
	req, err := hr.HTTP(base)
	if err != nil {
		return nil, err
	}
	return req.WithContext(context.WithValue(ctx, hostileKey{}, hr)), nil
}

func (s *storm) after(_ int, a Answer) {
	hr, _ := a.Request.Context().Value(hostileKey{}).(hostile.Request)
	if err := hostile.Check(hr, a.Status, a.Body); err != nil {
		s.failures.Add(1)
		s.mu.Lock()
		if len(s.first) < 3 {
			s.first = append(s.first, err.Error())
		}
		s.mu.Unlock()
	}
}

// check fails on any 5xx or failed check, and, against the binary, on a peak resident memory
// above idle + serverRSSBound.
func (s *storm) check(_ context.Context, r *Result) (string, error) {
	n5 := 0
	for code, n := range r.Statuses {
		if code >= 500 {
			n5 += n
		}
	}
	note := fmt.Sprintf("5xx: %d, failed checks: %d, statuses %v", n5, s.failures.Load(), r.Statuses)
	var err error
	if s.proc != nil {
		peak := rssKB(s.proc.cmd.Process.Pid, "VmHWM:")
		bound := s.idleKB + serverRSSBound/1024
		note += fmt.Sprintf("; server peak RSS (VmHWM) %.1f MB, idle %.1f MB, bound %.1f MB (idle + 2 x %d bodies x %d MiB): %s",
			float64(peak)/1024, float64(s.idleKB)/1024, float64(bound)/1024, httpapi.DefaultConcurrentBodies, httpapi.BodyBudget>>20, verdict(peak <= bound))
		if stopErr := s.proc.stop(10 * time.Second); stopErr != nil {
			err = fmt.Errorf("stop the catalog process: %w", stopErr)
		}
		s.proc = nil
		if peak > bound {
			err = fmt.Errorf("server peak RSS %d kB over the bound %d kB", peak, bound)
		}
	}
	switch {
	case n5 > 0:
		err = fmt.Errorf("%d hostile requests got a 5xx: %v %v", n5, r.Statuses, s.first)
	case s.failures.Load() > 0:
		err = fmt.Errorf("%d answers failed the hostile checks: %v", s.failures.Load(), s.first)
	}
	return note, err
}

// startBinary runs the catalog binary as its own process on the suite's store (PostgreSQL when
// the suite uses it), so its resident memory is the server's alone.
func (s *storm) startBinary(ctx context.Context) error {
	bin := s.e.cfg.Binary
	if bin == nil {
		bin = &Binary{}
		s.e.closers = append(s.e.closers, bin.Close)
	}
	path, err := bin.Path(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "catalog-storm")
	if err != nil {
		return err
	}
	s.e.closers = append(s.e.closers, func() { os.RemoveAll(dir) })
	vars := map[string]string{"LOG_LEVEL": "error", "SEED_SAMPLE": "false", "DATA_DIR": filepath.Join(dir, "data"),
		"API_KEYS": hostile.Key}
	if s.e.url != "" {
		vars["DATABASE_URL"] = s.e.url
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	p, err := startProcess(path, filepath.Join(dir, "catalog.log"), port, vars, "serve")
	if err != nil {
		return err
	}
	s.e.closers = append(s.e.closers, func() {
		if s.proc != nil {
			s.proc.stop(time.Second)
		}
	})
	s.proc, s.base = p, p.base
	if err := p.ready(ctx, 30*time.Second); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	s.idleKB = rssKB(p.cmd.Process.Pid, "VmRSS:")
	return nil
}

// stormScenarios are the bad-input storm in-process (beside the other scenarios) and, when the
// suite measures the binary, against the binary as a process (peak RSS is then the server's).
func (e *env) stormScenarios(rs *rngs) []scenario {
	in := &storm{e: e}
	list := []scenario{{name: "bad-input storm", ok: stormOK,
		req:   func(ctx context.Context, w, _ int) (*http.Request, error) { return in.request(ctx, rs, w, e.base) },
		hooks: &Hooks{After: in.after}, check: in.check}}
	if e.cfg.Process {
		bin := &storm{e: e}
		list = append(list, scenario{name: "bad-input storm, binary", ok: stormOK,
			prepare: bin.startBinary,
			req: func(ctx context.Context, w, _ int) (*http.Request, error) {
				return bin.request(ctx, rs, w, bin.base)
			},
			hooks: &Hooks{After: bin.after}, check: bin.check})
	}
	return list
}
