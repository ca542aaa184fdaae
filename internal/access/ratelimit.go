package access

import (
	"container/list"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket: Rate requests a second on average, Burst at once. The zero Limit
// turns limiting off.
type Limit struct {
	Rate  float64
	Burst int
}

// Off reports whether l limits nothing.
func (l Limit) Off() bool { return l.Rate <= 0 || l.Burst <= 0 }

// ParseLimit reads "RATE/UNIT:BURST" ("50/s:100", "600/m:50") or "off".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	r, burst, ok := strings.Cut(s, ":")
	n, unit, ok2 := strings.Cut(r, "/")
	perUnit := map[string]float64{"s": 1, "m": 60, "h": 3600}[unit]
	v, err := strconv.ParseFloat(n, 64)
	b, err2 := strconv.Atoi(burst)
	if !ok || !ok2 || perUnit == 0 || err != nil || err2 != nil || !(v > 0) || math.IsInf(v, 0) || b < 1 || b > 1_000_000 {
		return Limit{}, fmt.Errorf("must be RATE/UNIT:BURST like 50/s:100 (unit s, m or h; burst 1-1000000) or off, not %q", s)
	}
	return Limit{Rate: v / perUnit, Burst: b}, nil
}

func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	return strconv.FormatFloat(l.Rate, 'f', -1, 64) + "/s:" + strconv.Itoa(l.Burst)
}

// Decision is the outcome of one request against a Limiter.
type Decision struct {
	Allowed bool
	// Remaining is how many requests the bucket still holds (after this one, if allowed).
	Remaining int
	// RetryAfter is how long until one more request would be allowed (0 when allowed).
	RetryAfter time.Duration
	// Reset is how long until the bucket is full again.
	Reset time.Duration
}

// Limiter keeps one token bucket per client key in a table of at most Max entries. Buckets idle
// longer than it takes them to refill are equal to new ones and are evicted first; when the table
// is full, the least recently used bucket goes, so a flood of distinct addresses costs bounded
// memory (the price: an evicted client starts again with a full bucket).
type Limiter struct {
	limit Limit
	max   int
	now   func() time.Time

	mu    sync.Mutex
	table map[string]*list.Element
	lru   *list.List // front: most recently used
}

type bucket struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter returns a limiter of l per key holding at most max buckets; now is the clock (nil:
// time.Now), so tests can drive it.
func NewLimiter(l Limit, max int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if max < 1 {
		max = 1
	}
	return &Limiter{limit: l, max: max, now: now, table: map[string]*list.Element{}, lru: list.New()}
}

// Limit returns the configured limit.
func (l *Limiter) Limit() Limit { return l.limit }

// Len returns the number of buckets held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.table)
}

// Allow takes one token from key's bucket.
func (l *Limiter) Allow(key string) Decision {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.table[key]; ok {
		b = el.Value.(*bucket)
		l.lru.MoveToFront(el)
	} else if len(l.table) >= l.max {
		// Full: the least recently used bucket becomes this client's, full again (its element
		// is reused, so a flood of new addresses allocates only the new limiter).
		el := l.lru.Back()
		b = el.Value.(*bucket)
		delete(l.table, b.key)
		b.key, b.lim = key, rate.NewLimiter(rate.Limit(l.limit.Rate), l.limit.Burst)
		l.lru.MoveToFront(el)
		l.table[key] = el
	} else {
		b = &bucket{key: key, lim: rate.NewLimiter(rate.Limit(l.limit.Rate), l.limit.Burst)}
		l.table[key] = l.lru.PushFront(b)
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	d := Decision{Allowed: true}
	if delay := res.DelayFrom(now); delay > 0 {
		res.CancelAt(now)
		d.Allowed, d.RetryAfter = false, delay
	}
	tokens := b.lim.TokensAt(now)
	d.Remaining = max(0, int(math.Floor(tokens)))
	d.Reset = time.Duration((float64(l.limit.Burst) - tokens) / l.limit.Rate * float64(time.Second))
	return d
}

// Sweep drops buckets idle long enough to have refilled: they hold no state a new bucket lacks.
func (l *Limiter) Sweep() {
	now := l.now()
	full := time.Duration(float64(l.limit.Burst) / l.limit.Rate * float64(time.Second))
	l.mu.Lock()
	defer l.mu.Unlock()
	for el := l.lru.Back(); el != nil; {
		b := el.Value.(*bucket)
		if now.Sub(b.seen) < full {
			return
		}
		prev := el.Prev()
		l.lru.Remove(el)
		delete(l.table, b.key)
		el = prev
	}
}
