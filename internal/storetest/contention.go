package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// domainCodes are the answers a write may give under contention: each tells the client what
// happened. Anything else (internal, unavailable) means the store lost a race it should have
// queued for or retried.
var domainCodes = map[catalog.Code]bool{
	"": true, catalog.CodeNotFound: true, catalog.CodeConflict: true, catalog.CodeInsufficientStock: true,
	catalog.CodeInvalid: true, catalog.CodePreconditionFailed: true,
}

// raceErrors collects errors with codes outside domainCodes.
type raceErrors struct {
	mu   sync.Mutex
	errs []string
}

func (r *raceErrors) check(op string, err error) {
	if code := catalog.ErrorCode(err); err != nil && !domainCodes[code] {
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Sprintf("%s: %v", op, err))
		r.mu.Unlock()
	}
}

func (r *raceErrors) report(t *testing.T) {
	t.Helper()
	for i, e := range r.errs {
		if i == 10 {
			t.Errorf("... and %d more", len(r.errs)-10)
			break
		}
		t.Error(e)
	}
}

// testDeleteRacesReservation deletes products while one-line reservations of them run: every
// answer is a domain error, never a deadlock or an internal error.
func testDeleteRacesReservation(t *testing.T, s catalog.Store, _ *FakeClock) {
	var bad raceErrors
	for round := range 4 {
		units := map[string]int64{}
		for i := range 25 {
			// Half have stock (the delete is refused), half none (the delete goes through).
			units[fmt.Sprintf("DR-%d-%02d", round, i)] = int64(i % 2 * 3)
		}
		products := stocked(t, s, units)
		var wg sync.WaitGroup
		for sku, p := range products {
			wg.Add(2)
			go func() {
				defer wg.Done()
				bad.check("DeleteProduct "+sku, s.DeleteProduct(ctx(t), p.ProductID, 0))
			}()
			go func() {
				defer wg.Done()
				_, err := s.Reserve(ctx(t), reserve(sku, 1), "racer", nil)
				bad.check("Reserve "+sku, err)
			}()
		}
		wg.Wait()
	}
	bad.report(t)
}

