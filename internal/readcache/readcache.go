// Package readcache keeps popular products in process memory, so hot reads skip the database.
//
// Staleness is bounded three ways: a write made through this instance invalidates the product
// at once (the writer reads its own write); writes made by other instances arrive as
// PostgreSQL notifications (see postgres.Store.Listen) and invalidate within milliseconds; and
// every entry expires after the TTL whatever happens, which bounds staleness if notifications
// stop (the listener also clears the whole cache when its connection drops). An expired entry
// is not thrown away: the next read asks the store for the product's versions (one primary-key
// lookup, the question a conditional GET asks) and keeps the entry for another TTL when they
// have not moved, so the TTL costs a cheap check per product, not a full read. On PostgreSQL
// the instance also proves its listener still hears (Heartbeat: a notification it sends itself
// comes back, Confirm); while it does, an entry past its TTL is served without that check, up
// to ConfirmedTTLs of them, and staleness from lost notifications stays bounded by the TTL (it
// is at most the latest confirmation's age). Reservations, adjustments and every other stock
// decision read the store, never this cache: it only serves the product reads of the public
// API.
//
// An entry keeps the product as its JSON (what the API writes), gzip-compressed, beside the
// few fields a reader decides on (status, versions): about 0.7 KB for a product of 4 variants,
// against 5.6 KB for the decoded struct, and bytes the garbage collector does not scan. A read
// of the whole answer (Memo) serves those bytes as they are; the first read of the struct
// (Product, Variant) decodes them and keeps the struct beside them (charged), so only the
// products read that way (fields=, variant reads) pay a struct's memory.
//
// The cache is bounded by bytes (what each entry holds: its document and the answers encoded
// from it), not entries, since products differ in size by orders of magnitude.
// When full it evicts with SIEVE (Zhang et al., "SIEVE is Simpler than LRU", NSDI 2024): a
// FIFO queue with a "visited" bit that a hit sets without taking the write lock, and a hand
// that walks from the oldest entry, sparing (and clearing) visited ones. It keeps a skewed
// working set better than LRU or random eviction, and a hit costs a read lock and one atomic
// load.
package readcache

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Store is a catalog.Store with a read cache in front of Product. It does not embed the store
// it wraps: every method is written out, so a write method added to catalog.Store does not
// compile here until its invalidation is decided.
type Store struct {
	inner    catalog.Store
	ttl      time.Duration
	maxBytes int64
	now      func() time.Time

	mu      sync.RWMutex
	entries map[string]*entry
	// The SIEVE queue, newest at head; next points to the older neighbour. hand is the next
	// entry eviction looks at (nil: start at tail). Guarded by mu (write).
	head, tail, hand *entry
	bytes            int64 // the entries' charged bytes; guarded by mu
	// attrs holds attribute definitions by key: every list filtered by attr.<key> looks its
	// keys up, and definitions change rarely.
	attrs map[string]attrEntry
	// epoch increases on every invalidation; a read that started before one does not fill the
	// cache, so a value read just before a write can never be cached after it.
	epoch atomic.Uint64
	// holdOff, when set (reads may come from a replica up to that far behind, ADR 0022), keeps a
	// product out of the cache for that long after its invalidation, and every product for that
	// long after a Clear: a read then may be a replica's copy from before the write, which would
	// otherwise be kept for the whole TTL. invalidated holds the recent invalidations.
	holdOff     time.Duration
	invalidated map[string]time.Time
	clearedAt   time.Time

	// confirmed (UnixNano) is the latest time before which every committed change to a product
	// is known to have reached Invalidate (Confirm: a heartbeat sent through the database came
	// back on the listening connection); 0 until one does.
	confirmed atomic.Int64

	hits, revalidated, misses, evictions atomic.Int64
	// usedBytes and count mirror bytes and len(entries) for Usage, which must not take mu
	// while a metrics scrape runs beside the hot path.
	usedBytes, count atomic.Int64
}

type entry struct {
	doc Doc
	// stock holds each variant's stock version, which the JSON does not carry.
	stock   []int64
	expires atomic.Int64 // UnixNano; a revalidation moves it while readers look
	// visited is SIEVE's bit: set by a hit, cleared by the hand passing.
	visited atomic.Bool
	// memo holds what callers made of p (Memo), copied on write under mu; dropped with the
	// entry.
	memo atomic.Pointer[[]memoValue]
	// bytes is what the entry is charged: its document, ID, the memo values and the
	// bookkeeping. Guarded by mu.
	bytes      int64
	prev, next *entry
}

type memoValue struct {
	key string
	v   any
}

type attrEntry struct {
	d       catalog.AttributeDefinition
	expires time.Time
}

// Sizer is implemented by Memo values that know how many bytes they hold, so the cache can
// charge them; a value without it is charged as a small fixed object.
type Sizer interface {
	CacheBytes() int64
}

