package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/posagent/posagent/queue"
)

// BenchmarkSellersBacklog: a till with two sellers, the first one's
// provider down for a while (2,000 of its uploads waiting, ahead of the
// second seller's 100). What the filter by seller costs: claiming the second
// seller's jobs past the first one's backlog (a claim and its hand-back per
// op), and reading each seller's open jobs for status.
func BenchmarkSellersBacklog(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, 0)
	for _, bk := range []struct {
		track, seller string
	}{{"AA", sellerA}, {"BB", sellerB}} {
		bl := booklet(bk.track, 0, 50, p11410)
		bl.Seller = bk.seller
		if _, err := s.AddBooklet(ctx, bl); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2100 {
		seller := sellerA
		if i >= 2000 {
			seller = sellerB
		}
		if _, err := s.Issue(ctx, sellerSale("bl-"+itoa(i), seller), queue.IssueOptions{Owner: queue.Owner{Seller: seller}}); err != nil {
			b.Fatal(err)
		}
	}
	claim := func(b *testing.B, sellers []string) {
		for b.Loop() {
			jobs, err := s.ClaimSellers(ctx, sellers, 1, time.Minute)
			if err != nil || len(jobs) != 1 {
				b.Fatalf("claim: %v, %d jobs", err, len(jobs))
			}
			if err := s.Postpone(ctx, jobs[0], jobs[0].CreatedAt); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("claim-any-seller", func(b *testing.B) { claim(b, nil) })
	b.Run("claim-second-seller", func(b *testing.B) { claim(b, []string{sellerB}) })
	b.Run("status-second-seller", func(b *testing.B) {
		for b.Loop() {
			q, err := s.SellerJobs(ctx, []string{sellerB})
			if err != nil || q.Jobs[queue.JobPending] != 100 {
				b.Fatalf("seller jobs: %v, %v", err, q.Jobs)
			}
		}
	})
}
