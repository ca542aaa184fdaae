// Package egress makes outbound HTTP requests to addresses clients chose (webhook URLs) without
// letting them reach inside the network: a URL whose host resolves to a loopback, private,
// link-local (the instance metadata service included), shared, reserved or multicast address is
// refused unless an allow-list names it. The check runs when a connection is dialled, on the
// address actually dialled, so a DNS answer that changes after the URL was accepted (DNS
// rebinding) cannot get through either.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is the error for a destination that is not public and not allowed.
var ErrForbidden = errors.New("egress: destination address is not public")

// blocked lists the special-purpose ranges (IANA IPv4 and IPv6 Special-Purpose Address
// Registries) that netip.Addr's own predicates do not already cover.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: reaches any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo included)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4 address
	netip.MustParsePrefix("fd00:ec2::/32"),   // the EC2 IPv6 metadata service (also in fc00::/7)
}

// Public reports whether a is an ordinary public unicast address.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsMulticast() ||
		a.IsUnspecified() || a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Policy says which destinations are allowed.
type Policy struct {
	// Allow lists ranges allowed even though they are not public (a webhook receiver inside
	// the VPC the operator trusts, or a test server on loopback).
	Allow []netip.Prefix
	// AllowHTTP permits plain http URLs whose host is in Allow (a receiver on a network the
	// operator trusts); otherwise, and to any other host, only https: events would cross the
	// internet in clear text.
	AllowHTTP bool
}

// Allowed reports whether the policy lets a connection go to a.
func (p Policy) Allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p.Allow {
		if pr.Contains(a) {
			return true
		}
	}
	return Public(a)
}

// MaxURLLength bounds a destination URL.
const MaxURLLength = 2048

// CheckURL checks a destination URL when a client gives it: absolute http(s), no user
// information, a host, a port if any in range, and every address the host resolves to allowed
// (so a client learns at once that an internal URL will never be called). The dial-time check
// still applies to every delivery.
func (p Policy) CheckURL(ctx context.Context, raw string, resolver *net.Resolver) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("must be at most %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return errors.New("must be an absolute https URL")
	case u.Scheme != "https" && !(u.Scheme == "http" && p.AllowHTTP):
		if p.AllowHTTP {
			return errors.New("must be an http or https URL")
		}
		return errors.New("must be an https URL")
	case u.User != nil:
		return errors.New("must not hold a user name or password")
	case u.Fragment != "":
		return errors.New("must not have a fragment")
	}
	host := u.Hostname()
	plain := u.Scheme == "http"
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.Allowed(a) {
			return fmt.Errorf("points to %s, which is not a public address", a)
		}
		if plain && !p.listed(a) {
			return errPlainHTTP
		}
		return nil
	}
	if strings.HasSuffix(strings.ToLower(host), ".localhost") || strings.EqualFold(host, "localhost") {
		if !p.Allowed(netip.MustParseAddr("127.0.0.1")) {
			return errors.New("points to localhost")
		}
		return nil
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("host %s does not resolve", host)
	}
	for _, a := range addrs {
		if !p.Allowed(a) {
			return fmt.Errorf("host %s resolves to %s, which is not a public address", host, a.Unmap())
		}
		if plain && !p.listed(a) {
			return errPlainHTTP
		}
	}
	return nil
}

var errPlainHTTP = errors.New("must be an https URL (plain http only to an allow-listed address)")

// listed reports whether an allow-list range holds a.
func (p Policy) listed(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p.Allow {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control function enforcing the policy on the address being dialled.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	if !p.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbidden, ap.Addr())
	}
	return nil
}

// Client returns an HTTP client that dials only allowed addresses, never follows redirects (a
// receiver's 3xx is its answer), ignores proxy settings from the environment (a proxy would
// dial on our behalf, past the check), and gives up after timeout.
func (p Policy) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: p.Control}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ParseAllowList reads a comma-separated list of CIDR ranges or single addresses.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR range", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR range", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