const (
	// entryOverhead is what an entry costs beyond its document and memo values: the entry
	// struct, its slot in the map and the slice of memo values.
	entryOverhead = 256
	// unsizedMemo is charged for every memo value, beside what a Sizer reports: its slot and,
	// for a value that is not a Sizer, a small object.
	unsizedMemo = 64
	// maxAttrs bounds the attribute definitions kept; a catalog with more starts over.
	maxAttrs = 10_000
	// sweepInvalidatedAt is the number of recent invalidations (kept only with HoldOff) past
	// which older ones are dropped; they are bounded by the writes of the last hold-off.
	sweepInvalidatedAt = 65_536
)

// New wraps s. ttl bounds staleness (an expired entry is revalidated by its versions before
// it is served again); maxBytes bounds the memory the cached documents and the answers
// encoded from them take (Sizer).
func New(s catalog.Store, ttl time.Duration, maxBytes int64) *Store {
	return &Store{inner: s, ttl: ttl, maxBytes: maxBytes, now: time.Now, entries: map[string]*entry{}, attrs: map[string]attrEntry{}}
}

var _ catalog.Store = (*Store)(nil)

// HoldOff sets how far behind the writer the stores under the cache may answer (a replica's
// staleness bound): a product is not cached for that long after its invalidation. Call it
// before use.
func (c *Store) HoldOff(d time.Duration) {
	c.holdOff = d
	c.invalidated = map[string]time.Time{}
}

// heldOff reports whether a fresh read of id may predate a write this cache was told of.
// Callers hold mu.
func (c *Store) heldOff(id string, now time.Time) bool {
	if c.holdOff <= 0 {
		return false
	}
	if now.Sub(c.clearedAt) < c.holdOff {
		return true
	}
	t, ok := c.invalidated[id]
	return ok && now.Sub(t) < c.holdOff
}

// Stats reports product reads answered from memory (hits, revalidations included) and from
// the store (misses) since start.
func (c *Store) Stats() (hits, misses int64) {
	return c.hits.Load() + c.revalidated.Load(), c.misses.Load()
}

// Usage is what the cache holds and has done since start, for metrics.
type Usage struct {
	// Hits were answered from memory; Revalidated from memory after the entry's TTL, once a
	// version lookup found the product unchanged; Misses read the product from the store.
	Hits, Revalidated, Misses int64
	// Evictions are entries dropped to stay within MaxBytes (not invalidations or expiry).
	Evictions int64
	Entries   int64
	// Bytes is the estimate of what the entries hold, MaxBytes its bound.
	Bytes, MaxBytes int64
}

// Usage reports the cache's counters and size without taking its lock.
func (c *Store) Usage() Usage {
	return Usage{Hits: c.hits.Load(), Revalidated: c.revalidated.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Entries: c.count.Load(), Bytes: c.usedBytes.Load(), MaxBytes: c.maxBytes}
}

// clone copies what a caller could modify in place, so no caller can change a cached product.
func clone(p catalog.Product) catalog.Product {
	p.Attributes = maps.Clone(p.Attributes)
	p.Media = slices.Clone(p.Media)
	p.Options = slices.Clone(p.Options)
	p.PriceRanges = slices.Clone(p.PriceRanges)
	if p.Variants != nil {
		vs := make([]catalog.Variant, len(p.Variants))
		for i, v := range p.Variants {
			vs[i] = cloneVariant(v)
		}
		p.Variants = vs
	}
	return p
}

func cloneVariant(v catalog.Variant) catalog.Variant {
	v.Options = maps.Clone(v.Options)
	v.Attributes = maps.Clone(v.Attributes)
	v.Prices = slices.Clone(v.Prices)
	return v
}

// lookup returns the entry for id, or nil, and marks it visited.
func (c *Store) lookup(id string) *entry {
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	if e != nil && !e.visited.Load() {
		e.visited.Store(true) // only when unset: a hot entry's cache line is then only read
	}
	return e
}

// ConfirmedTTLs is how many TTLs an entry may be served without a version lookup while the
// listener keeps confirming it hears every change (Confirm): the bound for a change that moves a
// product's versions without announcing it, which no write path makes today (0003_notify.sql
// announces every update of a product or its stock, and every write moves one of them).
const ConfirmedTTLs = 10

// fresh reports whether e may be served at now without asking the store: within its TTL, or,
// up to ConfirmedTTLs of them since it was stored or revalidated, while a confirmation younger
// than the TTL says every change committed before it has reached Invalidate (so an entry
// still here was current then, and is at most that confirmation's age behind).
func (c *Store) fresh(e *entry, now int64) bool {
	exp := e.expires.Load()
	if now < exp {
		return true
	}
	ttl := int64(c.ttl)
	return now < c.confirmed.Load()+ttl && now < exp+(ConfirmedTTLs-1)*ttl
}

