package turnkey_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/turnkey"
)

func TestUploadGoesFromSRCToC(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	inv := sale(1)
	err := p.Upload(context.Background(), inv)
	if !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("first call: %v, want a waiting answer", err)
	}
	if files := s.Files("F0401_AB11223301_"); len(files) != 1 || !strings.Contains(files[0], "/SRC/") && !strings.Contains(files[0], "/BAK/") {
		t.Fatalf("dropped files %v", files)
	}
	if err := waitFor(t, 20*time.Second, func() error { return p.Upload(context.Background(), inv) }); err != nil {
		t.Fatal(err)
	}
	files := s.Files("F0401_AB11223301_")
	if len(files) != 1 || !strings.Contains(files[0], "/F0401/BAK/") {
		t.Fatalf("after C: %v, want one file in F0401/BAK/yyyyMMdd/HH", files)
	}
	if c := s.Counts(); c["C"] != 1 || len(c) != 1 {
		t.Fatalf("rows %v", c)
	}
	// Asked again: still C, nothing dropped again.
	if err := p.Upload(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Files("F0401_AB11223301_")); n != 1 {
		t.Fatalf("%d files after a second call", n)
	}
	if pend, err := p.Pending(); err != nil || len(pend) != 0 {
		t.Fatalf("pending %v %v", pend, err)
	}
}

// TestOrderVoidsAndAllowancesAfterTheirInvoice: Turnkey orders nothing
// across message types; the provider drops a void, an allowance or an
// allowance void only once what it refers to is C.
func TestOrderVoidsAndAllowancesAfterTheirInvoice(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	ctx := context.Background()
	a, b := sale(1), sale(2)
	void := posagent.Void{Number: a.Number, VoidedAt: a.IssuedAt.Add(time.Hour), Reason: "顧客退貨"}
	al := posagent.Allowance{Number: "AL0001", InvoiceNumber: b.Number, IssuedAt: b.IssuedAt.Add(time.Hour),
		Items: b.Items, Total: 65, TaxAmount: 3}
	s.Stop() // Turnkey is not running: nothing can become C
	for _, call := range []func() error{
		func() error { return p.Upload(ctx, a) }, func() error { return p.Upload(ctx, b) },
		func() error { return p.Void(ctx, a, void) }, func() error { return p.Allow(ctx, b, al) },
		func() error { return p.VoidAllowance(ctx, b, al, "折讓金額有誤") },
	} {
		if err := call(); !posagent.IsKind(err, posagent.KindNotFound) {
			t.Fatalf("with Turnkey stopped: %v", err)
		}
	}
	if f := s.Files("F0501_"); len(f) != 0 {
		t.Fatalf("a void was dropped before its invoice was C: %v", f)
	}
	if f := s.Files("G0401_"); len(f) != 0 {
		t.Fatalf("an allowance was dropped before its invoice was C: %v", f)
	}
	if err := p.Void(ctx, a, void); !strings.Contains(fmt.Sprint(err), "waits for F0401 AB11223301") {
		t.Errorf("the void's answer: %v", err)
	}
	s.Start()
	waitAll(t, 30*time.Second, map[string]func() error{
		"upload a": func() error { return p.Upload(ctx, a) }, "upload b": func() error { return p.Upload(ctx, b) },
		"void a":  func() error { return p.Void(ctx, a, void) },
		"allow b": func() error { return p.Allow(ctx, b, al) },
		"void allowance": func() error {
			if err := p.Allow(ctx, b, al); err != nil {
				return err
			}
			return p.VoidAllowance(ctx, b, al, "折讓金額有誤")
		},
	})
	if c := s.Counts(); c["C"] != 5 || c["E"] != 0 {
		t.Fatalf("rows %v, want 5 C and no E0202/E0213", c)
	}
}

