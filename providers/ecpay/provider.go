package ecpay

import (
	"context"
	"log/slog"
	"sort"
	"strings"

	"github.com/posagent/posagent"
)

var (
	_ posagent.Provider        = (*Client)(nil)
	_ posagent.OnlineIssuer    = (*Client)(nil)
	_ posagent.BookletSource   = (*Client)(nil)
	_ posagent.InvoiceLookup   = (*Client)(nil)
	_ posagent.CarrierChecker  = (*Client)(nil)
	_ posagent.AllowanceIssuer = (*Client)(nil)
	_ posagent.SaleChecker     = (*Client)(nil)
)

// Upload is OfflineIssue.
func (c *Client) Upload(ctx context.Context, inv posagent.Invoice) error {
	return c.OfflineIssue(ctx, inv)
}

// Void is OfflineInvalid. The seam does not say whether ECPay numbered the
// invoice online (IssueOnline); when OfflineInvalid does not find it, the
// online void (Invalid) is tried for the same number. Only one of them can
// hold it, so the second call never voids anything the first should have.
func (c *Client) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	err := c.OfflineInvalid(ctx, inv, v)
	if posagent.IsKind(err, posagent.KindNotFound) {
		if online := c.VoidOnline(ctx, inv, v); !posagent.IsKind(online, posagent.KindNotFound) {
			return online
		}
	}
	return err
}

// Allow is Allowance; use AllowNumbered to keep ECPay's allowance number.
func (c *Client) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	_, err := c.AllowNumbered(ctx, inv, a)
	return err
}

// VoidAllowance is AllowanceInvalid with a.ProviderNumber.
func (c *Client) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, reason string) error {
	return c.VoidAllowanceNumbered(ctx, inv, a.ProviderNumber, reason)
}

// LeaseMode says how the merchant's account hands out offline numbers.
type LeaseMode int

const (
	// LeaseRange: GetOfflineInvoiceWordSetting returns a range; the agent makes
	// random codes and the QR verification block with the merchant's QR key.
	LeaseRange LeaseMode = iota
	// LeaseNumbers: GetOfflineInvoiceWordSettingNumber returns the numbers one by
	// one with suggested random codes; the booklets are rebuilt from them.
	LeaseNumbers
)

// SetLeaseMode chooses the lease endpoint (default LeaseRange).
func (c *Client) SetLeaseMode(m LeaseMode) { c.mu.Lock(); c.leaseMode = m; c.mu.Unlock() }

// LeaseBooklets implements posagent.BookletSource for the offline API (§5.1):
// register the machine if needed, bind req.Booklets booklets of the MOF
// allocation that no track uses yet to the machine (AddInvoiceWordSetting),
// enable the track, then fetch the machine's range (GetOfflineInvoiceWordSetting,
// or the number list). A track bound to the machine but never enabled — left by
// a lease interrupted earlier — is enabled and returned instead of binding more.
// Only whole booklets are returned.
func (c *Client) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	if req.MachineID != "" && req.MachineID != c.cfg.MachineID {
		return nil, posagent.Invalid("machine_id", "this client leases for machine %q, not %q", c.cfg.MachineID, req.MachineID)
	}
	if req.Period.IsZero() {
		return nil, posagent.Invalid("period", "a lease needs its period")
	}
	want := req.Booklets
	if want <= 0 {
		want = 1
	}
	if err := c.EnsureMachine(ctx); err != nil {
		return nil, err
	}
	mine, err := c.Tracks(ctx, TrackQuery{Period: req.Period, Category: CategoryOffline})
	if err != nil {
		return nil, err
	}
	var bound []posagent.Booklet
	for _, t := range mine {
		if !strings.EqualFold(strings.TrimSpace(string(t.MachineID)), c.cfg.MachineID) || UseStatus(t.UseStatus) != UseNotActive {
			continue
		}
		if err := c.SetTrackStatus(ctx, strings.TrimSpace(string(t.TrackID)), TrackEnabled); err != nil {
			return nil, err
		}
		if b, ok := trackBooklet(t, req.Period); ok {
			bound = append(bound, b)
		}
	}
	if len(bound) == 0 {
		b, err := c.bindNew(ctx, req.Period, want)
		if err != nil {
			return nil, err
		}
		bound = append(bound, b)
	}
	// ECPay's flow ends with the machine fetching its range (it counts the
	// fetches in Times); the answer is checked against what was bound, and only
	// the ranges bound here are returned, so the caller never gets a range twice.
	fetched, err := c.fetchLeased(ctx, req.Period)
	if err != nil {
		return nil, err
	}
	for _, b := range bound {
		if !coveredBy(b, fetched) {
			c.log.LogAttrs(ctx, levelWarn, "ecpay lease: the machine's fetched range differs from the bound track",
				slog.String("bound", b.String()), slog.Int("fetched_ranges", len(fetched)))
		}
	}
	c.log.LogAttrs(ctx, levelInfo, "ecpay lease", slog.String("period", req.Period.Code()), slog.Int("ranges", len(bound)))
	return bound, nil
}