// Confirm records that every change committed before sent has reached Invalidate: the caller
// sent a notification at sent on the channel the invalidations arrive on, and it has come back
// (PostgreSQL delivers a session's notifications in commit order, so every change committed
// before it was delivered, and invalidated, first). While confirmations keep coming, an entry
// past its TTL is served without a version lookup, and staleness stays bounded by the TTL:
// entries are at most the latest confirmation's age behind. A confirmation sent before the
// last Clear needs no special case: every entry cached was stored after that Clear (the epoch
// stops older fills), so an older confirmation never extends one past its own TTL.
func (c *Store) Confirm(sent time.Time) {
	t := sent.UnixNano()
	for {
		old := c.confirmed.Load()
		if t <= old || c.confirmed.CompareAndSwap(old, t) {
			return
		}
	}
}

// current returns id's entry if it may be served now: fresh, or past that with versions the
// store still answers (revalidated). nil when the caller must read the store.
func (c *Store) current(ctx context.Context, id string) *entry {
	e := c.lookup(id)
	if e == nil {
		return nil
	}
	if c.fresh(e, c.now().UnixNano()) {
		c.hits.Add(1)
		return e
	}
	if !c.revalidate(ctx, e) {
		return nil
	}
	c.revalidated.Add(1)
	return e
}

// revalidate keeps an expired entry for another TTL when the store's versions of the product
// are the ones it holds: the entity tag a conditional GET compares is made of them, so every
// change a read could show moves one of them. A failed lookup or a moved version drops it.
// Unlike a fill it needs no epoch check: an invalidation of this product (or a Clear) while the
// lookup runs removes the entry, which the identity check below sees, and invalidations of
// other products, frequent under write load, have no reason to cost this one a full read.
func (c *Store) revalidate(ctx context.Context, e *entry) bool {
	v, sv, err := c.inner.ProductVersions(ctx, e.doc.ID)
	if err != nil && ctx.Err() != nil {
		return false // the caller went away: that says nothing about the entry
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[e.doc.ID] != e {
		return false // invalidated, evicted or replaced meanwhile
	}
	if err != nil || v != e.doc.Version || sv != e.doc.StockVersion || c.heldOff(e.doc.ID, now) {
		c.remove(e)
		return false
	}
	e.expires.Store(now.Add(c.ttl).UnixNano())
	return true
}

// Product serves from the cache when it can.
func (c *Store) Product(ctx context.Context, id string) (catalog.Product, error) {
	if catalog.MustBeCurrent(ctx) {
		// A cached copy may predate the caller's own write, or be a replica's (ADR 0022).
		return c.inner.Product(ctx, id)
	}
	if e := c.current(ctx, id); e != nil {
		if p, ok := c.decoded(e); ok {
			return clone(*p), nil
		}
		c.drop(e) // cannot happen with documents this package wrote; the store answers instead
	}
	c.misses.Add(1)
	epoch := c.epoch.Load()
	p, err := c.inner.Product(ctx, id)
	if err != nil {
		return p, err
	}
	e, err := newEntry(&p)
	if err != nil {
		return p, nil // not kept; the read itself succeeded
	}
	c.mu.Lock()
	if c.epoch.Load() == epoch && !c.heldOff(id, c.now()) && e.bytes <= c.maxBytes {
		if old := c.entries[id]; old != nil {
			c.remove(old)
		}
		e.expires.Store(c.now().Add(c.ttl).UnixNano())
		c.push(e)
		c.shrink()
	}
	c.mu.Unlock()
	return p, nil
}

// decodedKey is the memo key of an entry's decoded product; no content coding starts with NUL.
const decodedKey = "\x00product"

// decoded returns e's product decoded, decoding it once per entry: only products read whole
// (fields=, variant reads) keep a struct beside their document, charged what it holds
// (ProductBytes). The caller must not change it.
func (c *Store) decoded(e *entry) (*catalog.Product, bool) {
	if v, ok := e.memoized(decodedKey); ok {
		return v.(*catalog.Product), true
	}
	p, err := e.product()
	if err != nil {
		return nil, false
	}
	return c.keep(e, decodedKey, &p, ProductBytes(&p)).(*catalog.Product), true
}

// memoized returns the value kept for key.
func (e *entry) memoized(key string) (any, bool) {
	if vs := e.memo.Load(); vs != nil {
		for _, m := range *vs {
			if m.key == key {
				return m.v, true
			}
		}
	}
	return nil, false
}

// keep adds v under key to e if e is still cached, has room for another value and holds none
// for key yet, charging size, and returns the value kept (an earlier one for key wins).
func (c *Store) keep(e *entry, key string, v any, size int64) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[e.doc.ID] != e {
		return v // dropped meanwhile: answer this read, keep nothing
	}
	if old, ok := e.memoized(key); ok {
		return old
	}
	var vs []memoValue
	if old := e.memo.Load(); old != nil {
		vs = *old
	}
	if len(vs) >= MaxMemoKeys {
		return v
	}
	next := append(slices.Clip(vs), memoValue{key: key, v: v})
	e.memo.Store(&next)
	size += int64(unsizedMemo + len(key))
	e.bytes += size
	c.bytes += size
	c.usedBytes.Store(c.bytes)
	e.visited.Store(true) // just read: spare it from this shrink
	c.shrink()
	return v
}

