package agent

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// memStore is an in-memory Store for the agent's policy tests. It keeps the
// rules the agent relies on (numbers in order, idempotent sale ids, a job of
// an invoice only after its earlier jobs, the original proof spent before
// printing) and lets a test fail any call.
type memStore struct {
	mu       sync.Mutex
	now      func() time.Time
	booklets []*memBooklet
	invoices map[posagent.InvoiceNumber]*memInvoice
	bySale   map[string]posagent.InvoiceNumber
	order    []posagent.InvoiceNumber
	jobs     []*Job
	nextID   int64
	token    int64
	closed   bool
	// fail, when set, is asked before every call by method name.
	fail func(method string) error
}

type memBooklet struct {
	b       posagent.Booklet
	next    int
	retired bool
}

type memInvoice struct {
	rec      Record
	inflight bool // an original is being printed
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, invoices: map[posagent.InvoiceNumber]*memInvoice{}, bySale: map[string]posagent.InvoiceNumber{}}
}

func (s *memStore) check(method string) error {
	if s.closed {
		return fmt.Errorf("%s: store closed", method)
	}
	if s.fail != nil {
		return s.fail(method)
	}
	return nil
}

func (s *memStore) event(inv *memInvoice, kind, detail string) {
	inv.rec.Events = append(inv.rec.Events, Event{At: s.now(), Kind: kind, Detail: detail})
}

func (s *memStore) addJob(j Job) {
	s.nextID++
	j.ID, j.State, j.CreatedAt, j.NextTry = s.nextID, StatePending, s.now(), s.now()
	s.jobs = append(s.jobs, &j)
}

func (s *memStore) Issue(ctx context.Context, sale posagent.Invoice, owner Owner, derive Coder) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Issue"); err != nil {
		return Record{}, false, err
	}
	if err := sale.Validate(); err != nil {
		return Record{}, false, err
	}
	if n, ok := s.bySale[sale.SaleID]; ok {
		return s.invoices[n].rec, false, nil
	}
	p := sale.Period()
	for _, b := range s.booklets {
		if b.retired || b.b.Period != p || b.next > b.b.Last || !owner.owns(b.b) {
			continue
		}
		b.b.Seller = owner.Seller // as the queue does: the booklet taken is the seller's
		inv := sale
		inv.Number = posagent.MakeInvoiceNumber(b.b.Track, b.next)
		inv.RandomCode = fmt.Sprintf("%04d", b.next%10000)
		proof, err := derive(inv)
		if err != nil {
			return Record{}, false, err
		}
		b.next++
		mi := &memInvoice{rec: Record{Invoice: inv, Proof: proof, UploadState: StatePending, Remaining: inv.Total}}
		if inv.Print {
			mi.rec.Print = PrintState{State: "pending"}
		} else {
			mi.rec.Print = PrintState{State: "not_needed"}
		}
		s.event(mi, "issued", "")
		s.invoices[inv.Number], s.bySale[sale.SaleID] = mi, inv.Number
		s.order = append(s.order, inv.Number)
		s.addJob(Job{Kind: JobUpload, Seller: inv.Seller.TaxID, Invoice: inv, Number: string(inv.Number)})
		return mi.rec, true, nil
	}
	return Record{}, false, posagent.Errorf(posagent.KindExhausted, "no invoice numbers left for %s", p.Label())
}

func (s *memStore) get(n posagent.InvoiceNumber) (*memInvoice, error) {
	mi, ok := s.invoices[n]
	if !ok {
		return nil, &posagent.Error{Kind: posagent.KindNotFound, Field: "number", Message: fmt.Sprintf("no invoice %s", n)}
	}
	return mi, nil
}

func (s *memStore) Invoice(ctx context.Context, n posagent.InvoiceNumber) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Invoice"); err != nil {
		return Record{}, err
	}
	mi, err := s.get(n)
	if err != nil {
		return Record{}, err
	}
	rec := mi.rec
	rec.Events = slices.Clone(rec.Events)
	rec.Allowances = slices.Clone(rec.Allowances)
	return rec, nil
}

func (s *memStore) Void(ctx context.Context, v posagent.Void) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Void"); err != nil {
		return err
	}
	mi, err := s.get(v.Number)
	if err != nil {
		return err
	}
	if mi.rec.Void != nil {
		return posagent.Errorf(posagent.KindConflict, "already voided")
	}
	mi.rec.Void = &v
	s.event(mi, "voided", v.Reason)
	s.addJob(Job{Kind: JobVoid, Seller: mi.rec.Invoice.Seller.TaxID, Invoice: mi.rec.Invoice, Number: string(v.Number), Void: &v})
	return nil
}