// TestOffline500SalesThenAllC: 500 sales and 100 voids while Turnkey is
// stopped; once it runs, every message is C, each dropped once, and no void
// met an invoice the platform did not have.
func TestOffline500SalesThenAllC(t *testing.T) {
	if testing.Short() {
		t.Skip("500 messages through the stand-in")
	}
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	ctx := context.Background()
	s.Stop()
	offline := time.Now()
	defer func() { t.Logf("offline phase and run: %s", time.Since(offline).Round(time.Millisecond)) }()
	calls := map[string]func() error{}
	for i := 0; i < 500; i++ {
		inv := sale(i)
		calls["upload "+string(inv.Number)] = func() error { return p.Upload(ctx, inv) }
		if i%5 == 0 {
			v := posagent.Void{Number: inv.Number, VoidedAt: inv.IssuedAt.Add(time.Hour), Reason: "顧客退貨"}
			calls["void "+string(inv.Number)] = func() error { return p.Void(ctx, inv, v) }
		}
	}
	for name, call := range calls {
		if err := call(); !posagent.IsKind(err, posagent.KindNotFound) {
			t.Fatalf("%s offline: %v", name, err)
		}
	}
	if n, m := len(s.Files("F0401_")), len(s.Files("F0501_")); n != 500 || m != 0 {
		t.Fatalf("offline: %d F0401 and %d F0501 files, want 500 and 0", n, m)
	}
	start := time.Now()
	s.Start()
	waitAll(t, 3*time.Minute, calls)
	t.Logf("500 sales and 100 voids accepted %s after Turnkey started", time.Since(start).Round(time.Millisecond))
	if c := s.Counts(); c["C"] != 600 || len(c) != 1 {
		t.Fatalf("rows %v, want 600 C", c)
	}
	if n, m := len(s.Files("F0401_")), len(s.Files("F0501_")); n != 500 || m != 100 {
		t.Fatalf("%d F0401 and %d F0501 files, want 500 and 100", n, m)
	}
}