// drop forgets e if it is still the entry for its product.
func (c *Store) drop(e *entry) {
	c.mu.Lock()
	if c.entries[e.doc.ID] == e {
		c.remove(e)
	}
	c.mu.Unlock()
}

// push adds e at the head of the queue. Callers hold mu.
func (c *Store) push(e *entry) {
	e.next = c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
	c.entries[e.doc.ID] = e
	c.bytes += e.bytes
	c.usedBytes.Store(c.bytes)
	c.count.Store(int64(len(c.entries)))
}

// remove unlinks e and forgets it. Callers hold mu.
func (c *Store) remove(e *entry) {
	if c.hand == e {
		c.hand = e.prev
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
	delete(c.entries, e.doc.ID)
	c.bytes -= e.bytes
	c.usedBytes.Store(c.bytes)
	c.count.Store(int64(len(c.entries)))
}

// shrink evicts until the entries fit in maxBytes: the hand walks from the oldest entry
// towards the newest, clearing the visited bit of entries read since it last passed and
// evicting the first entry not read (or expired: its next read would revalidate it anyway).
// Callers hold mu.
func (c *Store) shrink() {
	now := c.now().UnixNano()
	for c.bytes > c.maxBytes && c.tail != nil {
		e := c.hand
		if e == nil {
			e = c.tail
		}
		for e.visited.Load() && c.fresh(e, now) {
			e.visited.Store(false)
			if e = e.prev; e == nil {
				e = c.tail
			}
		}
		c.hand = e.prev
		c.remove(e)
		c.evictions.Add(1)
	}
}

// MaxMemoKeys bounds the values Memo keeps per product, so a caller passing many keys cannot
// grow an entry without bound; past it, Memo builds without keeping.
const MaxMemoKeys = 4

// Memo returns what build makes of the cached product id for key, building it once per entry
// and key, so a hot product's response is made once, not on every read. ok is false when the
// product is not cached or the caller must read current data (catalog.MustBeCurrent): the
// caller then reads it with Product, which fills the cache. build must not change the document
// it is given (shared) and its value must depend on that document and key only: it lives
// exactly as long as the entry, so every invalidation, eviction and version change drops it
// with the product (a revalidation that finds the versions unchanged keeps both). The value is
// charged to the cache's bytes (Sizer). An error from build is returned and not kept.
func (c *Store) Memo(ctx context.Context, id, key string, build func(Doc) (any, error)) (v any, ok bool, err error) {
	if catalog.MustBeCurrent(ctx) {
		return nil, false, nil
	}
	e := c.current(ctx, id)
	if e == nil {
		return nil, false, nil
	}
	if v, ok := e.memoized(key); ok {
		return v, true, nil
	}
	// A build follows a Product call or a hit, which counted itself. Two readers may build the
	// same value at once; the first kept wins and the other's is used once.
	v, err = build(e.doc)
	if err != nil {
		return nil, false, err
	}
	var size int64 // keep charges the bookkeeping
	if s, ok := v.(Sizer); ok {
		size = s.CacheBytes()
	}
	return c.keep(e, key, v, size), true, nil
}

// Invalidate forgets the given products.
func (c *Store) Invalidate(ids ...string) {
	c.epoch.Add(1)
	c.mu.Lock()
	for _, id := range ids {
		if e := c.entries[id]; e != nil {
			c.remove(e)
		}
	}
	if c.holdOff > 0 {
		now := c.now()
		if len(c.invalidated) >= sweepInvalidatedAt {
			// Bounded by the invalidations of the last holdOff: drop the older ones.
			for id, t := range c.invalidated {
				if now.Sub(t) >= c.holdOff {
					delete(c.invalidated, id)
				}
			}
		}
		for _, id := range ids {
			c.invalidated[id] = now
		}
	}
	c.mu.Unlock()
}

// Clear forgets everything (when notifications may have been missed).
func (c *Store) Clear() {
	c.epoch.Add(1)
	c.mu.Lock()
	clear(c.entries)
	c.head, c.tail, c.hand, c.bytes = nil, nil, nil, 0
	c.usedBytes.Store(0)
	c.count.Store(0)
	clear(c.attrs)
	c.clearedAt = c.now()
	c.mu.Unlock()
}

// ProductVersions answers a conditional GET from the cache when it holds the product, and
// from the store's cheap version lookup otherwise.
func (c *Store) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	if catalog.MustBeCurrent(ctx) {
		return c.inner.ProductVersions(ctx, id)
	}
	if e := c.lookup(id); e != nil && c.fresh(e, c.now().UnixNano()) {
		c.hits.Add(1)
		return e.doc.Version, e.doc.StockVersion, nil
	}
	return c.inner.ProductVersions(ctx, id)
}

// Reads other than Product go to the store: lists, searches and stock decisions must be
// current, and the cache only serves the product reads of the public API.