func (s *memStore) Allow(ctx context.Context, a posagent.Allowance) (posagent.Allowance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Allow"); err != nil {
		return posagent.Allowance{}, err
	}
	mi, err := s.get(a.InvoiceNumber)
	if err != nil {
		return posagent.Allowance{}, err
	}
	if a.Number == "" {
		a.Number = fmt.Sprintf("%s-%02d", a.InvoiceNumber, len(mi.rec.Allowances)+1)
	}
	if err := a.Validate(mi.rec.Invoice, mi.rec.Remaining); err != nil {
		return posagent.Allowance{}, err
	}
	a.ProviderNumber = ""
	mi.rec.Allowances = append(mi.rec.Allowances, AllowanceRecord{Allowance: a, Upload: StatePending})
	mi.rec.Remaining -= a.Total
	s.addJob(Job{Kind: JobAllowance, Seller: mi.rec.Invoice.Seller.TaxID, Invoice: mi.rec.Invoice, Number: string(a.InvoiceNumber), Allowance: &a})
	return a, nil
}

// allowance finds a stored allowance by its number.
func (s *memStore) allowance(number string) (*memInvoice, *AllowanceRecord) {
	for _, mi := range s.invoices {
		for i := range mi.rec.Allowances {
			if mi.rec.Allowances[i].Number == number {
				return mi, &mi.rec.Allowances[i]
			}
		}
	}
	return nil, nil
}

func (s *memStore) VoidAllowance(ctx context.Context, number, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("VoidAllowance"); err != nil {
		return err
	}
	mi, al := s.allowance(number)
	switch {
	case al == nil:
		return posagent.Errorf(posagent.KindNotFound, "no allowance %q", number)
	case al.Voided():
		return posagent.Errorf(posagent.KindConflict, "allowance %s already voided", number)
	}
	al.VoidedAt, al.VoidReason, al.VoidUpload = s.now(), reason, StatePending
	mi.rec.Remaining += al.Total
	s.event(mi, "allowance_voided", number+": "+reason)
	cp := al.Allowance
	s.addJob(Job{Kind: JobVoidAllowance, Seller: mi.rec.Invoice.Seller.TaxID, Invoice: mi.rec.Invoice, Number: string(al.InvoiceNumber), Allowance: &cp, Reason: reason})
	return nil
}

// setAllowanceState records the end of an allowance's or its void's job.
func (s *memStore) setAllowanceState(j *Job, state, lastError string) {
	if j.Allowance == nil {
		return
	}
	_, al := s.allowance(j.Allowance.Number)
	switch {
	case al == nil:
	case j.Kind == JobAllowance:
		al.Upload, al.UploadError = state, lastError
	case j.Kind == JobVoidAllowance:
		al.VoidUpload, al.VoidError = state, lastError
	}
}

func (s *memStore) DoneAllowance(ctx context.Context, job Job, providerNumber string) error {
	s.mu.Lock()
	if err := s.check("DoneAllowance"); err != nil {
		s.mu.Unlock()
		return err
	}
	j, err := s.find(job)
	if err == nil && j.Kind != JobAllowance {
		err = posagent.Invalid("job", "job %d is not an allowance", j.ID)
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if _, al := s.allowance(j.Allowance.Number); al != nil && providerNumber != "" {
		al.ProviderNumber = providerNumber
	}
	s.mu.Unlock()
	return s.Done(ctx, job)
}

func (s *memStore) BeginPrint(ctx context.Context, n posagent.InvoiceNumber) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("BeginPrint"); err != nil {
		return false, err
	}
	mi, err := s.get(n)
	if err != nil {
		return false, err
	}
	reprint := mi.rec.Print.OriginalPrinted
	mi.rec.Print.OriginalPrinted, mi.inflight = true, !reprint
	mi.rec.Print.Attempts++
	mi.rec.Print.State = "printing"
	return reprint, nil
}

func (s *memStore) FinishPrint(ctx context.Context, n posagent.InvoiceNumber, ok bool, reason string, mayHave bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("FinishPrint"); err != nil {
		return err
	}
	mi, err := s.get(n)
	if err != nil {
		return err
	}
	if ok {
		mi.rec.Print.State, mi.rec.Print.Reason = "printed", ""
		s.event(mi, "printed", "")
	} else {
		mi.rec.Print.State, mi.rec.Print.Reason = "failed", reason
		if mi.inflight && !mayHave {
			mi.rec.Print.OriginalPrinted = false
		}
		s.event(mi, "print_failed", reason)
	}
	mi.inflight = false
	return nil
}