// testEveryWriteUnderContention runs every write method of the store at once on a few shared
// products: the only answers are domain errors, and the stock invariants hold afterwards.
func testEveryWriteUnderContention(t *testing.T, s catalog.Store, clock *FakeClock) {
	skus := []string{"EW-1", "EW-2", "EW-3", "EW-4"}
	units := map[string]int64{}
	for _, sku := range skus {
		units[sku] = 40
	}
	products := stocked(t, s, units)
	ids := make([]string, len(skus))  // variant IDs
	pids := make([]string, len(skus)) // product IDs
	for i, sku := range skus {
		ids[i], pids[i] = products[sku].ID, products[sku].ProductID
	}
	var bad raceErrors
	var wg sync.WaitGroup
	run := func(name string, n int, fn func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				bad.check(fmt.Sprintf("%s #%d", name, i), fn(i))
			}
		}()
	}
	for w := range 3 {
		run("Reserve one line", 15, func(i int) error {
			r, err := s.Reserve(ctx(t), reserve(skus[(i+w)%4], 1), "w", nil)
			if err == nil && i%2 == 0 {
				_, err = s.CommitReservation(ctx(t), r.ID, "w", nil)
			} else if err == nil && i%3 == 0 {
				_, err = s.ReleaseReservation(ctx(t), r.ID, "w", nil)
			}
			return err
		})
		run("Reserve lines in opposite orders", 15, func(i int) error {
			in := reserve(skus[(i+w)%4], 1, skus[(i+w+1)%4], 1, skus[(i+w+2)%4], 1)
			if w%2 == 1 {
				in = reserve(skus[(i+w+2)%4], 1, skus[(i+w+1)%4], 1, skus[(i+w)%4], 1)
			}
			r, err := s.Reserve(ctx(t), in, "w", idem(t, fmt.Sprintf("ew-%d-%d", w, i), "reserve", in))
			if err == nil && i%2 == 1 {
				_, err = s.ReleaseReservation(ctx(t), r.ID, "w", nil)
			}
			return err
		})
		run("AdjustStock", 15, func(i int) error {
			delta := int64(2)
			if i%3 == 2 {
				delta = -1
			}
			_, err := s.AdjustStock(ctx(t), ids[(i+w)%4], catalog.Adjustment{Delta: delta, Reason: "count_correction", Note: "contention"}, "w", nil)
			return err
		})
		run("SetPrice", 10, func(i int) error {
			_, _, err := s.SetPrice(ctx(t), ids[(i+w)%4], catalog.PriceChange{Currency: "USD", Amount: int64(100 + i)}, "w", 0)
			return err
		})
		run("ReplaceProduct and SetProductStatus", 10, func(i int) error {
			id := pids[(i+w)%4]
			in := own(input(skus[(i+w)%4], fmt.Sprintf("Renamed %d", i), "stock", int64(200+i)))
			if _, err := s.ReplaceProduct(ctx(t), id, in, 0); err != nil {
				return err
			}
			_, err := s.SetProductStatus(ctx(t), id, catalog.StatusActive, 0)
			return err
		})
	}
	run("DeleteProduct (refused: stock on hand)", 20, func(i int) error {
		return s.DeleteProduct(ctx(t), pids[i%4], 0)
	})
	run("ExpireReservations and ApplyDuePrices", 20, func(i int) error {
		if _, err := s.ExpireReservations(ctx(t), 10); err != nil {
			return err
		}
		_, err := s.ApplyDuePrices(ctx(t), 10)
		return err
	})
	run("create and delete other products", 10, func(i int) error {
		p, err := s.CreateProduct(ctx(t), input(fmt.Sprintf("EW-X-%d", i), "Extra", "stock", 1))
		if err != nil {
			return err
		}
		return s.DeleteProduct(ctx(t), p.ID, 0)
	})
	run("categories: create, fill, rename, delete while products arrive", 10, func(i int) error {
		slug := fmt.Sprintf("ew-cat-%d", i)
		if _, err := s.CreateCategory(ctx(t), catalog.CategoryInput{Slug: slug, Name: "Contended"}); err != nil {
			return err
		}
		errs := make(chan error, 3)
		go func() {
			_, err := s.CreateProduct(ctx(t), input(fmt.Sprintf("EW-C-%d", i), "In a contended category", slug, 1))
			errs <- err
		}()
		go func() {
			in := input(fmt.Sprintf("EW-I-%d", i), "Imported", slug, 1)
			in.Variants[0].InitialStock = 1
			errs <- s.Import(ctx(t), []catalog.NewProduct{{ProductInput: in}})
		}()
		go func() {
			name := "Renamed"
			_, err := s.UpdateCategory(ctx(t), slug, catalog.CategoryPatch{Name: &name})
			if err == nil {
				err = s.DeleteCategory(ctx(t), slug)
			}
			errs <- err
		}()
		for range 3 {
			bad.check("category race", <-errs)
		}
		return nil
	})
	wg.Wait()
	bad.report(t)
	for _, sku := range skus {
		st := stockOf(t, s, products[sku])
		if st.Reserved < 0 || st.Reserved > st.OnHand || st.Available != st.OnHand-st.Reserved {
			t.Errorf("stock of %s broke its invariants: %+v", sku, st)
		}
	}
}

// AuditRows counts the rows a store keeps for productID (all its variants) in its movement log
// and price history,
// reading the database directly: the Store interface shows neither once the product is gone.
type AuditRows func(t *testing.T, s catalog.Store, productID string) (movements, prices int)