// Variant serves from a cached product when one is held (its variants are all there, read
// together with the product), and from the store otherwise; it does not fill the cache, so a
// variant read never costs a whole product's read.
func (c *Store) Variant(ctx context.Context, productID, variantID string) (catalog.Variant, error) {
	if catalog.MustBeCurrent(ctx) {
		return c.inner.Variant(ctx, productID, variantID)
	}
	if e := c.lookup(productID); e != nil && c.fresh(e, c.now().UnixNano()) {
		if p, ok := c.decoded(e); ok {
			if v, found := p.Variant(variantID); found {
				c.hits.Add(1)
				return cloneVariant(v), nil
			}
		}
	}
	return c.inner.Variant(ctx, productID, variantID)
}

func (c *Store) VariantBySKU(ctx context.Context, sku string) (catalog.Product, catalog.Variant, error) {
	return c.inner.VariantBySKU(ctx, sku)
}

// MaxAttributeTTL bounds how long a definition is kept: no notification announces another
// instance's definition writes, so the TTL is their only bound, and products may stay longer
// (NOTIFY invalidates them).
const MaxAttributeTTL = 2 * time.Second

// Attribute serves definitions from the cache when it can: they are looked up for every list
// filtered by attributes. Writes through this instance forget them at once; another instance's
// write is seen within MaxAttributeTTL.
func (c *Store) Attribute(ctx context.Context, key string) (catalog.AttributeDefinition, error) {
	c.mu.RLock()
	e, ok := c.attrs[key]
	c.mu.RUnlock()
	if ok && c.now().Before(e.expires) {
		d := e.d
		d.Values = slices.Clone(d.Values)
		return d, nil
	}
	epoch := c.epoch.Load()
	d, err := c.inner.Attribute(ctx, key)
	if err != nil {
		return d, err
	}
	c.mu.Lock()
	if c.epoch.Load() == epoch {
		if len(c.attrs) >= maxAttrs {
			clear(c.attrs) // definitions are few; a catalog with more than max starts over
		}
		kept := d
		kept.Values = slices.Clone(d.Values) // the caller may change what it was given
		c.attrs[key] = attrEntry{d: kept, expires: c.now().Add(min(c.ttl, MaxAttributeTTL))}
	}
	c.mu.Unlock()
	return d, nil
}

func (c *Store) AttributeList(ctx context.Context) ([]catalog.AttributeDefinition, error) {
	return c.inner.AttributeList(ctx)
}

func (c *Store) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	return c.inner.ListProducts(ctx, q)
}

// Facets passes through: counts change with every write to any product, so caching them
// here would need invalidation by filter; the HTTP layer's Cache-Control covers them.
func (c *Store) Facets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]catalog.Facet, error) {
	return c.inner.Facets(ctx, q, r)
}

func (c *Store) Category(ctx context.Context, slug string) (catalog.Category, error) {
	return c.inner.Category(ctx, slug)
}

func (c *Store) Categories(ctx context.Context) ([]catalog.Category, error) {
	return c.inner.Categories(ctx)
}

func (c *Store) Empty(ctx context.Context) (bool, error) { return c.inner.Empty(ctx) }

func (c *Store) Movements(ctx context.Context, variantID string, before int64, limit int) ([]catalog.Movement, error) {
	return c.inner.Movements(ctx, variantID, before, limit)
}

func (c *Store) Reservation(ctx context.Context, id string) (catalog.Reservation, error) {
	return c.inner.Reservation(ctx, id)
}

func (c *Store) PriceHistory(ctx context.Context, variantID, currency string) ([]catalog.PriceEntry, error) {
	return c.inner.PriceHistory(ctx, variantID, currency)
}

func (c *Store) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

// Close closes the wrapped store.
func (c *Store) Close() error { return c.inner.Close() }

// Writes invalidate what they change, after the store answers (success or not: a failed
// write may still have changed nothing, and forgetting costs one read).

// CreateProduct forgets the new ID: nothing can be cached under it yet, but a write is a write,
// and the rule "every write invalidates" is cheaper to keep than to argue.
func (c *Store) CreateProduct(ctx context.Context, in catalog.ProductInput) (catalog.Product, error) {
	p, err := c.inner.CreateProduct(ctx, in)
	if err == nil {
		c.Invalidate(p.ID)
	}
	return p, err
}

func (c *Store) ReplaceProduct(ctx context.Context, id string, in catalog.ProductInput, ifVersion int64) (catalog.Product, error) {
	defer c.Invalidate(id)
	return c.inner.ReplaceProduct(ctx, id, in, ifVersion)
}

func (c *Store) PatchProduct(ctx context.Context, id string, patch catalog.ProductPatch, ifVersion int64) (catalog.Product, error) {
	defer c.Invalidate(id)
	return c.inner.PatchProduct(ctx, id, patch, ifVersion)
}

func (c *Store) SetProductStatus(ctx context.Context, id string, status catalog.Status, ifVersion int64) (catalog.Product, error) {
	defer c.Invalidate(id)
	return c.inner.SetProductStatus(ctx, id, status, ifVersion)
}

