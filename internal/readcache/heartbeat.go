package readcache

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// heartbeatTag starts every heartbeat's payload. Product IDs are UUIDs, so none starts with it.
const heartbeatTag = "heartbeat:"

// Heartbeat proves that the connection invalidations arrive on still hears every change. The
// instance sends Payload on the product channel now and then (HeartbeatInterval); Changed,
// called with every payload the listener hears, invalidates the products named and, when one of
// this instance's own heartbeats comes back, confirms (Store.Confirm) every change committed
// before it was sent. A connection that stops delivering without dropping (a half-open TCP
// connection) stops the confirmations, and entries fall back to their TTL and a version lookup.
type Heartbeat struct {
	c      *Store
	prefix string // heartbeatTag and this instance's token
}

// NewHeartbeat makes the heartbeat of c's instance: its payloads carry a random token, so other
// instances' heartbeats, sent by other clocks, are never taken for its own.
func NewHeartbeat(c *Store) *Heartbeat {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return &Heartbeat{c: c, prefix: heartbeatTag + hex.EncodeToString(b[:]) + ":"}
}

// HeartbeatInterval is how often an instance sends its heartbeat for a cache of that TTL: a
// quarter, so three lost in a row still leave a confirmation younger than the TTL.
func HeartbeatInterval(ttl time.Duration) time.Duration {
	return max(ttl/4, 100*time.Millisecond)
}

// Payload is the notification to send at sent (read the clock just before sending it: the
// confirmation must not claim more than the send did).
func (h *Heartbeat) Payload(sent time.Time) string {
	return h.prefix + strconv.FormatInt(sent.UnixNano(), 10)
}

// Changed handles one notification: a product ID is invalidated, this instance's heartbeat
// confirms, another instance's is ignored (it names no product).
func (h *Heartbeat) Changed(payload string) {
	if !strings.HasPrefix(payload, heartbeatTag) {
		h.c.Invalidate(payload)
		return
	}
	rest, mine := strings.CutPrefix(payload, h.prefix)
	if !mine {
		return
	}
	if ns, err := strconv.ParseInt(rest, 10, 64); err == nil {
		h.c.Confirm(time.Unix(0, ns))
	}
}
