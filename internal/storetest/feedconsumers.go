package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// feedConsumerTests check the durable feed consumers' positions and leases (ADR 0018).
func feedConsumerTests() []namedTest {
	return []namedTest{
		{"FeedConsumerStartsAtHead", testFeedConsumerStart},
		{"FeedConsumerOneOwnerAtATime", testFeedConsumerOneOwner},
		{"FeedConsumerExpiredLeaseTakenOver", testFeedConsumerTakeover},
		{"FeedConsumerRefusesBadInput", testFeedConsumerInput},
	}
}

const leaseTTL = 30 * time.Second

func testFeedConsumerStart(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	category(t, s, "fc-a", "")
	category(t, s, "fc-b", "")
	evs, head := feed(t, s, 0)
	if len(evs) < 2 {
		t.Fatalf("feed has %d events after two writes", len(evs))
	}
	l := must(s.ClaimFeedConsumer(c, "relay", "a", leaseTTL, catalog.FeedStartHead))(t)
	if !l.Created || l.Position != head || l.Owner != "a" || !l.Until.Equal(clock.Now().Add(leaseTTL)) {
		t.Fatalf("first claim = %+v, want created at the head %d until %v", l, head, clock.Now().Add(leaseTTL))
	}
	// The same owner renews: same position, later end, not created again.
	clock.Advance(10 * time.Second)
	l = must(s.ClaimFeedConsumer(c, "relay", "a", leaseTTL, catalog.FeedStartOldest))(t)
	if l.Created || l.Position != head || !l.Until.Equal(clock.Now().Add(leaseTTL)) {
		t.Fatalf("renewal = %+v, want position %d until %v", l, head, clock.Now().Add(leaseTTL))
	}
	// A consumer that starts at the oldest kept event reads every event.
	o := must(s.ClaimFeedConsumer(c, "replay", "a", leaseTTL, catalog.FeedStartOldest))(t)
	if !o.Created || o.Position != 0 {
		t.Fatalf("oldest claim = %+v, want position 0", o)
	}
	// Later writes come after the head position, and the position survives a release.
	category(t, s, "fc-c", "")
	after, _ := feed(t, s, l.Position)
	if len(after) != 1 || after[0].Subject != "categories/fc-c" {
		t.Fatalf("events after the head: %v", after)
	}
	must(0, s.AdvanceFeedConsumer(c, "relay", "a", l.Position+5))(t)
	must(0, s.ReleaseFeedConsumer(c, "relay", "a"))(t)
	l = must(s.ClaimFeedConsumer(c, "relay", "b", leaseTTL, catalog.FeedStartHead))(t)
	if l.Position != head+5 || l.Created {
		t.Fatalf("claim after release = %+v, want position %d", l, head+5)
	}

	// After a purge, a new consumer starting at the oldest begins at the purge floor, which
	// the feed still serves.
	clock.Advance(catalog.DefaultEventRetention + time.Hour)
	if _, err := s.PurgeEvents(c, catalog.DefaultEventRetention, 1000); err != nil {
		t.Fatal(err)
	}
	o = must(s.ClaimFeedConsumer(c, "late", "a", leaseTTL, catalog.FeedStartOldest))(t)
	if _, err := s.Events(c, catalog.EventQuery{After: o.Position}); err != nil {
		t.Fatalf("Events after a new oldest consumer's position %d: %v", o.Position, err)
	}
	h := must(s.ClaimFeedConsumer(c, "late-head", "a", leaseTTL, catalog.FeedStartHead))(t)
	if h.Position < o.Position || h.Position < head {
		t.Fatalf("head after purge %d, below the floor %d or the old head %d", h.Position, o.Position, head)
	}
}