func (s *memStore) PrintState(ctx context.Context, n posagent.InvoiceNumber) (PrintState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mi, err := s.get(n)
	if err != nil {
		return PrintState{}, err
	}
	return mi.rec.Print, nil
}

func (s *memStore) PendingPrints(ctx context.Context, limit int) ([]posagent.InvoiceNumber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("PendingPrints"); err != nil {
		return nil, err
	}
	var out []posagent.InvoiceNumber
	for _, n := range s.order {
		mi := s.invoices[n]
		if mi.rec.Invoice.Print && mi.rec.Print.State != "printed" && mi.rec.Void == nil && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *memStore) Claim(ctx context.Context, sellers []string, max int, lease time.Duration) ([]Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Claim"); err != nil {
		return nil, err
	}
	now := s.now()
	var out []Job
	blocked := map[string]bool{}
	for _, j := range s.jobs {
		if len(out) >= max {
			break
		}
		if j.State == StateClaimed && !now.Before(j.NextTry) {
			j.State = StatePending
		}
		due := j.State == StatePending && !now.Before(j.NextTry)
		if j.State != StateDone && blocked[j.Number] {
			continue
		}
		if j.State != StateDone {
			blocked[j.Number] = true
		}
		if !due || (sellers != nil && !slices.Contains(sellers, j.Seller)) {
			continue
		}
		s.token++
		j.State, j.Attempts, j.Token, j.NextTry = StateClaimed, j.Attempts+1, s.token, now.Add(lease)
		if j.Allowance != nil {
			// As the queue does: the allowance as stored now, with the
			// provider's number once its job is done.
			if _, al := s.allowance(j.Allowance.Number); al != nil {
				cp := al.Allowance
				j.Allowance = &cp
			}
		}
		out = append(out, *j)
	}
	return out, nil
}

func (s *memStore) find(job Job) (*Job, error) {
	for _, j := range s.jobs {
		if j.ID == job.ID {
			if j.Token != job.Token || j.State != StateClaimed {
				return nil, posagent.Errorf(posagent.KindConflict, "stale claim of job %d", job.ID)
			}
			return j, nil
		}
	}
	return nil, posagent.Errorf(posagent.KindNotFound, "no job %d", job.ID)
}

func (s *memStore) Done(ctx context.Context, job Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Done"); err != nil {
		return err
	}
	j, err := s.find(job)
	if err != nil {
		return err
	}
	j.State = StateDone
	s.setAllowanceState(j, StateDone, "")
	if mi, ok := s.invoices[posagent.InvoiceNumber(j.Number)]; ok && j.Kind == JobUpload {
		mi.rec.UploadState = StateDone
		s.event(mi, "uploaded", "")
	}
	return nil
}

func (s *memStore) Retry(ctx context.Context, job Job, at time.Time, cause error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Retry"); err != nil {
		return err
	}
	j, err := s.find(job)
	if err != nil {
		return err
	}
	j.State, j.NextTry, j.LastError = StatePending, at, cause.Error()
	return nil
}

func (s *memStore) Postpone(ctx context.Context, job Job, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Postpone"); err != nil {
		return err
	}
	j, err := s.find(job)
	if err != nil {
		return err
	}
	j.State, j.NextTry, j.Attempts = StatePending, at, max(j.Attempts-1, 0)
	return nil
}

func (s *memStore) Dead(ctx context.Context, job Job, reason error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Dead"); err != nil {
		return err
	}
	j, err := s.find(job)
	if err != nil {
		return err
	}
	j.State, j.LastError = StateDead, reason.Error()
	s.setAllowanceState(j, StateDead, j.LastError)
	if mi, ok := s.invoices[posagent.InvoiceNumber(j.Number)]; ok && j.Kind == JobUpload {
		mi.rec.UploadState, mi.rec.UploadError = StateDead, j.LastError
	}
	return nil
}

func (s *memStore) Resolve(ctx context.Context, id int64, note string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Resolve"); err != nil {
		return err
	}
	if note == "" {
		return posagent.Invalid("note", "is required")
	}
	for _, j := range s.jobs {
		if j.ID == id {
			if j.State != StateDead {
				return posagent.Errorf(posagent.KindConflict, "job %d is %s, not dead", id, j.State)
			}
			j.State = StateDone
			s.setAllowanceState(j, StateDone, "")
			if mi, ok := s.invoices[posagent.InvoiceNumber(j.Number)]; ok {
				s.event(mi, "resolved", note)
			}
			return nil
		}
	}
	return posagent.Errorf(posagent.KindNotFound, "no job %d", id)
}

