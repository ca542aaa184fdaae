package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// Message is one event to deliver to one subscription.
type Message struct {
	// ID is the event's ID: the same on every retry, so a receiver can drop duplicates
	// (delivery is at least once).
	ID   string
	URL  string
	Body []byte
	// Secrets sign the request; two during a secret rotation.
	Secrets []Secret
}

// Outcome is what one delivery attempt came to.
type Outcome struct {
	Status   int // 0 when no response arrived
	Duration time.Duration
	// Err says why the attempt failed; nil on a 2xx.
	Err error
	// Retry says whether trying again later may succeed.
	Retry bool
	// Gone is a 410 from the receiver: it asks not to be called again.
	Gone bool
}

// OK reports whether the receiver accepted the message.
func (o Outcome) OK() bool { return o.Err == nil }

// MaxResponseRead bounds what is read of a receiver's answer (it is only logged).
const MaxResponseRead = 4 << 10

// UserAgent identifies the sender to receivers.
const UserAgent = "catalog-webhooks/1"

// Sender delivers messages with a client that must refuse internal destinations
// (egress.Policy.Client).
type Sender struct {
	Client *http.Client
	Now    func() time.Time
}

// Send makes one attempt: a POST of the body with the signing headers. 2xx is success; 410 asks
// to stop; 408, 429 and 5xx and network errors are retried; other 4xx are retried too (a
// receiver's deploy may answer 404 for a minute) but count towards disabling.
func (s Sender) Send(ctx context.Context, m Message) Outcome {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Outcome{Err: fmt.Errorf("bad URL: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	SetHeaders(req.Header, m.ID, now(), m.Body, m.Secrets...)
	start := time.Now()
	resp, err := s.Client.Do(req)
	d := time.Since(start)
	if err != nil {
		return Outcome{Duration: d, Err: err, Retry: !errors.Is(err, context.Canceled)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseRead))
	resp.Body.Close()
	o := Outcome{Status: resp.StatusCode, Duration: d}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode == http.StatusGone:
		o.Err, o.Gone = fmt.Errorf("receiver answered 410 Gone"), true
	default:
		o.Err, o.Retry = fmt.Errorf("receiver answered %d", resp.StatusCode), true
	}
	return o
}

// Retry schedule: exponential from FirstRetry, capped at MaxRetryDelay, with full jitter (a
// random delay between half and all of the step, so receivers recovering from an outage are not
// hit by every sender at once). A subscription failing for DisableAfter is disabled.
const (
	FirstRetry    = 5 * time.Second
	MaxRetryDelay = time.Hour
	DisableAfter  = 24 * time.Hour
)

// NextAttempt returns when to try again after the attempt-th consecutive failure (1 for the
// first), and whether to give up instead because the subscription has been failing since
// failingSince for DisableAfter or more.
func NextAttempt(attempt int, failingSince, now time.Time, rnd *rand.Rand) (at time.Time, disable bool) {
	if now.Sub(failingSince) >= DisableAfter {
		return time.Time{}, true
	}
	step := MaxRetryDelay
	if attempt < 20 {
		step = min(FirstRetry<<(attempt-1), MaxRetryDelay)
	}
	jitter := time.Duration(0)
	if half := step / 2; half > 0 {
		jitter = time.Duration(rnd.Int64N(int64(half) + 1))
	}
	return now.Add(step/2 + jitter), false
}