func coveredBy(b posagent.Booklet, in []posagent.Booklet) bool {
	for _, o := range in {
		if o.Track == b.Track && o.First <= b.First && b.Last <= o.Last {
			return true
		}
	}
	return false
}

func trackBooklet(t Track, p posagent.Period) (posagent.Booklet, bool) {
	start, err1 := atoi8(string(t.InvoiceStart))
	end, err2 := atoi8(string(t.InvoiceEnd))
	if err1 != nil || err2 != nil {
		return posagent.Booklet{}, false
	}
	return wholeBooklets(strings.TrimSpace(string(t.InvoiceHeader)), start, end, p)
}

// wholeBooklets trims a range to the whole booklets of 50 inside it.
func wholeBooklets(header string, start, end int, p posagent.Period) (posagent.Booklet, bool) {
	first := (start + posagent.BookletSize - 1) / posagent.BookletSize * posagent.BookletSize
	last := (end+1)/posagent.BookletSize*posagent.BookletSize - 1
	b := posagent.Booklet{Track: header, First: first, Last: last, Period: p, Source: "ecpay"}
	return b, last >= first && b.Validate() == nil
}

// bindNew binds up to n booklets of the MOF allocation that no track of the
// merchant (any category, any machine) uses yet.
func (c *Client) bindNew(ctx context.Context, p posagent.Period, n int) (posagent.Booklet, error) {
	gov, err := c.GovTracks(ctx, p.Year)
	if err != nil && !posagent.IsKind(err, posagent.KindNotFound) {
		return posagent.Booklet{}, err
	}
	var used []posagent.Booklet
	for _, cat := range []Category{CategoryOnline, CategoryB2B, CategoryOffline} {
		ts, err := c.Tracks(ctx, TrackQuery{Period: p, Category: cat})
		if err != nil {
			return posagent.Booklet{}, err
		}
		for _, t := range ts {
			start, e1 := atoi8(string(t.InvoiceStart))
			end, e2 := atoi8(string(t.InvoiceEnd))
			if e1 == nil && e2 == nil {
				used = append(used, posagent.Booklet{Track: strings.TrimSpace(string(t.InvoiceHeader)), First: start, Last: end, Period: p})
			}
		}
	}
	for _, g := range gov {
		if int(g.InvoiceTerm) != p.Term() || strings.TrimSpace(string(g.InvType)) != "07" {
			continue
		}
		start, e1 := atoi8(string(g.InvoiceStart))
		end, e2 := atoi8(string(g.InvoiceEnd))
		if e1 != nil || e2 != nil {
			continue
		}
		alloc, ok := wholeBooklets(strings.TrimSpace(string(g.InvoiceHeader)), start, end, p)
		if !ok {
			continue
		}
		if free, ok := firstFree(alloc, used, n); ok {
			id, err := c.AddTrack(ctx, NewTrack{Period: p, InvType: "07", Category: CategoryOffline,
				Header: free.Track, Start: free.First, End: free.Last, MachineID: c.cfg.MachineID})
			if err != nil {
				return posagent.Booklet{}, err
			}
			if err := c.SetTrackStatus(ctx, id, TrackEnabled); err != nil {
				// O'Pay enables offline tracks on add and may refuse a second
				// enable (ecpay.md §12, low confidence; wording unknown): the
				// track's own status settles it, not the words of the refusal.
				if !c.trackInUse(ctx, p, id) {
					return posagent.Booklet{}, err
				}
				c.log.LogAttrs(ctx, levelInfo, "ecpay refused to enable a track it had enabled on add; taken as enabled", slog.String("track_id", id))
			}
			c.log.LogAttrs(ctx, levelInfo, "ecpay bound a track", slog.String("track_id", id), slog.String("range", free.String()))
			return free, nil
		}
	}
	return posagent.Booklet{}, posagent.Errorf(posagent.KindExhausted,
		"ecpay: no unbound numbers left in the MOF allocation for %s (GetGovInvoiceWordSetting); ask the MOF for more or authorise ECPay", p.Label())
}