func (c *Store) DeleteProduct(ctx context.Context, id string, ifVersion int64) error {
	defer c.Invalidate(id)
	return c.inner.DeleteProduct(ctx, id, ifVersion)
}

// Variant writes forget the variant's product: a product read carries all its variants.

func (c *Store) AddVariant(ctx context.Context, productID string, in catalog.VariantInput, ifVersion int64) (catalog.Variant, error) {
	defer c.Invalidate(productID)
	return c.inner.AddVariant(ctx, productID, in, ifVersion)
}

func (c *Store) UpdateVariant(ctx context.Context, productID, variantID string, patch catalog.VariantPatch, ifVersion int64) (catalog.Variant, error) {
	defer c.Invalidate(productID)
	return c.inner.UpdateVariant(ctx, productID, variantID, patch, ifVersion)
}

func (c *Store) DeleteVariant(ctx context.Context, productID, variantID string, ifVersion int64) error {
	defer c.Invalidate(productID)
	return c.inner.DeleteVariant(ctx, productID, variantID, ifVersion)
}

// SetPrice, RemovePrice and AdjustStock name a variant, not its product: the product comes
// back in the answer. Without an answer (an error) the write changed nothing when the store
// refused it; when the outcome is unknown (the store failed mid-way, a commit whose answer was
// lost) the whole cache goes, as nothing says which product it was.

func (c *Store) SetPrice(ctx context.Context, variantID string, ch catalog.PriceChange, actor string, ifVersion int64) (catalog.Variant, catalog.PriceEntry, error) {
	v, e, err := c.inner.SetPrice(ctx, variantID, ch, actor, ifVersion)
	c.forget(v.ProductID, variantID, err)
	return v, e, err
}

func (c *Store) RemovePrice(ctx context.Context, variantID, currency, actor string, ifVersion int64) (catalog.Variant, error) {
	v, err := c.inner.RemovePrice(ctx, variantID, currency, actor, ifVersion)
	c.forget(v.ProductID, variantID, err)
	return v, err
}

func (c *Store) AdjustStock(ctx context.Context, variantID string, a catalog.Adjustment, actor string, idem *catalog.Idempotency) (catalog.Movement, error) {
	m, err := c.inner.AdjustStock(ctx, variantID, a, actor, idem)
	c.forget(m.ProductID, variantID, err)
	return m, err
}

// AdjustStockBatch and SetPriceBatch forget every product a line changed; a failure may have
// changed nothing or, unknown to us, everything, as for single writes.
func (c *Store) AdjustStockBatch(ctx context.Context, lines []catalog.StockLine, actor string, idem *catalog.Idempotency) ([]catalog.Movement, error) {
	ms, err := c.inner.AdjustStockBatch(ctx, lines, actor, idem)
	if err != nil {
		c.forget("", "", err)
	}
	for _, m := range ms {
		c.forget(m.ProductID, m.VariantID, err)
	}
	return ms, err
}

func (c *Store) SetPriceBatch(ctx context.Context, lines []catalog.PriceLine, actor string, idem *catalog.Idempotency) ([]catalog.PriceEvent, error) {
	es, err := c.inner.SetPriceBatch(ctx, lines, actor, idem)
	if err != nil {
		c.forget("", "", err)
	}
	for _, e := range es {
		c.forget(e.ProductID, e.VariantID, err)
	}
	return es, err
}

// forget invalidates productID after a write to variantID that answered err. The variant ID is
// forgotten too: a migrated product's only variant has the product's ID (ADR 0012).
func (c *Store) forget(productID, variantID string, err error) {
	switch code := catalog.ErrorCode(err); {
	case productID != "":
		c.Invalidate(productID, variantID)
	case code == catalog.CodeUnavailable || code == catalog.CodeInternal:
		c.Clear()
	default:
		c.Invalidate(variantID)
	}
}

func (c *Store) Reserve(ctx context.Context, in catalog.ReservationInput, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	r, err := c.inner.Reserve(ctx, in, actor, idem)
	c.invalidateLines(r)
	return r, err
}

func (c *Store) CommitReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	r, err := c.inner.CommitReservation(ctx, id, actor, idem)
	c.invalidateLines(r)
	return r, err
}

func (c *Store) ReleaseReservation(ctx context.Context, id, actor string, idem *catalog.Idempotency) (catalog.Reservation, error) {
	r, err := c.inner.ReleaseReservation(ctx, id, actor, idem)
	c.invalidateLines(r)
	return r, err
}

// Import may add many products; it clears the cache rather than naming them all.
func (c *Store) Import(ctx context.Context, products []catalog.NewProduct) error {
	defer c.Clear()
	return c.inner.Import(ctx, products)
}

