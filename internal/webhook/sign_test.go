package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks specification's published test vector: matching it is what lets a
// receiver verify our deliveries with any of the specification's libraries.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecificationVector(t *testing.T) {
	s, err := ParseSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody), s); got != vectorSignature {
		t.Fatalf("Sign = %q, want %q", got, vectorSignature)
	}
}

func TestVerify(t *testing.T) {
	s, _ := ParseSecret(vectorSecret)
	other := NewSecret()
	at := time.Unix(vectorTimestamp, 0)
	headers := func(id string, ts time.Time, body string, secrets ...Secret) http.Header {
		h := http.Header{}
		SetHeaders(h, id, ts, []byte(body), secrets...)
		return h
	}
	tests := []struct {
		name string
		h    http.Header
		body string
		now  time.Time
		want error
	}{
		{"valid", headers(vectorID, at, vectorBody, s), vectorBody, at.Add(time.Minute), nil},
		{"rotation: either secret", headers(vectorID, at, vectorBody, other, s), vectorBody, at, nil},
		{"body altered", headers(vectorID, at, vectorBody, s), `{"test": 2432232315}`, at, ErrBadSignature},
		{"another id, signed for itself", headers("msg_other", at, vectorBody, s), vectorBody, at, nil},
		{"wrong secret", headers(vectorID, at, vectorBody, other), vectorBody, at, ErrBadSignature},
		{"too old", headers(vectorID, at, vectorBody, s), vectorBody, at.Add(Tolerance + time.Second), ErrBadTimestamp},
		{"from the future", headers(vectorID, at.Add(Tolerance+time.Second), vectorBody, s), vectorBody, at, ErrBadTimestamp},
		{"no headers", http.Header{}, vectorBody, at, ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.h, []byte(tt.body), s, tt.now); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	// A signature made for one id does not verify under another.
	h := headers(vectorID, at, vectorBody, s)
	h.Set(HeaderID, "msg_forged")
	if err := Verify(h, []byte(vectorBody), s, at); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged id: %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	s := NewSecret()
	back, err := ParseSecret(s.String())
	if err != nil || string(back) != string(s) || !strings.HasPrefix(s.String(), SecretPrefix) {
		t.Fatalf("round trip: %v", err)
	}
	if string(NewSecret()) == string(s) {
		t.Fatal("two secrets are equal")
	}
	for _, bad := range []string{"whsec_not base64!", "whsec_c2hvcnQ=", ""} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted", bad)
		}
	}
}

func FuzzVerifyNeverAcceptsAnAlteredBody(f *testing.F) {
	f.Add([]byte(vectorBody), 0, byte(1))
	f.Fuzz(func(t *testing.T, body []byte, pos int, flip byte) {
		s, _ := ParseSecret(vectorSecret)
		at := time.Unix(vectorTimestamp, 0)
		h := http.Header{}
		SetHeaders(h, vectorID, at, body, s)
		if err := Verify(h, body, s, at); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if len(body) == 0 || flip == 0 {
			return
		}
		altered := append([]byte(nil), body...)
		i := pos % len(altered)
		if i < 0 {
			i = -i
		}
		altered[i] ^= flip
		if err := Verify(h, altered, s, at); err == nil {
			t.Fatalf("altered body accepted")
		}
	})
}