// trackInUse says whether the machine's offline track id is in use (enabled).
func (c *Client) trackInUse(ctx context.Context, p posagent.Period, id string) bool {
	ts, err := c.Tracks(ctx, TrackQuery{Period: p, Category: CategoryOffline})
	if err != nil {
		return false
	}
	for _, t := range ts {
		if strings.TrimSpace(string(t.TrackID)) == id {
			return UseStatus(t.UseStatus) == UseInUse
		}
	}
	return false
}

// firstFree finds the first run of up to n whole booklets in alloc that
// overlaps nothing in used, preferring a full run of n.
func firstFree(alloc posagent.Booklet, used []posagent.Booklet, n int) (posagent.Booklet, bool) {
	taken := func(seq int) bool {
		for _, u := range used {
			if u.Track == alloc.Track && seq >= u.First && seq <= u.Last {
				return true
			}
		}
		return false
	}
	var best posagent.Booklet
	for first := alloc.First; first <= alloc.Last; first += posagent.BookletSize {
		if taken(first) || taken(first+posagent.BookletSize-1) {
			continue
		}
		last := first - 1
		for k := 0; k < n && last+posagent.BookletSize <= alloc.Last; k++ {
			if taken(last+1) || taken(last+posagent.BookletSize) {
				break
			}
			last += posagent.BookletSize
		}
		if last < first {
			continue
		}
		b := posagent.Booklet{Track: alloc.Track, First: first, Last: last, Period: alloc.Period, Source: "ecpay"}
		if b.Booklets() == n {
			return b, true
		}
		if b.Booklets() > best.Booklets() {
			best = b
		}
	}
	return best, best.Track != ""
}

// fetchLeased asks ECPay for the machine's active range in the configured mode.
func (c *Client) fetchLeased(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error) {
	c.mu.Lock()
	mode := c.leaseMode
	c.mu.Unlock()
	if mode == LeaseNumbers {
		nums, _, err := c.OfflineNumbers(ctx, p, RangeActive)
		if err != nil {
			return nil, err
		}
		return bookletsOfNumbers(nums, p), nil
	}
	r, err := c.OfflineRange(ctx, p, RangeActive)
	if err != nil {
		return nil, err
	}
	b, ok := wholeBooklets(r.Header, r.Start, r.End, p)
	if !ok {
		return nil, nil
	}
	return []posagent.Booklet{b}, nil
}

// bookletsOfNumbers keeps the booklets of 50 whose every number is in the list.
func bookletsOfNumbers(nums []OfflineNumber, p posagent.Period) []posagent.Booklet {
	count := map[string]map[int]int{} // track → booklet start → numbers seen
	for _, n := range nums {
		start := n.InvoiceNo.Seq() / posagent.BookletSize * posagent.BookletSize
		if count[n.InvoiceNo.Track()] == nil {
			count[n.InvoiceNo.Track()] = map[int]int{}
		}
		count[n.InvoiceNo.Track()][start]++
	}
	var out []posagent.Booklet
	for track, starts := range count {
		for start, k := range starts {
			if k == posagent.BookletSize {
				out = append(out, posagent.Booklet{Track: track, First: start, Last: start + posagent.BookletSize - 1, Period: p, Source: "ecpay"})
			}
		}
	}
	return mergeBooklets(out)
}

// mergeBooklets sorts ranges and joins those that overlap or touch.
func mergeBooklets(bs []posagent.Booklet) []posagent.Booklet {
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].Track != bs[j].Track {
			return bs[i].Track < bs[j].Track
		}
		return bs[i].First < bs[j].First
	})
	var out []posagent.Booklet
	for _, b := range bs {
		if n := len(out); n > 0 && out[n-1].Track == b.Track && b.First <= out[n-1].Last+1 {
			if b.Last > out[n-1].Last {
				out[n-1].Last = b.Last
			}
			continue
		}
		out = append(out, b)
	}
	return out
}
