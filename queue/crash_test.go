package queue_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// The crash test re-executes the test binary as a child that works the store
// as fast as it can and reports each operation on stdout only after its
// commit returned. The parent kills it at random moments (SIGKILL; on
// Windows TerminateProcess, see crash_kill_*_test.go),
// reopens the store and checks that everything reported is there.
const (
	crashChildEnv = "POSAGENT_QUEUE_CRASH_CHILD" // the store path, in the child
	crashKillsEnv = "POSAGENT_QUEUE_CRASH_KILLS" // kills per run (default 25)
	// The store path, in a child that kills itself inside a reissue, after
	// the void is written and before the new invoice is.
	reissueKillEnv = "POSAGENT_QUEUE_REISSUE_KILL"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		os.Exit(0)
	}
	if path := os.Getenv(reissueKillEnv); path != "" {
		reissueKillChild(path)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild runs until killed. Every line it writes names something committed.
func crashChild(path string) {
	s, err := queue.Open(path, queue.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	report := func(format string, args ...any) {
		// One write(2) per line: a pipe write this short is atomic, so the
		// parent sees a whole line or none.
		if _, err := os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n"); err != nil {
			os.Exit(3)
		}
	}
	var numbers []posagent.InvoiceNumber
	if recent, err := s.Recent(ctx, 200); err == nil {
		for _, r := range recent {
			numbers = append(numbers, r.Invoice.Number)
		}
	}
	pick := func() posagent.InvoiceNumber { return numbers[rand.IntN(len(numbers))] }
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	report("S")
	for i := 0; ; i++ {
		op := rand.IntN(100)
		switch {
		case op < 55 || len(numbers) == 0:
			id := fmt.Sprintf("c%s-%d", run, i)
			iss, err := s.Issue(ctx, sale(id, 1000), queue.IssueOptions{Derive: func(inv posagent.Invoice) (map[string]string, error) {
				return map[string]string{"barcode": inv.Period().Code() + string(inv.Number) + inv.RandomCode}, nil
			}})
			if err != nil {
				fmt.Fprintln(os.Stderr, "child issue:", err)
				os.Exit(4)
			}
			numbers = append(numbers, iss.Invoice.Number)
			report("I %s %s", id, iss.Invoice.Number)
		case op < 60:
			n := pick()
			// Dated by the sales' clock (t0), not the child's: a void past
			// the period's void deadline is refused.
			if err := s.Void(ctx, posagent.Void{Number: n, Reason: "crash test", VoidedAt: t0.Add(time.Hour)}); err == nil {
				report("V %s", n)
			}
		case op < 63:
			n := pick()
			fixed := sale(fmt.Sprintf("c%s-%d-r", run, i), 900)
			iss, err := s.Reissue(ctx, posagent.Void{Number: n, Reason: "crash reissue", VoidedAt: t0.Add(time.Hour)}, fixed, queue.IssueOptions{})
			if err == nil {
				numbers = append(numbers, iss.Invoice.Number)
				report("E %s %s %s", n, iss.Invoice.Number, fixed.SaleID)
			}
		case op < 67:
			n := pick()
			a, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: n, Items: line(10), Total: 10})
			if err == nil {
				report("A %s %s", a.Number, n)
			}
		case op < 87:
			jobs, err := s.Claim(ctx, 5, 20*time.Millisecond)
			if err != nil {
				fmt.Fprintln(os.Stderr, "child claim:", err)
				os.Exit(5)
			}
			for _, j := range jobs {
				switch r := rand.IntN(20); {
				case r < 14:
					if s.Done(ctx, j) == nil {
						report("D %d", j.ID)
					}
				case r < 19:
					if s.Retry(ctx, j, time.Now().Add(5*time.Millisecond), errors.New("crash test retry")) == nil {
						report("R %d", j.ID)
					}
				default:
					if s.Dead(ctx, j, errors.New("crash test dead")) == nil {
						report("X %d", j.ID)
					}
				}
			}
		default:
			n := pick()
			if _, err := s.BeginPrint(ctx, n); err != nil {
				continue // voided meanwhile
			}
			report("B %s", n)
			ok := rand.IntN(3) > 0
			if s.FinishPrint(ctx, n, ok, "crash test", rand.IntN(2) == 0) == nil && ok {
				report("F %s", n)
			}
		}
	}
}