func TestRejectionsInWords(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	ctx := context.Background()

	// Turnkey's own refusal (ERR, -008): a file no builder would write.
	bad := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<CancelInvoice xmlns="urn:GEINV:eInvoiceMessage:F0501:4.1"><CancelInvoiceNumber>AB12345678</CancelInvoiceNumber></CancelInvoice>`)
	err := waitFor(t, 20*time.Second, func() error { return p.DropRaw("F0501_AB12345678", "F0501", bad) })
	if !posagent.IsKind(err, posagent.KindInvalid) || !strings.Contains(err.Error(), "put it in ERR") || !strings.Contains(err.Error(), "-008") {
		t.Fatalf("local rejection: %v", err)
	}
	if f := s.Files("F0501_AB12345678_"); len(f) != 1 || !strings.Contains(f[0], "/F0501/ERR/") {
		t.Fatalf("files %v", f)
	}

	// The platform's refusal: a void of an invoice it does not hold (the
	// journal is made to believe the invoice was accepted).
	inv := sale(7)
	if err := p.MarkAccepted("F0401_" + string(inv.Number)); err != nil {
		t.Fatal(err)
	}
	v := posagent.Void{Number: inv.Number, VoidedAt: inv.IssuedAt.Add(time.Hour), Reason: "顧客退貨"}
	err = waitFor(t, 20*time.Second, func() error { return p.Void(ctx, inv, v) })
	if !posagent.IsKind(err, posagent.KindInvalid) || !strings.Contains(err.Error(), "E0202 開立發票資料不存在") ||
		!strings.Contains(err.Error(), "the platform has no such invoice") {
		t.Fatalf("platform rejection: %v", err)
	}
	// A person revives the job: a definite failure allows a new drop, under a new name.
	err = waitFor(t, 20*time.Second, func() error { return p.Void(ctx, inv, v) })
	if !strings.Contains(fmt.Sprint(err), "E0202") {
		t.Fatalf("second attempt: %v", err)
	}
	if f := s.Files("F0501_" + string(inv.Number)); len(f) != 2 || !strings.Contains(f[0]+f[1], "_1-") || !strings.Contains(f[0]+f[1], "_2-") {
		t.Fatalf("attempt files %v", f)
	}
}

// TestDuplicateOfAnAcceptedInvoiceIsSuccess: another till (another journal)
// drops the same invoice again; the platform answers E1003, and since an
// earlier row for the identifier is C, the message is taken as accepted.
func TestDuplicateOfAnAcceptedInvoiceIsSuccess(t *testing.T) {
	s := standIn(t)
	ctx := context.Background()
	p1 := newProvider(t, config(t, s, ""))
	p2 := newProvider(t, config(t, s, ""))
	inv := sale(3)
	if err := waitFor(t, 20*time.Second, func() error { return p1.Upload(ctx, inv) }); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, 20*time.Second, func() error { return p2.Upload(ctx, inv) }); err != nil {
		t.Fatalf("duplicate of an accepted invoice: %v", err)
	}
	if c := s.Counts(); c["C"] != 1 || c["E"] != 1 {
		t.Fatalf("rows %v, want one C and one E (E1003)", c)
	}
}

func TestDatabaseLostFallsBackToFolders(t *testing.T) {
	s := standIn(t)
	var logs bytes.Buffer
	cfg := config(t, s, "")
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	p := newProvider(t, cfg)
	ctx := context.Background()
	s.LoseDB()
	inv := sale(4)
	// Without the database the provider still drops, and reads BAK.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := p.Upload(ctx, inv)
		if !posagent.IsKind(err, posagent.KindNotFound) {
			t.Fatalf("database lost: %v", err)
		}
		if strings.Contains(err.Error(), "in BAK") && strings.Contains(err.Error(), "unreachable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never read BAK: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A refused file is found in ERR without the database.
	err := waitFor(t, 20*time.Second, func() error {
		return p.DropRaw("F0701_AB12345678", "F0701", []byte("not xml at all"))
	})
	if !posagent.IsKind(err, posagent.KindInvalid) || !strings.Contains(err.Error(), "/F0701/ERR/") {
		t.Fatalf("ERR without the database: %v", err)
	}
	if strings.Contains(err.Error(), s.Password()) || strings.Contains(logs.String(), s.Password()) {
		t.Fatal("the database password reached an error or the log")
	}
	if err := s.RestoreDB(); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, 20*time.Second, func() error { return p.Upload(ctx, inv) }); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Files("F0401_AB11223304_")); n != 1 {
		t.Fatalf("%d files", n)
	}
}

func TestStuckAtGAlarms(t *testing.T) {
	s := standIn(t)
	var logs bytes.Buffer
	cfg := config(t, s, "")
	cfg.StuckAfter = 300 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	p := newProvider(t, cfg)
	s.HoldAtG(true)
	inv := sale(5)
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := p.Upload(context.Background(), inv)
		if !posagent.IsKind(err, posagent.KindNotFound) {
			t.Fatalf("held at G: %v", err)
		}
		if strings.Contains(err.Error(), "status G") && strings.Contains(err.Error(), "ALARM") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alarm: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.Upload(context.Background(), inv)
	if n := strings.Count(logs.String(), "ALARM message not accepted"); n != 1 {
		t.Fatalf("alarm logged %d times, want once:\n%s", n, logs.String())
	}
	al := p.ProviderAlarms()
	if len(al) != 1 || al[0].Code != "turnkey_not_accepted" || al[0].Level != posagent.AlarmWarning || !strings.Contains(al[0].Message, "F0401 F0401AB11223305") {
		t.Fatalf("provider alarms %+v", al)
	}
	s.HoldAtG(false)
	if err := waitFor(t, 20*time.Second, func() error { return p.Upload(context.Background(), inv) }); err != nil {
		t.Fatal(err)
	}
	if al := p.ProviderAlarms(); len(al) != 0 {
		t.Fatalf("alarms after C: %+v", al)
	}
}

type blankDoc struct {
	Main struct {
		HeadBan, BranchBan, YearMonth, InvoiceTrack string
	}
	Items []struct{ InvoiceBeginNo, InvoiceEndNo string } `xml:"Details>BranchTrackBlankItem"`
}

// TestBlankReportAtPeriodEndOnce: E0402 waits for the period's end, then
// goes once per track with exactly the unused ranges.
func TestBlankReportAtPeriodEndOnce(t *testing.T) {
	s := standIn(t)
	pd := posagent.Period{Year: 114, EvenMonth: 10}
	now := pd.End().Add(-time.Hour)
	cfg := config(t, s, "")
	cfg.Now = func() time.Time { return now }
	p := newProvider(t, cfg)
	ctx := context.Background()
	unused := []posagent.Booklet{
		{Track: "AB", First: 11223360, Last: 11223399, Period: pd},
		{Track: "CD", First: 50, Last: 99, Period: pd},
		{Track: "AB", First: 11223400, Last: 11223449, Period: pd},
	}
	err := p.ReportBlank(ctx, pd, unused)
	if !posagent.IsKind(err, posagent.KindNotFound) || len(s.Files("E0402")) != 0 {
		t.Fatalf("before the period ends: %v, files %v", err, s.Files("E0402"))
	}
	// Past the 10th-day deadline (Turnkey stopped, so nothing is accepted): a critical alarm.
	s.Stop()
	now = pd.BlankReportDeadline().Add(time.Hour)
	if err := p.ReportBlank(ctx, pd, unused); !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("late, Turnkey stopped: %v", err)
	}
	if al := p.ProviderAlarms(); len(al) != 1 || al[0].Code != "blank_report_late" || al[0].Level != posagent.AlarmCritical {
		t.Fatalf("alarms %+v", al)
	}
	s.Start()
	if err := waitFor(t, 20*time.Second, func() error { return p.ReportBlank(ctx, pd, unused) }); err != nil {
		t.Fatal(err)
	}
	if al := p.ProviderAlarms(); len(al) != 0 {
		t.Fatalf("alarms after C: %+v", al)
	}
	if err := p.ReportBlank(ctx, pd, unused); err != nil {
		t.Fatal(err)
	}
	files := s.Files("E0402_")
	if len(files) != 2 {
		t.Fatalf("files %v, want one per track", files)
	}
	got := map[string][]string{}
	for _, f := range files {
		data, err := readFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d blankDoc
		if err := xml.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Main.YearMonth != "11410" || d.Main.BranchBan != seller.TaxID || d.Main.HeadBan != seller.TaxID {
			t.Errorf("main %+v", d.Main)
		}
		for _, it := range d.Items {
			got[d.Main.InvoiceTrack] = append(got[d.Main.InvoiceTrack], it.InvoiceBeginNo+"-"+it.InvoiceEndNo)
		}
	}
	want := map[string][]string{"AB": {"11223360-11223449"}, "CD": {"00000050-00000099"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
	if c := s.Counts(); c["C"] != 2 {
		t.Fatalf("rows %v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	s := standIn(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		mut   func(c *turnkey.Config)
		field string
	}{
		{"no seller address", func(c *turnkey.Config) { c.Seller.Address = "" }, "terminal.seller_address"},
		{"relative root", func(c *turnkey.Config) { c.B2SRoot = "UpCast" }, "provider.turnkey.b2s_root"},
		{"no temp dir", func(c *turnkey.Config) { c.TempDir = "" }, "provider.turnkey.temp_dir"},
		{"root not Turnkey's", func(c *turnkey.Config) { c.B2SRoot = t.TempDir() }, "provider.turnkey.b2s_root"},
		{"bad head ban", func(c *turnkey.Config) { c.HeadBan = "12345678" }, "provider.turnkey.head_ban"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(t, s, "")
			tt.mut(&cfg)
			p, err := turnkey.New(ctx, cfg)
			if err == nil {
				p.Close()
			}
			if !posagent.IsKind(err, posagent.KindConfig) || posagent.ErrorField(err) != tt.field {
				t.Fatalf("got %v (field %q), want a config error on %s", err, posagent.ErrorField(err), tt.field)
			}
			if strings.Contains(err.Error(), s.Password()) {
				t.Fatal("the password reached the error")
			}
		})
	}
	// An unreachable database at start is not an error: the folders serve.
	s.LoseDB()
	p := newProvider(t, config(t, s, ""))
	if err := p.CheckSale(posagent.Invoice{}); err == nil {
		t.Fatal("CheckSale of an empty sale passed")
	}
	member := sale(1)
	member.Number, member.RandomCode, member.Print = "", "", false
	member.Carrier = posagent.Carrier{Type: posagent.CarrierMember, ID: "M0001"}
	if err := p.CheckSale(member); posagent.ErrorField(err) != "carrier.type" {
		t.Fatalf("member carrier without its code: %v", err)
	}
}