// UpsertProducts may change many products; it clears the cache rather than naming them all
// (a dry run writes nothing and keeps it). The import job methods touch no product.
func (c *Store) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dryRun bool) (catalog.ImportResult, error) {
	if !dryRun {
		defer c.Clear()
	}
	return c.inner.UpsertProducts(ctx, items, dryRun)
}

func (c *Store) CreateImportJob(ctx context.Context, in catalog.ImportJobInput) (catalog.ImportJob, bool, error) {
	return c.inner.CreateImportJob(ctx, in)
}

func (c *Store) ImportJob(ctx context.Context, id string) (catalog.ImportJob, error) {
	return c.inner.ImportJob(ctx, id)
}

func (c *Store) SaveImportJob(ctx context.Context, job catalog.ImportJob) error {
	return c.inner.SaveImportJob(ctx, job)
}

func (c *Store) FailStaleImportJobs(ctx context.Context, before time.Time, reason string) (int, error) {
	return c.inner.FailStaleImportJobs(ctx, before, reason)
}

// PurgeImportJobs passes through: a job's record is nothing a product read holds.
func (c *Store) PurgeImportJobs(ctx context.Context, retention time.Duration, limit int) (int, error) {
	return c.inner.PurgeImportJobs(ctx, retention, limit)
}

// Category writes clear the cache when they succeed. A cached product names only its
// category's slug, which no category write changes, so today nothing cached goes stale; the
// clear keeps that true if a product ever carries more of its category (a name, a path), at
// the cost of one read per hot product after a rare write. A failed category write changes
// nothing and clears nothing, so refused writes cannot keep the cache cold.

func (c *Store) CreateCategory(ctx context.Context, in catalog.CategoryInput) (catalog.Category, error) {
	cat, err := c.inner.CreateCategory(ctx, in)
	if err == nil {
		c.Clear()
	}
	return cat, err
}

func (c *Store) UpdateCategory(ctx context.Context, slug string, patch catalog.CategoryPatch) (catalog.Category, error) {
	cat, err := c.inner.UpdateCategory(ctx, slug, patch)
	if err == nil {
		c.Clear()
	}
	return cat, err
}

func (c *Store) DeleteCategory(ctx context.Context, slug string) error {
	err := c.inner.DeleteCategory(ctx, slug)
	if err == nil {
		c.Clear()
	}
	return err
}

// Attribute definitions are not part of a cached product (it carries values, and a definition
// cannot change its type or drop an enum value while values use it, nor be deleted while in
// use): their writes forget the cached definitions only.

func (c *Store) CreateAttribute(ctx context.Context, in catalog.AttributeDefinitionInput) (catalog.AttributeDefinition, error) {
	defer c.forgetAttributes()
	return c.inner.CreateAttribute(ctx, in)
}

func (c *Store) UpdateAttribute(ctx context.Context, key string, in catalog.AttributeDefinitionInput, ifVersion int64) (catalog.AttributeDefinition, error) {
	defer c.forgetAttributes()
	return c.inner.UpdateAttribute(ctx, key, in, ifVersion)
}

func (c *Store) DeleteAttribute(ctx context.Context, key string, ifVersion int64) error {
	defer c.forgetAttributes()
	return c.inner.DeleteAttribute(ctx, key, ifVersion)
}

func (c *Store) forgetAttributes() {
	c.epoch.Add(1)
	c.mu.Lock()
	clear(c.attrs)
	c.mu.Unlock()
}

func (c *Store) invalidateLines(r catalog.Reservation) {
	ids := make([]string, 0, len(r.Lines))
	for _, l := range r.Lines {
		ids = append(ids, l.ProductID)
	}
	c.Invalidate(ids...)
}

// ExpireReservations and ApplyDuePrices invalidate exactly the products they changed: the
// sweeper runs every second on every instance, so clearing the whole cache on each expiry would
// empty it continuously during a flash sale, when hot reads need it most.
func (c *Store) ExpireReservations(ctx context.Context, limit int) ([]catalog.Reservation, error) {
	rs, err := c.inner.ExpireReservations(ctx, limit)
	for _, r := range rs {
		for _, l := range r.Lines {
			c.Invalidate(l.ProductID)
		}
	}
	return rs, err
}

func (c *Store) ApplyDuePrices(ctx context.Context, limit int) ([]catalog.AppliedPrice, error) {
	ps, err := c.inner.ApplyDuePrices(ctx, limit)
	for _, p := range ps {
		c.Invalidate(p.ProductID)
	}
	return ps, err
}

// PurgeIdempotencyKeys and PurgeReservations remove only finished records: no product a read
// shows changes.
func (c *Store) PurgeIdempotencyKeys(ctx context.Context, limit int) (int, error) {
	return c.inner.PurgeIdempotencyKeys(ctx, limit)
}

func (c *Store) PurgeReservations(ctx context.Context, retention time.Duration, limit int) (int, error) {
	return c.inner.PurgeReservations(ctx, retention, limit)
}

// Collections are not cached, and no cached product shows its collections, so collection
// writes pass through and leave hot products cached: rearranging a flash-sale page must not
// send every product read of the sale to the database. A collection's list is read through
// ListProducts, which always goes to the store.

