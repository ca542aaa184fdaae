package egress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublic(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.0.1.5", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // EC2 instance metadata
		{"fd00:ec2::254", false},   // EC2 IPv6 instance metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::a00:1", false}, // NAT64 to 10.0.0.1
		{"2002:a00:1::", false},   // 6to4 of 10.0.0.1
		{"198.18.0.1", false},
	} {
		if got := Public(netip.MustParseAddr(tt.addr)); got != tt.public {
			t.Errorf("Public(%s) = %v, want %v", tt.addr, got, tt.public)
		}
	}
}

// The cases use literal addresses and localhost, so no DNS server is needed.
func TestCheckURL(t *testing.T) {
	strict := Policy{}
	loop := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: true}
	ctx := context.Background()
	for _, tt := range []struct {
		p       Policy
		url     string
		problem string
	}{
		{strict, "https://203.0.114.9/hook", ""},
		{strict, "http://203.0.114.9/hook", "https"},
		{strict, "https://127.0.0.1/hook", "not a public address"},
		{strict, "https://[::1]:8443/hook", "not a public address"},
		{strict, "https://169.254.169.254/latest/meta-data/", "not a public address"},
		{strict, "https://localhost/hook", "localhost"},
		{strict, "https://api.localhost/hook", "localhost"},
		{strict, "https://user:pw@203.0.114.9/hook", "user name"},
		{strict, "/relative", "absolute"},
		{strict, "ftp://203.0.114.9/", "https"},
		{strict, "https://" + strings.Repeat("a", MaxURLLength) + ".com/", "at most"},
		{loop, "http://127.0.0.1:9/hook", ""},
		{loop, "https://localhost/hook", ""},
		{loop, "http://10.0.0.1/hook", "not a public address"},
		{loop, "http://203.0.114.9/hook", "plain http only to an allow-listed address"}, // clear text across the internet
		{loop, "https://203.0.114.9/hook", ""},
	} {
		err := tt.p.CheckURL(ctx, tt.url, nil)
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want ok", tt.url, err)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("CheckURL(%q) = %v, want an error mentioning %q", tt.url, err, tt.problem)
		}
	}
}

func TestClientRefusesToDialWhatThePolicyForbids(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	// The test server listens on loopback: refused without an allow-list entry, whatever
	// the URL says (the dialled address is what counts).
	_, err := Policy{}.Client(2 * time.Second).Get(srv.URL)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("strict client reached loopback: %v", err)
	}
	allowed := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, AllowHTTP: true}
	resp, err := allowed.Client(2 * time.Second).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect was followed")
	}))
	defer inside.Close()
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL, http.StatusTemporaryRedirect)
	}))
	defer outside.Close()
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: true}
	resp, err := p.Client(2 * time.Second).Get(outside.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("status %d, want the 307 itself", resp.StatusCode)
	}
}

func TestControlRefusesMalformedAddresses(t *testing.T) {
	if err := (Policy{}).Control("tcp", "not-an-address", nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Control = %v", err)
	}
}

func TestParseAllowList(t *testing.T) {
	got, err := ParseAllowList("10.0.0.0/8, 192.168.1.7 ,fd00::/8")
	if err != nil || len(got) != 3 || got[1] != netip.MustParsePrefix("192.168.1.7/32") {
		t.Fatalf("ParseAllowList = %v, %v", got, err)
	}
	if _, err := ParseAllowList("10.0.0.0/33"); err == nil {
		t.Fatal("bad prefix accepted")
	}
	if _, err := ParseAllowList("example.com"); err == nil {
		t.Fatal("a name accepted")
	}
}

func FuzzPublicAgreesWithTheMappedForm(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1})
	f.Add([]byte{10, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 4 {
			return
		}
		v4 := netip.AddrFrom4([4]byte(b))
		mapped := netip.AddrFrom16(v4.As16())
		if Public(v4) != Public(mapped) {
			t.Fatalf("%s and its mapped form disagree", v4)
		}
	})
}