// TestDeleteKeepsAudit: a product with units on hand or reserved cannot be deleted (409 naming
// the field); once its stock is zero it can, and its movements and price history stay.
func TestDeleteKeepsAudit(t *testing.T, open Opener, rows AuditRows) {
	clock := NewFakeClock()
	s := open(t, clock.Now)
	p := stocked(t, s, map[string]int64{"AUD-1": 5})["AUD-1"]
	if _, _, err := s.SetPrice(ctx(t), p.ID, catalog.PriceChange{Currency: "USD", Amount: 250}, "a", 0); err != nil {
		t.Fatal(err)
	}
	r := must(s.Reserve(ctx(t), reserve("AUD-1", 2), "a", nil))(t)

	err := s.DeleteProduct(ctx(t), p.ProductID, 0)
	wantCode(t, err, catalog.CodeConflict)
	if fields := fieldsOf(err); fields != "reserved" {
		t.Fatalf("DeleteProduct with reserved units: fields %q, want reserved (err: %v)", fields, err)
	}
	must(s.CommitReservation(ctx(t), r.ID, "a", nil))(t)
	err = s.DeleteProduct(ctx(t), p.ProductID, 0)
	wantCode(t, err, catalog.CodeConflict)
	if fields := fieldsOf(err); fields != "on_hand" {
		t.Fatalf("DeleteProduct with 3 on hand: fields %q, want on_hand (err: %v)", fields, err)
	}
	must(s.AdjustStock(ctx(t), p.ID, catalog.Adjustment{Delta: -3, Reason: "count_correction", Note: "before delisting"}, "a", nil))(t)
	movesBefore, pricesBefore := rows(t, s, p.ProductID)
	if movesBefore != 4 || pricesBefore != 2 {
		t.Fatalf("before the delete: %d movements, %d prices; want 4 and 2", movesBefore, pricesBefore)
	}
	if err := s.DeleteProduct(ctx(t), p.ProductID, 0); err != nil {
		t.Fatalf("DeleteProduct with no stock: %v", err)
	}
	if moves, prices := rows(t, s, p.ProductID); moves != movesBefore || prices != pricesBefore {
		t.Fatalf("after the delete: %d movements, %d prices; want %d and %d kept", moves, prices, movesBefore, pricesBefore)
	}
	// The finished reservation still reads, naming the SKU.
	got := must(s.Reservation(ctx(t), r.ID))(t)
	if got.Status != catalog.ReservationCommitted || len(got.Lines) != 1 || got.Lines[0].SKU != "AUD-1" || got.Lines[0].VariantID != p.ID {
		t.Fatalf("the reservation after its product's delete: %+v", got)
	}
	// Deleting one variant of a product keeps that variant's movements and price history too.
	if _, err := s.Category(ctx(t), "apparel"); err != nil {
		category(t, s, "apparel", "")
	}
	two := must(s.CreateProduct(ctx(t), shirt("AUDV", "apparel", []string{"S", "M"}, []string{"Red"}, 1000)))(t)
	gone := two.Variants[1]
	must(s.AdjustStock(ctx(t), gone.ID, catalog.Adjustment{Delta: 2, Reason: "received"}, "a", nil))(t)
	must(s.AdjustStock(ctx(t), gone.ID, catalog.Adjustment{Delta: -2, Reason: "damaged"}, "a", nil))(t)
	if _, _, err := s.SetPrice(ctx(t), gone.ID, catalog.PriceChange{Currency: "USD", Amount: 900}, "a", 0); err != nil {
		t.Fatal(err)
	}
	movesBefore, pricesBefore = rows(t, s, two.ID)
	if movesBefore != 2 || pricesBefore != 3 {
		t.Fatalf("before deleting a variant: %d movements, %d prices; want 2 and 3", movesBefore, pricesBefore)
	}
	if err := s.DeleteVariant(ctx(t), two.ID, gone.ID, 0); err != nil {
		t.Fatalf("DeleteVariant with no stock: %v", err)
	}
	if moves, prices := rows(t, s, two.ID); moves != movesBefore || prices != pricesBefore {
		t.Fatalf("after deleting a variant: %d movements, %d prices; want %d and %d kept", moves, prices, movesBefore, pricesBefore)
	}
	// The SKU is free again, and the new product's log starts empty.
	q := must(s.CreateProduct(ctx(t), input("aud-1", "Again", "stock", 1)))(t)
	if ms := must(s.Movements(ctx(t), only(t, q).ID, 0, 10))(t); len(ms) != 0 {
		t.Fatalf("the new product inherited movements: %+v", ms)
	}
}

func fieldsOf(err error) string {
	var e *catalog.Error
	if !errors.As(err, &e) {
		return ""
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return strings.Join(names, ",")
}
