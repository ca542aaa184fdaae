// Package webhook signs and delivers webhook requests the Standard Webhooks way
// (https://www.standardwebhooks.com): every request carries webhook-id, webhook-timestamp and
// webhook-signature headers, the signature an HMAC-SHA256 over "id.timestamp.body" with the
// subscription's secret, so receivers can verify deliveries with any of that specification's
// libraries.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret in its text form.
const SecretPrefix = "whsec_"

// Secret lengths in bytes: the specification asks for 24 to 64 random bytes.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
	secretBytes    = 32
)

// Secret is a signing key.
type Secret []byte

// NewSecret returns a fresh random secret.
func NewSecret() Secret {
	b := make([]byte, secretBytes)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ panics rather than return
	// an error), so there is no error to handle.
	rand.Read(b)
	return b
}

// String returns the secret in its text form, whsec_ and the base64 of the key.
func (s Secret) String() string { return SecretPrefix + base64.StdEncoding.EncodeToString(s) }

// ParseSecret reads a secret in its text form; the prefix may be left out.
func ParseSecret(text string) (Secret, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(text, SecretPrefix))
	if err != nil {
		return nil, errors.New("a webhook secret is whsec_ followed by base64")
	}
	if len(b) < MinSecretBytes || len(b) > MaxSecretBytes {
		return nil, fmt.Errorf("a webhook secret holds %d to %d bytes, not %d", MinSecretBytes, MaxSecretBytes, len(b))
	}
	return b, nil
}

// Sign returns the webhook-signature header value for a message: "v1," and the base64
// HMAC-SHA256 of "id.timestamp.body" under each secret, space-separated (several during a
// secret rotation, so receivers holding either secret accept the delivery).
func Sign(id string, at time.Time, body []byte, secrets ...Secret) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac(s, id, ts, body))
	}
	return strings.Join(sigs, " ")
}

func mac(s Secret, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, s)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// SetHeaders puts the three signing headers on a request about to be sent.
func SetHeaders(h http.Header, id string, at time.Time, body []byte, secrets ...Secret) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, Sign(id, at, body, secrets...))
}

// Tolerance is how far a receiver lets a timestamp be from its clock (the specification's
// recommendation), which bounds how long a captured request can be replayed.
const Tolerance = 5 * time.Minute

// Errors Verify returns.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp   = errors.New("webhook: timestamp too old, too new or malformed")
	ErrBadSignature   = errors.New("webhook: no signature matches")
)

// Verify checks a received request's headers and body against secret at now, as a receiver
// does; the tests and the README's receiver example use it. It compares in constant time.
func Verify(h http.Header, body []byte, secret Secret, now time.Time) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrBadTimestamp
	}
	want := mac(secret, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
