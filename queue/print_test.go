package queue_test

import (
	"context"
	"testing"

	"github.com/posagent/posagent/queue"
)

// Promise 5: one original proof. "Original printed" is spent before the
// bytes go out; only a failure that certainly left no paper gives it back.
func TestPrintOriginalThenReprint(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	invs := issueN(t, s, 4)

	type step struct {
		ok, mayHaveReachedPaper bool
		wantReprint             bool
	}
	tests := []struct {
		name  string
		steps []step
		final queue.PrintState
	}{
		{"printed, then reprints", []step{{true, false, false}, {true, false, true}}, queue.PrintPrinted},
		{"port would not open, then original", []step{{false, false, false}, {true, false, false}}, queue.PrintPrinted},
		{"cut off mid-receipt, then 補印", []step{{false, true, false}, {true, false, true}}, queue.PrintPrinted},
		{"reprint fails cleanly, stays 補印", []step{{true, false, false}, {false, false, true}, {true, false, true}}, queue.PrintPrinted},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := invs[i].Number
			for k, st := range tt.steps {
				reprint, err := s.BeginPrint(ctx, n)
				if err != nil {
					t.Fatal(err)
				}
				if reprint != st.wantReprint {
					t.Fatalf("step %d: reprint = %v, want %v", k, reprint, st.wantReprint)
				}
				if err := s.FinishPrint(ctx, n, st.ok, "paper out", st.mayHaveReachedPaper); err != nil {
					t.Fatal(err)
				}
			}
			p, err := s.PrintJob(ctx, n)
			if err != nil || p.State != tt.final || p.Attempts != len(tt.steps) || !p.OriginalSpent || p.PrintedAt.IsZero() {
				t.Fatalf("print job = %+v, %v", p, err)
			}
		})
	}
	if err := s.FinishPrint(ctx, invs[0].Number, true, "", false); err == nil {
		t.Error("FinishPrint without BeginPrint succeeded")
	}
}

// A crash between BeginPrint and FinishPrint leaves the original spent.
func TestPrintInterruptedIsReprint(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	inv := issueN(t, s, 1)[0]
	if reprint, err := s.BeginPrint(ctx, inv.Number); err != nil || reprint {
		t.Fatalf("BeginPrint = %v, %v", reprint, err)
	}
	path := s.Path()
	s.Close()
	s = mustReopen(t, path, c)
	un, err := s.UnprintedJobs(ctx, 0)
	if err != nil || len(un) != 1 || un[0].State != queue.PrintPrinting {
		t.Fatalf("UnprintedJobs = %+v, %v", un, err)
	}
	if reprint, err := s.BeginPrint(ctx, inv.Number); err != nil || !reprint {
		t.Fatalf("after a crash mid-print: reprint = %v, %v; want 補印", reprint, err)
	}
}