func (c *Store) Collection(ctx context.Context, slug string) (catalog.Collection, error) {
	return c.inner.Collection(ctx, slug)
}

func (c *Store) Collections(ctx context.Context) ([]catalog.Collection, error) {
	return c.inner.Collections(ctx)
}

func (c *Store) CreateCollection(ctx context.Context, in catalog.CollectionInput) (catalog.Collection, error) {
	return c.inner.CreateCollection(ctx, in)
}

func (c *Store) UpdateCollection(ctx context.Context, slug string, patch catalog.CollectionPatch, ifVersion int64) (catalog.Collection, error) {
	return c.inner.UpdateCollection(ctx, slug, patch, ifVersion)
}

func (c *Store) DeleteCollection(ctx context.Context, slug string, ifVersion int64) error {
	return c.inner.DeleteCollection(ctx, slug, ifVersion)
}

func (c *Store) SetCollectionProducts(ctx context.Context, slug string, ids []string, ifVersion int64) (catalog.Collection, error) {
	return c.inner.SetCollectionProducts(ctx, slug, ids, ifVersion)
}

func (c *Store) AddToCollection(ctx context.Context, slug string, ids []string, position *int) (catalog.Collection, error) {
	return c.inner.AddToCollection(ctx, slug, ids, position)
}

func (c *Store) RemoveFromCollection(ctx context.Context, slug, id string) (catalog.Collection, error) {
	return c.inner.RemoveFromCollection(ctx, slug, id)
}

// Events and PurgeEvents pass through: the feed is read once per poll and changes nothing a
// cached product shows.
func (c *Store) Events(ctx context.Context, q catalog.EventQuery) (catalog.EventPage, error) {
	return c.inner.Events(ctx, q)
}

// Export passes through: it reads one snapshot of its own, which a cache could not give.
func (c *Store) Export(ctx context.Context, q catalog.ExportQuery, begin func(catalog.ExportHead) error, each func(catalog.Product) error) error {
	return c.inner.Export(ctx, q, begin, each)
}

func (c *Store) PurgeEvents(ctx context.Context, retention time.Duration, limit int) (int, error) {
	return c.inner.PurgeEvents(ctx, retention, limit)
}

// Webhook subscriptions and their delivery state pass through: no product read shows them.

func (c *Store) CreateWebhook(ctx context.Context, in catalog.WebhookInput, secret string) (catalog.Webhook, error) {
	return c.inner.CreateWebhook(ctx, in, secret)
}

func (c *Store) Webhook(ctx context.Context, id string) (catalog.Webhook, error) {
	return c.inner.Webhook(ctx, id)
}

func (c *Store) ListWebhooks(ctx context.Context, after string, limit int) (catalog.WebhookPage, error) {
	return c.inner.ListWebhooks(ctx, after, limit)
}

func (c *Store) UpdateWebhook(ctx context.Context, id string, patch catalog.WebhookPatch) (catalog.Webhook, error) {
	return c.inner.UpdateWebhook(ctx, id, patch)
}

func (c *Store) DeleteWebhook(ctx context.Context, id string) error {
	return c.inner.DeleteWebhook(ctx, id)
}

func (c *Store) RotateWebhookSecret(ctx context.Context, id, secret string) (catalog.Webhook, error) {
	return c.inner.RotateWebhookSecret(ctx, id, secret)
}

func (c *Store) WebhookDeliveries(ctx context.Context, id string, before int64, limit int) (catalog.DeliveryPage, error) {
	return c.inner.WebhookDeliveries(ctx, id, before, limit)
}

func (c *Store) ClaimWebhook(ctx context.Context, owner string, lease time.Duration) (catalog.Webhook, bool, error) {
	return c.inner.ClaimWebhook(ctx, owner, lease)
}

func (c *Store) RecordWebhookAttempt(ctx context.Context, id, owner string, a catalog.WebhookAttempt, lease time.Duration) (bool, error) {
	return c.inner.RecordWebhookAttempt(ctx, id, owner, a, lease)
}

func (c *Store) PurgeWebhookDeliveries(ctx context.Context, retention time.Duration, limit int) (int, error) {
	return c.inner.PurgeWebhookDeliveries(ctx, retention, limit)
}

// The feed consumers' positions and leases pass through: no cached product shows them.
func (c *Store) ClaimFeedConsumer(ctx context.Context, name, owner string, ttl time.Duration, start catalog.FeedStart) (catalog.FeedLease, error) {
	return c.inner.ClaimFeedConsumer(ctx, name, owner, ttl, start)
}

func (c *Store) AdvanceFeedConsumer(ctx context.Context, name, owner string, position int64) error {
	return c.inner.AdvanceFeedConsumer(ctx, name, owner, position)
}

func (c *Store) ReleaseFeedConsumer(ctx context.Context, name, owner string) error {
	return c.inner.ReleaseFeedConsumer(ctx, name, owner)
}