func (s *memStore) Jobs(ctx context.Context, state string, limit int) ([]Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Job
	for _, j := range s.jobs {
		if j.State == state && len(out) < limit {
			out = append(out, *j)
		}
	}
	return out, nil
}

func (s *memStore) Revive(ctx context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.ID == id {
			if j.State != StateDead {
				return posagent.Errorf(posagent.KindConflict, "job %d is %s, not dead", id, j.State)
			}
			j.State, j.NextTry, j.Attempts = StatePending, s.now(), 0
			return nil
		}
	}
	return posagent.Errorf(posagent.KindNotFound, "no job %d", id)
}

func (s *memStore) AddBooklet(ctx context.Context, b posagent.Booklet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("AddBooklet"); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	for _, o := range s.booklets {
		if o.b.Overlaps(b) {
			return posagent.Errorf(posagent.KindConflict, "%s overlaps %s", b, o.b)
		}
	}
	s.booklets = append(s.booklets, &memBooklet{b: b, next: b.First})
	return nil
}

func (s *memStore) Booklets(ctx context.Context) ([]BookletInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []BookletInfo
	for _, b := range s.booklets {
		bi := BookletInfo{Booklet: b.b, Unused: b.b.Last + 1 - b.next, Retired: b.retired}
		if !b.retired {
			bi.Left = bi.Unused
		}
		out = append(out, bi)
	}
	return out, nil
}

func (s *memStore) BlankBooklets(ctx context.Context, p posagent.Period) ([]BookletInfo, error) {
	all, err := s.Booklets(ctx)
	var out []BookletInfo
	for _, b := range all {
		if b.Booklet.Period == p && b.Retired && b.Unused > 0 {
			out = append(out, b)
		}
	}
	return out, err
}

func (s *memStore) NumbersLeft(ctx context.Context, owner Owner, p posagent.Period) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("NumbersLeft"); err != nil {
		return 0, err
	}
	left := 0
	for _, b := range s.booklets {
		if b.b.Period == p && !b.retired && owner.owns(b.b) {
			left += b.b.Last + 1 - b.next
		}
	}
	return left, nil
}

func (s *memStore) RetirePeriod(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var unused []posagent.Booklet
	fresh := false
	for _, b := range s.booklets {
		if b.b.Period != p {
			continue
		}
		fresh = fresh || !b.retired
		b.retired = true
		if b.next <= b.b.Last {
			u := b.b
			u.First = b.next
			unused = append(unused, u)
		}
	}
	if fresh && len(unused) > 0 {
		s.addJob(Job{Kind: JobBlank, Period: p, Blank: unused})
	}
	return unused, nil
}

func (s *memStore) Stats(ctx context.Context) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("Stats"); err != nil {
		return Stats{}, err
	}
	st := Stats{Jobs: map[string]int{}}
	for _, j := range s.jobs {
		st.Jobs[j.State]++
		if j.State != StateDone && st.OldestIssuedAt.IsZero() {
			st.OldestUnsent, st.OldestIssuedAt, st.OldestKind = posagent.InvoiceNumber(j.Number), j.CreatedAt, j.Kind
		}
	}
	for _, n := range s.order {
		mi := s.invoices[n]
		if mi.rec.Invoice.Print && mi.rec.Print.State != "printed" && mi.rec.Void == nil {
			st.PrintsPending++
		}
	}
	return st, nil
}

// owns says whether booklet b is owner's, as the queue's Owner filter does.
func (o Owner) owns(b posagent.Booklet) bool {
	return b.Seller == o.Seller || (o.Unowned && b.Seller == "")
}

func (s *memStore) SellerStats(ctx context.Context, sellers []string) (SellerStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("SellerStats"); err != nil {
		return SellerStats{}, err
	}
	st := SellerStats{Jobs: map[string]int{}}
	for _, j := range s.jobs {
		if j.State == StateDone || (sellers != nil && !slices.Contains(sellers, j.Seller)) {
			continue
		}
		st.Jobs[j.State]++
		if st.OldestIssuedAt.IsZero() {
			st.OldestUnsent, st.OldestIssuedAt, st.OldestKind = posagent.InvoiceNumber(j.Number), j.CreatedAt, j.Kind
		}
	}
	return st, nil
}

func (s *memStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// uploads lists the jobs done, in the order they were marked done (by ID order here).
func (s *memStore) jobStates() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, j := range s.jobs {
		out[j.State]++
	}
	return out
}
