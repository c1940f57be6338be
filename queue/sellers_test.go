package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

const (
	sellerA = "24634102"
	sellerB = "53212539"
)

func sellerSale(id, seller string) posagent.Invoice {
	inv := sale(id, 100)
	inv.Seller = posagent.Seller{TaxID: seller, Name: "店" + seller}
	return inv
}

func sellerBooklet(track string, first int, seller string) posagent.Booklet {
	b := booklet(track, first, 1, p11410)
	b.Seller = seller
	return b
}

// Promise 2 per seller: a sale's number comes from its seller's booklets
// only, and a seller without numbers left is exhausted even while another
// seller has plenty.
func TestIssueTakesTheSellersBookletsOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	_, err := s.AddBooklet(ctx, sellerBooklet("AA", 0, sellerA))
	require.NoError(t, err)
	_, err = s.AddBooklet(ctx, sellerBooklet("BB", 0, sellerB))
	require.NoError(t, err)
	ownerA, ownerB := queue.Owner{Seller: sellerA}, queue.Owner{Seller: sellerB}
	for i := range 60 {
		seller, owner, track := sellerA, ownerA, "AA"
		if i%2 == 1 {
			seller, owner, track = sellerB, ownerB, "BB"
		}
		iss, err := s.Issue(ctx, sellerSale("s"+itoa(i), seller), queue.IssueOptions{Owner: owner})
		require.NoError(t, err)
		require.Equal(t, track, iss.Invoice.Number.Track(), "sale %d of %s", i, seller)
	}
	for _, o := range []queue.Owner{ownerA, ownerB} {
		left, err := s.OwnerPeriodLeft(ctx, p11410, o)
		require.NoError(t, err)
		require.Equal(t, 20, left, o.Seller)
	}
	// A third seller has nothing, whatever the others hold.
	_, err = s.Issue(ctx, sellerSale("c-1", "12345675"), queue.IssueOptions{Owner: queue.Owner{Seller: "12345675"}})
	require.True(t, posagent.IsKind(err, posagent.KindExhausted), "%v", err)
	require.ErrorContains(t, err, "for seller 12345675")
	// A rejected sale spent nothing.
	total, err := s.PeriodLeft(ctx, p11410)
	require.NoError(t, err)
	require.Equal(t, 40, total)
}

// Booklets stored without a seller (before a till had several) are the
// default seller's: the default takes them, another seller never does, and
// AdoptBooklets makes them the default's for good.
func TestUnownedBookletsAreTheDefaultSellers(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	_, err := s.AddBooklet(ctx, booklet("AA", 0, 1, p11410))
	require.NoError(t, err)
	_, err = s.Issue(ctx, sellerSale("b-1", sellerB), queue.IssueOptions{Owner: queue.Owner{Seller: sellerB}})
	require.True(t, posagent.IsKind(err, posagent.KindExhausted), "%v", err)
	iss, err := s.Issue(ctx, sellerSale("a-1", sellerA), queue.IssueOptions{Owner: queue.Owner{Seller: sellerA, Unowned: true}})
	require.NoError(t, err)
	require.Equal(t, posagent.InvoiceNumber("AA00000000"), iss.Invoice.Number)
	bs, err := s.Booklets(ctx, p11410)
	require.NoError(t, err)
	require.Equal(t, sellerA, bs[0].Seller, "the booklet taken became the default seller's")

	_, err = s.AddBooklet(ctx, booklet("AB", 0, 1, p11410))
	require.NoError(t, err)
	n, err := s.AdoptBooklets(ctx, sellerA)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	left, err := s.OwnerPeriodLeft(ctx, p11410, queue.Owner{Seller: sellerA})
	require.NoError(t, err)
	require.Equal(t, 99, left)
	_, err = s.AdoptBooklets(ctx, "")
	require.True(t, posagent.IsKind(err, posagent.KindInvalid))
}

func TestSameRangeForAnotherSellerRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := mustOpen(t)
	_, err := s.AddBooklet(ctx, sellerBooklet("AA", 0, sellerA))
	require.NoError(t, err)
	_, err = s.AddBooklet(ctx, sellerBooklet("AA", 0, sellerA))
	require.NoError(t, err, "the same lease again is harmless")
	_, err = s.AddBooklet(ctx, sellerBooklet("AA", 0, sellerB))
	require.True(t, posagent.IsKind(err, posagent.KindConflict), "%v", err)
	require.ErrorContains(t, err, "held for seller "+sellerA)
}

// Each seller's blank numbers go in a report of its own, and the sync loop
// claims each seller's jobs apart: a seller held back leaves the others'.
func TestBlankReportsAndClaimsPerSeller(t *testing.T) {
	ctx := context.Background()
	s, c := mustOpen(t)
	for _, b := range []posagent.Booklet{sellerBooklet("AA", 0, sellerA), sellerBooklet("BB", 0, sellerB)} {
		_, err := s.AddBooklet(ctx, b)
		require.NoError(t, err)
	}
	for i, seller := range []string{sellerA, sellerB, sellerA} {
		_, err := s.Issue(ctx, sellerSale("x"+itoa(i), seller), queue.IssueOptions{Owner: queue.Owner{Seller: seller}})
		require.NoError(t, err)
	}
	q, err := s.SellerJobs(ctx, []string{sellerB})
	require.NoError(t, err)
	require.Equal(t, 1, q.Jobs[queue.JobPending])
	require.Equal(t, posagent.InvoiceNumber("BB00000000"), q.Oldest.Number)
	q, err = s.SellerJobs(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 3, q.Jobs[queue.JobPending])

	jobs, err := s.ClaimSellers(ctx, []string{sellerB}, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, sellerB, jobs[0].JobSeller())
	require.NoError(t, s.Retry(ctx, jobs[0], t0, nil))
	jobs, err = s.ClaimSellers(ctx, []string{sellerA}, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	for _, j := range jobs {
		require.Equal(t, sellerA, j.JobSeller())
	}
	q, err = s.SellerJobs(ctx, []string{sellerA})
	require.NoError(t, err)
	require.Equal(t, 2, q.Jobs[queue.JobClaimed])
	require.Equal(t, 0, q.Jobs[queue.JobPending])
	for _, j := range jobs {
		require.NoError(t, s.Done(ctx, j))
	}
	jobs, err = s.ClaimSellers(ctx, []string{sellerA, sellerB}, 10, time.Hour)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.NoError(t, s.Done(ctx, jobs[0]))

	c.Set(p11410.End().Add(time.Hour))
	unused, err := s.RetirePeriod(ctx, p11410)
	require.NoError(t, err)
	require.Len(t, unused, 2)
	var blanks []queue.Job
	for _, seller := range []string{sellerA, sellerB} {
		jobs, err := s.ClaimSellers(ctx, []string{seller}, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, jobs, 1, seller)
		require.Equal(t, queue.JobBlank, jobs[0].Kind)
		require.Equal(t, seller, jobs[0].JobSeller())
		require.Len(t, jobs[0].Blank, 1)
		require.Equal(t, seller, jobs[0].Blank[0].Seller)
		blanks = append(blanks, jobs[0])
	}
	require.Equal(t, 48, blanks[0].Blank[0].Last-blanks[0].Blank[0].First+1)
	require.Equal(t, 49, blanks[1].Blank[0].Last-blanks[1].Blank[0].First+1)
}