// Promises 1–5 across SIGKILL: every operation the child reported after its
// commit is in the store after the kill; no number twice; no gap in the
// cursors; the database is intact.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	kills := 25
	if v, err := strconv.Atoi(os.Getenv(crashKillsEnv)); err == nil && v > 0 {
		kills = v
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agent.db")
	{
		s, err := queue.Open(path, queue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddBooklet(context.Background(), booklet("AB", 0, 400, p11410)); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}

	var reported []string
	ops := map[byte]int{}
	for round := range kills {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Kill at a random moment: now and then during start-up (open,
		// recovery), mostly while it works.
		delay := time.Duration(rand.IntN(60)) * time.Millisecond
		if round%5 != 0 {
			select {
			case <-lines: // "S": opened
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: child did not start: %s", round, stderr.String())
			}
			delay = time.Duration(5+rand.IntN(80)) * time.Millisecond
		}
		time.Sleep(delay)
		if err := killHard(cmd.Process); err != nil {
			t.Fatalf("round %d: kill: %v", round, err)
		}
		for l := range lines {
			if l != "S" {
				reported = append(reported, l)
				ops[l[0]]++
			}
		}
		err = cmd.Wait()
		if !killedHard(cmd.ProcessState) {
			t.Fatalf("round %d: the child ended by itself (%v): %s", round, err, stderr.String())
		}
		verifyCrash(t, path, reported, round)
	}
	t.Logf("%d kills; reported ops: issue %d, reissue %d, void %d, allowance %d, done %d, retry %d, dead %d, print begun %d, printed %d",
		kills, ops['I'], ops['E'], ops['V'], ops['A'], ops['D'], ops['R'], ops['X'], ops['B'], ops['F'])
	if ops['I'] == 0 || ops['D'] == 0 || ops['B'] == 0 {
		t.Errorf("the child did too little between kills to test anything: %v", ops)
	}
}

func verifyCrash(t *testing.T, path string, reported []string, round int) {
	t.Helper()
	ctx := context.Background()
	s, err := queue.Open(path, queue.Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer s.Close()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	one := func(query string, args ...any) int64 {
		var n int64
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("round %d: %s: %v", round, query, err)
		}
		return n
	}
	if n := one(`SELECT count(*) FROM (SELECT number FROM invoices GROUP BY number, period HAVING count(*) > 1)`); n != 0 {
		t.Fatalf("round %d: %d numbers issued twice", round, n)
	}
	if used, invoices := one(`SELECT sum(next - first) FROM booklets`), one(`SELECT count(*) FROM invoices`); used != invoices {
		t.Fatalf("round %d: cursors used %d numbers for %d invoices", round, used, invoices)
	}
	if n := one(`SELECT count(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.invoice_id = i.id AND j.kind = 'upload')
		OR i.print_state IS NULL`); n != 0 {
		t.Fatalf("round %d: %d invoices lack their upload or print job", round, n)
	}
	if n := one(`SELECT count(*) FROM job_counts c WHERE c.n <> (SELECT count(*) FROM jobs j WHERE j.state = c.state)`); n != 0 {
		t.Fatalf("round %d: job counts disagree with the jobs", round)
	}
	// Promise 3: no job went out ahead of an earlier job of its invoice.
	if n := one(`SELECT count(*) FROM jobs j WHERE j.state IN ('claimed', 'done') AND EXISTS
		(SELECT 1 FROM jobs e WHERE e.invoice_id = j.invoice_id AND e.id < j.id AND e.state <> 'done')`); n != 0 {
		t.Fatalf("round %d: %d jobs handed out before an earlier job of their invoice was done", round, n)
	}
	// A reissue is both or neither: no new invoice beside an invoice still
	// valid, no void by a reissue without its new invoice, and the new
	// invoice's upload never went out before the void.
	if n := one(`SELECT count(*) FROM invoices n JOIN invoices o ON o.id = n.replaces WHERE o.voided_at IS NULL`); n != 0 {
		t.Fatalf("round %d: %d reissued invoices whose original is not voided", round, n)
	}
	if n := one(`SELECT count(*) FROM invoices o WHERE o.void_reason = 'crash reissue' AND NOT EXISTS (SELECT 1 FROM invoices n WHERE n.replaces = o.id)`); n != 0 {
		t.Fatalf("round %d: %d invoices voided by a reissue without their new invoice", round, n)
	}
	if n := one(`SELECT count(*) FROM jobs j JOIN jobs b ON b.id = j.after_job WHERE j.state IN ('claimed', 'done') AND b.state <> 'done'`); n != 0 {
		t.Fatalf("round %d: %d reissued uploads handed out before the void", round, n)
	}
	// Promise 5: a print in flight when the child died has spent the original.
	if n := one(`SELECT count(*) FROM invoices WHERE print_state = 'printing' AND original_spent = 0`); n != 0 {
		t.Fatalf("round %d: %d prints in flight with the original not marked spent", round, n)
	}
	for _, l := range reported {
		f := strings.Fields(l)
		bad := func(why string, args ...any) {
			t.Fatalf("round %d: reported %q but %s", round, l, fmt.Sprintf(why, args...))
		}
		switch f[0] {
		case "I":
			r, err := s.InvoiceBySale(ctx, f[1])
			if err != nil || string(r.Invoice.Number) != f[2] || r.Print == nil || r.Upload == "" || r.Derived["barcode"] == "" {
				bad("the store has %+v, %v", r, err)
			}
		case "V":
			r, err := s.Invoice(ctx, posagent.InvoiceNumber(f[1]))
			if err != nil || r.Void == nil {
				bad("not voided: %v", err)
			}
			if one(`SELECT count(*) FROM jobs j JOIN invoices i ON i.id = j.invoice_id WHERE i.number = ? AND j.kind = 'void'`, f[1]) != 1 {
				bad("no void job")
			}
		case "E":
			old, err := s.Invoice(ctx, posagent.InvoiceNumber(f[1]))
			if err != nil || old.Void == nil || string(old.ReplacedBy) != f[2] {
				bad("the old invoice is %+v, %v", old, err)
			}
			r, err := s.InvoiceBySale(ctx, f[3])
			if err != nil || string(r.Invoice.Number) != f[2] || string(r.Replaces) != f[1] {
				bad("the new invoice is %+v, %v", r, err)
			}
		case "A":
			if one(`SELECT count(*) FROM allowances a JOIN jobs j ON j.allowance_id = a.id AND j.kind = 'allowance' WHERE a.number = ?`, f[1]) != 1 {
				bad("no allowance with its job")
			}
		case "D", "X":
			id, _ := strconv.ParseInt(f[1], 10, 64)
			want := map[string]queue.JobState{"D": queue.JobDone, "X": queue.JobDead}[f[0]]
			if j, err := s.Job(ctx, id); err != nil || j.State != want {
				bad("the job is %s (%v)", j.State, err)
			}
		case "R":
			id, _ := strconv.ParseInt(f[1], 10, 64)
			if j, err := s.Job(ctx, id); err != nil || (j.LastError == "" && j.State != queue.JobDone) {
				bad("the retry left no trace: %+v, %v", j, err)
			}
		case "B", "F":
			p, err := s.PrintJob(ctx, posagent.InvoiceNumber(f[1]))
			if err != nil {
				bad("%v", err)
			}
			// "B" is reported after BeginPrint committed: the original is
			// spent unless a later clean failure gave it back. "F": printed.
			if f[0] == "F" && (p.Copies == 0 || p.PrintedAt.IsZero()) {
				bad("the print is %+v", p)
			}
			if f[0] == "B" && p.Attempts == 0 {
				bad("the print is %+v", p)
			}
		default:
			t.Fatalf("round %d: unknown report %q", round, l)
		}
	}
}

// reissueKillChild reissues the store's first invoice and dies (SIGKILL) in
// the middle: the void is written, the new number taken, the new invoice not
// yet stored, nothing committed.
func reissueKillChild(path string) {
	s, err := queue.Open(path, queue.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	recent, err := s.Recent(context.Background(), 1)
	if err != nil || len(recent) != 1 {
		fmt.Fprintln(os.Stderr, "child: no invoice to reissue:", err)
		os.Exit(2)
	}
	v := posagent.Void{Number: recent[0].Invoice.Number, Reason: "crash reissue", VoidedAt: t0.Add(time.Hour)}
	_, err = s.Reissue(context.Background(), v, sale("kill-new", 900),
		queue.IssueOptions{Derive: func(posagent.Invoice) (map[string]string, error) {
			self, _ := os.FindProcess(os.Getpid())
			killHard(self)
			select {} // the signal is on its way
		}})
	fmt.Fprintln(os.Stderr, "child: the reissue returned:", err)
	os.Exit(4)
}

// A crash between the void and the new issue leaves neither.
func TestCrashInsideReissue(t *testing.T) {
	if testing.Short() {
		// It re-executes the test binary as a child: under qemu-user that
		// needs binfmt_misc, which make cross-test's -short run cannot count on.
		t.Skip("crash test skipped in -short mode")
	}
	ctx := context.Background()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agent.db")
	s, err := queue.Open(path, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	old, err := s.Issue(ctx, sale("kill-old", 1000), queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), reissueKillEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("the child did not start: %v", err)
	}
	if !killedHard(cmd.ProcessState) {
		t.Fatalf("the child did not die inside the reissue (%v): %s", err, stderr.String())
	}

	s = mustReopen(t, path, newClock(time.Now()))
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Invoice(ctx, old.Invoice.Number)
	if err != nil || rec.Void != nil || rec.ReplacedBy != "" {
		t.Fatalf("after the crash the old invoice is voided %v, replaced by %q (%v): want neither", rec.Void, rec.ReplacedBy, err)
	}
	if _, err := s.InvoiceBySale(ctx, "kill-new"); !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("after the crash the new sale is there: %v", err)
	}
	if left, _ := s.PeriodLeft(ctx, old.Invoice.Period()); left != 49 {
		t.Fatalf("%d numbers left after the crash, want 49: the new number was spent", left)
	}
	jobs, err := s.Jobs(ctx, queue.JobPending, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Kind != queue.JobUpload {
		t.Fatalf("after the crash the jobs are %+v (%v), want the old upload alone", jobs, err)
	}
	// And the same reissue now goes through whole.
	re, err := s.Reissue(ctx, posagent.Void{Number: old.Invoice.Number, Reason: "crash reissue", VoidedAt: t0.Add(time.Hour)},
		sale("kill-new", 900), queue.IssueOptions{})
	if err != nil || re.Replayed {
		t.Fatalf("reissue after the crash = %+v, %v", re, err)
	}
}