// testFeedConsumerOneOwner races many owners for one lease, round after round: exactly one
// wins each round, the others are told the lease is held.
func testFeedConsumerOneOwner(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	const owners = 12
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		start := make(chan struct{})
		for i := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("task-%d-%d", round, i)
				<-start
				_, err := s.ClaimFeedConsumer(c, "race", owner, leaseTTL, catalog.FeedStartHead)
				switch catalog.ErrorCode(err) {
				case "":
					mu.Lock()
					winners = append(winners, owner)
					mu.Unlock()
				case catalog.CodeConflict:
				default:
					t.Errorf("claim by %s: %v", owner, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: %d owners hold the lease: %v", round, len(winners), winners)
		}
		// While it runs, nobody else gets it, and only the holder advances.
		clock.Advance(leaseTTL - time.Second)
		_, err := s.ClaimFeedConsumer(c, "race", "intruder", leaseTTL, catalog.FeedStartHead)
		wantCode(t, err, catalog.CodeConflict)
		wantCode(t, s.AdvanceFeedConsumer(c, "race", "intruder", int64(round+1)), catalog.CodeConflict)
		must(0, s.AdvanceFeedConsumer(c, "race", winners[0], int64(round+1)))(t)
		clock.Advance(2 * time.Second) // expired: the next round races again
	}
}

// testFeedConsumerTakeover: an owner that stops renewing loses the lease when it expires; the
// next owner resumes at the stored position, and the stale owner can neither advance nor
// claim back while the new lease runs.
func testFeedConsumerTakeover(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	must(s.ClaimFeedConsumer(c, "relay", "old", leaseTTL, catalog.FeedStartHead))(t)
	must(0, s.AdvanceFeedConsumer(c, "relay", "old", 40))(t)
	clock.Advance(leaseTTL) // the lease ends at exactly now+ttl
	wantCode(t, s.AdvanceFeedConsumer(c, "relay", "old", 41), catalog.CodeConflict)
	l := must(s.ClaimFeedConsumer(c, "relay", "new", leaseTTL, catalog.FeedStartHead))(t)
	if l.Position != 40 || l.Created {
		t.Fatalf("takeover = %+v, want position 40", l)
	}
	wantCode(t, s.AdvanceFeedConsumer(c, "relay", "old", 50), catalog.CodeConflict)
	_, err := s.ClaimFeedConsumer(c, "relay", "old", leaseTTL, catalog.FeedStartHead)
	wantCode(t, err, catalog.CodeConflict)
	// A release by someone who does not hold it changes nothing.
	must(0, s.ReleaseFeedConsumer(c, "relay", "old"))(t)
	_, err = s.ClaimFeedConsumer(c, "relay", "old", leaseTTL, catalog.FeedStartHead)
	wantCode(t, err, catalog.CodeConflict)
	// Positions only move forward; the refused advance leaves it where it was.
	wantCode(t, s.AdvanceFeedConsumer(c, "relay", "new", 39), catalog.CodeInvalid)
	must(0, s.AdvanceFeedConsumer(c, "relay", "new", 40))(t)
	must(0, s.AdvanceFeedConsumer(c, "relay", "new", 60))(t)
	// The holder's release lets the old owner in at once, at the new position.
	must(0, s.ReleaseFeedConsumer(c, "relay", "new"))(t)
	wantCode(t, s.AdvanceFeedConsumer(c, "relay", "new", 61), catalog.CodeConflict)
	if l := must(s.ClaimFeedConsumer(c, "relay", "old", leaseTTL, catalog.FeedStartHead))(t); l.Position != 60 {
		t.Fatalf("claim after release = %+v, want position 60", l)
	}
	// Advancing a consumer nobody created is refused like a lease not held.
	wantCode(t, s.AdvanceFeedConsumer(c, "nobody", "old", 1), catalog.CodeConflict)
}

func testFeedConsumerInput(t *testing.T, s catalog.Store, _ *FakeClock) {
	c := ctx(t)
	for _, tc := range []struct {
		name, owner string
		ttl         time.Duration
	}{
		{"", "a", leaseTTL},
		{"relay", "", leaseTTL},
		{"relay", "a", 0},
		{"relay", "a", time.Millisecond},
		{string(make([]byte, catalog.MaxFeedConsumerName+1)), "a", leaseTTL},
		{"relay", "\xff", leaseTTL},
	} {
		_, err := s.ClaimFeedConsumer(c, tc.name, tc.owner, tc.ttl, catalog.FeedStartHead)
		wantCode(t, err, catalog.CodeInvalid)
	}
	wantCode(t, s.AdvanceFeedConsumer(c, "", "a", 1), catalog.CodeInvalid)
	wantCode(t, s.ReleaseFeedConsumer(c, "relay", ""), catalog.CodeInvalid)
}
