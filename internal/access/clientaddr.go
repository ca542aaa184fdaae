package access

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr returns the address of the client behind hops trusted proxies. Each proxy appends
// the address it received the request from to X-Forwarded-For, so only the last hops entries are
// written by proxies we trust; anything left of them came from the client and may be forged. The
// client is the entry hops from the right; with fewer entries (or hops 0, or a bad entry) the
// TCP peer is the only address we can trust.
func ClientAddr(r *http.Request, hops int) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if hops <= 0 {
		return peer
	}
	var entries []string
	// Several X-Forwarded-For fields are one list, in order (RFC 9110, 5.3).
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, e := range strings.Split(v, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	// The peer is the last proxy; the entries it and the hops-1 proxies before it added are the
	// last hops entries, and the client's address is the right-most of those written by the
	// first trusted proxy.
	i := len(entries) - hops
	if i < 0 {
		return peer
	}
	addr, err := netip.ParseAddr(entries[i])
	if err != nil {
		return peer
	}
	return addr.Unmap().String()
}
