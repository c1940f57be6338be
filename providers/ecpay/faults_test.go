package ecpay_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

func TestRtnCodeMapping(t *testing.T) {
	tests := []struct {
		code int
		msg  string
		want posagent.Kind
	}{
		{2, "查無資料", posagent.KindNotFound},
		{1600003, "", posagent.KindNotFound},
		{2000039, "", posagent.KindNotFound},
		{1500047, "", posagent.KindConfig},
		{5070350, "", posagent.KindConfig},
		{1100040, "", posagent.KindConfig},
		{10000009, "", posagent.KindDuplicate},
		{5070357, "自訂編號重覆", posagent.KindDuplicate},          // live (ecpay.md §12)
		{5070453, "B2C作廢發票 該發票已被作廢過", posagent.KindConflict}, // success on a void
		// The issue-time rule has no published code (§12): every wording of it is a wait.
		{4000006, "發票開立時間不可大於上傳時間", posagent.KindTransient},
		{1234567, "發票開立時間不可大於當下上傳發票的時間", posagent.KindTransient},
		{1234567, "開立時間晚於上傳時間", posagent.KindTransient},
		{1234567, "InvoiceDate 不可晚於上傳時間", posagent.KindTransient},
		// "Already there" wordings of an offline number uploaded twice (§12, open).
		{1234567, "發票號碼 ZZ10000000 已開立", posagent.KindDuplicate},
		{1234567, "發票 ZZ10000000 已上傳", posagent.KindDuplicate},
		{1234567, "發票號碼重覆", posagent.KindDuplicate},
		{1234567, "發票號碼已存在", posagent.KindDuplicate},
		{1234567, "該發票已被作廢過", posagent.KindConflict},
		{5000022, "", posagent.KindInvalid},
		{5000007, "", posagent.KindInvalid},
		{5000015, "", posagent.KindInvalid},
		{5000028, "", posagent.KindInvalid},
		{2020001, "", posagent.KindInvalid},
		{5070450, "", posagent.KindConflict},
		{2000063, "", posagent.KindConflict}, // success on a void: TestAlreadyVoidedIsSuccessOnVoids
		{9000001, "", posagent.KindTransient},
		{9999999, "", posagent.KindTransient},
		{1234567, "自訂編號重覆", posagent.KindDuplicate},
		{1234567, "發票已作廢過", posagent.KindConflict},
		{1234567, "系統維護中，請稍後再試", posagent.KindTransient},
		{1234567, "something new", posagent.KindInvalid},
		{0, "", posagent.KindInvalid},
	}
	e := newEnv(t)
	for _, tt := range tests {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRtnCode, Endpoint: "GetIssue", Code: tt.code, Msg: tt.msg}, 1)
		_, err := e.c.GetIssue(e.ctx, "", time.Time{}, "X1")
		e.checkErr(err, tt.want)
		if a := asAPI(err); a == nil || a.RtnCode != int64(tt.code) || a.Endpoint != "GetIssue" {
			t.Fatalf("code %d: APIError = %+v", tt.code, a)
		}
	}
}

func TestTransCodeAndHTTPMapping(t *testing.T) {
	e := newEnv(t)
	call := func() error { _, err := e.c.Machines(e.ctx); return err }
	for msg, want := range map[string]posagent.Kind{
		"Timestamp 已超過時效": posagent.KindClock,
		"Data 解密失敗":       posagent.KindAuth,
		"系統維護中，請稍後再試":     posagent.KindTransient,
		// An envelope ECPay cannot read is never one document's fault:
		// the provider pauses rather than failing the queue job by job.
		"格式錯誤": posagent.KindConfig,
	} {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultTransCode, Msg: msg}, 1)
		err := call()
		e.checkErr(err, want)
		if a := asAPI(err); a == nil || a.TransCode != 9 {
			t.Fatalf("%s: %+v", msg, a)
		}
	}
	// Known TransCodes (§12, live): keys and merchant, whatever the words.
	for code, msg := range map[int]string{110: "The parameter [Data] decrypt fail.", 115: "B2C/B2B功能尚未開通，請聯繫所屬業務"} {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultTransCode, Code: code, Msg: msg}, 1)
		e.checkErr(call(), posagent.KindAuth)
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultTransCode, Code: code, Msg: "?"}, 1)
		e.checkErr(call(), posagent.KindAuth)
	}
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRateLimit}, 1)
	err := call()
	e.checkErr(err, posagent.KindRateLimited)
	var pe *posagent.Error
	if !errors.As(err, &pe) || pe.RetryAfter != 30*time.Minute {
		t.Fatalf("403 RetryAfter = %v", pe.RetryAfter)
	}
	// One 500 may be a glitch; a second in a row is the setup; success resets.
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Status: 500}, 2)
	e.checkErr(call(), posagent.KindTransient)
	e.checkErr(call(), posagent.KindConfig)
	e.checkErr(call(), "")
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Status: 500}, 1)
	e.checkErr(call(), posagent.KindTransient)
	for _, st := range []int{502, 503, 504} {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Status: st}, 1)
		e.checkErr(call(), posagent.KindTransient)
	}
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Status: 404}, 1)
	e.checkErr(call(), posagent.KindConfig)
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultMalformed}, 1)
	e.checkErr(call(), posagent.KindTransient)
}

func TestWrongKeysAndMerchant(t *testing.T) {
	e := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.HashKey = "0123456789abcdef"
		}
	})
	_, err := e.c.Machines(e.ctx)
	e.checkErr(err, posagent.KindAuth)
	if a := asAPI(err); a == nil || a.TransCode != 110 {
		t.Fatalf("wrong keys: %+v", a)
	}
	e2 := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.MerchantID = "3085340"
		}
	})
	_, err = e2.c.Machines(e2.ctx)
	e2.checkErr(err, posagent.KindTransient) // first 500
	_, err = e2.c.Machines(e2.ctx)
	e2.checkErr(err, posagent.KindConfig) // repeated 500
}

// op is one sync action of the fault matrix: prepare it, run it, and check
// that the stand-in holds exactly one result afterwards.
type op struct {
	name     string
	endpoint string
	prepare  func(e *env) any
	run      func(e *env, state any) error
	check    func(t *testing.T, e *env, state any)
}

var matrixOps = []op{
	{"upload", "OfflineIssue",
		func(e *env) any { return e.sale("M1") },
		func(e *env, s any) error { return e.c.Upload(e.ctx, s.(posagent.Invoice)) },
		func(t *testing.T, e *env, s any) {
			inv := s.(posagent.Invoice)
			if n := e.srv.Count(string(inv.Number)); n != 1 || len(e.srv.Invoices()) != 1 {
				t.Fatalf("stand-in holds %d of %s and %d invoices", n, inv.Number, len(e.srv.Invoices()))
			}
		}},
	{"void", "OfflineInvalid",
		func(e *env) any {
			inv := e.sale("M1")
			if err := e.c.Upload(e.ctx, inv); err != nil {
				e.t.Fatal(err)
			}
			return inv
		},
		func(e *env, s any) error { inv := s.(posagent.Invoice); return e.c.Void(e.ctx, inv, voidOf(inv)) },
		func(t *testing.T, e *env, s any) {
			inv := s.(posagent.Invoice)
			got, _ := e.srv.Invoice(string(inv.Number))
			if !got.Voided || e.srv.Count(string(inv.Number)) != 1 {
				t.Fatalf("stand-in holds %+v", got)
			}
		}},
	{"allowance", "Allowance",
		func(e *env) any {
			inv := e.sale("M1")
			if err := e.c.Upload(e.ctx, inv); err != nil {
				e.t.Fatal(err)
			}
			return inv
		},
		func(e *env, s any) error {
			inv := s.(posagent.Invoice)
			return e.c.Allow(e.ctx, inv, allowanceOf(inv, "A1"))
		},
		func(t *testing.T, e *env, s any) {
			inv := s.(posagent.Invoice)
			got, _ := e.srv.Invoice(string(inv.Number))
			if n := len(e.srv.Allowances()); n != 1 || got.Remaining != 61 {
				t.Fatalf("stand-in holds %d allowances, remaining %d", n, got.Remaining)
			}
		}},
	{"lease", "AddInvoiceWordSetting",
		func(e *env) any { return nil },
		func(e *env, _ any) error {
			bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), MachineID: "POS01", Booklets: 2})
			if err == nil && (len(bs) != 1 || bs[0].Booklets() != 2) {
				e.t.Fatalf("lease = %+v", bs)
			}
			return err
		},
		func(t *testing.T, e *env, _ any) {
			tr := e.srv.Tracks()
			if len(tr) != 1 || tr[0].UseStatus != 2 || tr[0].MachineID != "POS01" {
				t.Fatalf("stand-in tracks %+v", tr)
			}
		}},
}

type fault struct {
	name   string
	inject func(e *env, endpoint string)
	want   posagent.Kind
	// fix ends the fault as a person would (default: the stand-in's faults end).
	fix func(e *env)
}

var matrixFaults = []fault{
	{"503", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Endpoint: ep, Status: 503}, 1)
	}, posagent.KindTransient, nil},
	{"500 once", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Endpoint: ep, Status: 500}, 1)
	}, posagent.KindTransient, nil},
	{"403", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRateLimit, Endpoint: ep}, 1)
	}, posagent.KindRateLimited, nil},
	{"malformed", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultMalformed, Endpoint: ep}, 1)
	}, posagent.KindTransient, nil},
	{"TransCode", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultTransCode, Endpoint: ep, Msg: "系統維護中，請稍後再試"}, 1)
	}, posagent.KindTransient, nil},
	{"RtnCode 9999999", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRtnCode, Endpoint: ep, Code: 9999999, Msg: "系統錯誤"}, 1)
	}, posagent.KindTransient, nil},
	// For the void this is "void answer lost": the retry meets 5070453
	// "該發票已被作廢過" and is done (TestLostVoidAnswerIsDone checks the code).
	{"lost answer", func(e *env, ep string) {
		e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: ep}, 1)
	}, posagent.KindTransient, nil},
	// The merchant regenerated the keys in ECPay's back office: TransCode 110
	// is KindAuth (the agent pauses, nothing dead); with the new keys
	// configured the same call goes through.
	{"keys rotated", func(e *env, _ string) {
		e.srv.RotateKeys("0123456789abcdef", "fedcba9876543210")
	}, posagent.KindAuth, func(e *env) {
		cfg := e.srv.Config("POS01")
		c, err := ecpay.New(cfg)
		if err != nil {
			e.t.Fatal(err)
		}
		e.c = c
	}},
	{"merchant not enabled", func(e *env, _ string) { e.srv.SetMerchantEnabled(false) }, posagent.KindAuth,
		func(e *env) { e.srv.SetMerchantEnabled(true) }},
	{"latency", func(e *env, _ string) { e.srv.SetLatency(1500 * time.Millisecond) }, posagent.KindTransient, nil},
	{"down", func(e *env, _ string) { e.srv.Down() }, posagent.KindTransient, nil},
}

func TestFaultMatrix(t *testing.T) {
	for _, o := range matrixOps {
		for _, f := range matrixFaults {
			t.Run(o.name+"/"+f.name, func(t *testing.T) {
				e := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
					if c != nil {
						c.Timeout = 500 * time.Millisecond
					}
				})
				state := o.prepare(e)
				f.inject(e, o.endpoint)
				err := o.run(e, state)
				e.checkErr(err, f.want)
				e.srv.ClearFaults()
				if f.fix != nil {
					f.fix(e)
				}
				// The sync loop retries; a few attempts must settle it.
				for attempt := 0; attempt < 3 && err != nil; attempt++ {
					err = o.run(e, state)
				}
				if err != nil {
					t.Fatalf("after retries: %v", err)
				}
				o.check(t, e, state)
			})
		}
	}
}

func TestLostAnswerUploadIsAdopted(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("LOST1")
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "OfflineIssue"}, 1)
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindTransient)
	if e.srv.Count(string(inv.Number)) != 1 {
		t.Fatal("the stand-in did not process the upload whose answer was lost")
	}
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(e.srv.Invoices()); n != 1 {
		t.Fatalf("%d invoices after retry", n)
	}
	if !strings.Contains(e.logs.String(), "adopted") {
		t.Fatal("the adoption was not logged")
	}
}

func TestLostAnswerOnlineIssueIsAdopted(t *testing.T) {
	e := newEnv(t)
	id, err := e.c.AddTrack(e.ctx, ecpay.NewTrack{Period: e.period(), InvType: "07", Category: ecpay.CategoryOnline, Header: "ZZ", Start: 10005000, End: 10005049})
	if err == nil {
		err = e.c.SetTrackStatus(e.ctx, id, ecpay.TrackEnabled)
	}
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "Issue"}, 1)
	inv, err := e.c.IssueOnline(e.ctx, sampleSale("LOST2"))
	if err != nil {
		t.Fatalf("issue with lost answer: %v", err)
	}
	held := e.srv.Invoices()
	if len(held) != 1 || held[0].Number != string(inv.Number) || held[0].RandomNumber != inv.RandomCode {
		t.Fatalf("stand-in holds %+v, client got %s/%s", held, inv.Number, inv.RandomCode)
	}
	// The ambiguous answer while ECPay is down stays transient, and nothing is issued twice later.
	e.srv.Down()
	_, err = e.c.IssueOnline(e.ctx, sampleSale("LOST3"))
	e.checkErr(err, posagent.KindTransient)
	e.srv.Up()
	if _, err := e.c.IssueOnline(e.ctx, sampleSale("LOST3")); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Invoices()); n != 2 {
		t.Fatalf("%d invoices", n)
	}
}

func TestClockSkew(t *testing.T) {
	e := newEnv(t)
	if _, _, ok := e.c.ClockSkew(); ok {
		t.Fatal("skew known before any answer")
	}
	// The stand-in's clock runs 20 minutes ahead: our timestamps look late.
	e.srv.SetClockOffset(20 * time.Minute)
	_, err := e.c.Machines(e.ctx)
	e.checkErr(err, posagent.KindClock)
	var pe *posagent.Error
	errors.As(err, &pe)
	if d := pe.Skew + 20*time.Minute; d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("error Skew = %v, want about -20m", pe.Skew)
	}
	skew, at, ok := e.c.ClockSkew()
	if !ok || at.IsZero() || skew != pe.Skew {
		t.Fatalf("ClockSkew = %v, %v, %v", skew, at, ok)
	}
	// The next request is stamped with ECPay's time and goes through.
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatalf("after measuring the skew: %v", err)
	}
	// A small offset is measured but not corrected.
	e.srv.SetClockOffset(-30 * time.Second)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	if skew, _, _ := e.c.ClockSkew(); skew < 28*time.Second || skew > 32*time.Second {
		t.Fatalf("skew = %v, want about 30s", skew)
	}
	// The Date header alone (a 403 has no envelope) measures it too.
	e.srv.SetClockOffset(-5 * time.Minute)
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRateLimit}, 1)
	_, _ = e.c.Machines(e.ctx)
	if skew, _, _ := e.c.ClockSkew(); skew < 4*time.Minute || skew > 6*time.Minute {
		t.Fatalf("skew from Date = %v, want about 5m", skew)
	}
}

func TestClockCorrectionCanBeDisabled(t *testing.T) {
	e := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.ClockTolerance = -1
		}
	})
	e.srv.SetClockOffset(15 * time.Minute)
	for i := 0; i < 2; i++ {
		_, err := e.c.Machines(e.ctx)
		e.checkErr(err, posagent.KindClock)
	}
}

func TestFastClockDefersUpload(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("FAST1")
	// ECPay is 5 minutes behind us: our invoice is in its future.
	e.srv.SetClockOffset(-5 * time.Minute)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	err := e.c.Upload(e.ctx, inv)
	e.checkErr(err, posagent.KindClock)
	var pe *posagent.Error
	if errors.As(err, &pe); pe.Skew < 4*time.Minute {
		t.Fatalf("Skew = %v", pe.Skew)
	}
	// Once the clocks agree again the same invoice goes through.
	e.srv.SetClockOffset(0)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
}

func TestEnvelopeRevisionAndTimestamp(t *testing.T) {
	e := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.Revisions = map[string]string{"GetIssue": "", "CheckLoveCode": "9.9.9"}
		}
	})
	before := time.Now().Unix()
	e.c.Machines(e.ctx)
	e.c.GovTracks(e.ctx, e.period().Year)
	e.c.GetIssue(e.ctx, "", time.Time{}, "R1")
	e.c.LoveCodeExists(e.ctx, "168001")
	after := time.Now().Unix()
	want := map[string]string{"QueryOfflineMerchantPosSetting": "1.0.0", "GetGovInvoiceWordSetting": "3.0.0", "GetIssue": "", "CheckLoveCode": "9.9.9"}
	for _, r := range e.srv.Requests() {
		if r.Revision != want[r.Endpoint] {
			t.Errorf("%s: Revision %q, want %q", r.Endpoint, r.Revision, want[r.Endpoint])
		}
		if r.Timestamp < before || r.Timestamp > after {
			t.Errorf("%s: Timestamp %d not taken at send time (%d–%d)", r.Endpoint, r.Timestamp, before, after)
		}
	}
}

func TestProviderVoidOfOnlineInvoice(t *testing.T) {
	e := newEnv(t)
	id, err := e.c.AddTrack(e.ctx, ecpay.NewTrack{Period: e.period(), InvType: "07", Category: ecpay.CategoryOnline, Header: "ZZ", Start: 10005000, End: 10005049})
	if err == nil {
		err = e.c.SetTrackStatus(e.ctx, id, ecpay.TrackEnabled)
	}
	if err != nil {
		t.Fatal(err)
	}
	inv, err := e.c.IssueOnline(e.ctx, sampleSale("ONV1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.srv.Invoice(string(inv.Number)); !got.Voided {
		t.Fatal("not voided")
	}
}

func TestAlreadyVoidedIsSuccessOnVoids(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("AV1")
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	a := allowanceOf(inv, "A1")
	a.ProviderNumber = "2026000000000001"
	for _, f := range []ecpaytest.Fault{
		{Kind: ecpaytest.FaultRtnCode, Endpoint: "OfflineInvalid", Code: 2000063},
		{Kind: ecpaytest.FaultRtnCode, Endpoint: "OfflineInvalid", Code: 7777777, Msg: "發票已作廢過"},
		{Kind: ecpaytest.FaultRtnCode, Endpoint: "Invalid", Code: 2000063},
		{Kind: ecpaytest.FaultRtnCode, Endpoint: "AllowanceInvalid", Code: 2000063, Msg: "折讓單已作廢過"},
	} {
		e.srv.Inject(f, 1)
		var err error
		switch f.Endpoint {
		case "OfflineInvalid":
			err = e.c.Void(e.ctx, inv, voidOf(inv))
		case "Invalid":
			err = e.c.VoidOnline(e.ctx, inv, voidOf(inv))
		default:
			err = e.c.VoidAllowance(e.ctx, inv, a, "x")
		}
		if err != nil {
			t.Fatalf("%s %d %s: %v", f.Endpoint, f.Code, f.Msg, err)
		}
	}
	// An allowance on a voided invoice is a conflict, found before sending.
	if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatal(err)
	}
	e.checkErr(e.c.Allow(e.ctx, inv, allowanceOf(inv, "A2")), posagent.KindConflict)
}

// TestNoSecretInLogsOrErrors drives successes and every failure path at debug
// level and scans each log line and error for the keys and Data plaintext.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	e := newEnv(t)
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	inv := e.sale("SEC1")
	keep(e.c.Upload(e.ctx, inv))
	for _, f := range []ecpaytest.Fault{
		{Kind: ecpaytest.FaultMalformed}, {Kind: ecpaytest.FaultStatus, Status: 500}, {Kind: ecpaytest.FaultRateLimit},
		{Kind: ecpaytest.FaultTransCode, Msg: "Data 解密失敗"}, {Kind: ecpaytest.FaultRtnCode, Code: 5000022, Msg: "金額錯誤"},
		{Kind: ecpaytest.FaultLoseAnswer},
	} {
		e.srv.Inject(f, 1)
		keep(e.c.Upload(e.ctx, e.sale("SEC"+f.Kind.String())))
	}
	bad := e.sale("SEC2")
	bad.Total = 1 // refused locally
	keep(e.c.Upload(e.ctx, bad))
	wrong := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.HashIV = "0000000000000000"
		}
	})
	keep(wrong.c.Upload(wrong.ctx, inv))
	if len(errs) < 7 {
		t.Fatalf("only %d failures were provoked", len(errs))
	}
	for _, err := range errs {
		for _, s := range append(secrets, "0000000000000000") {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
				t.Fatalf("error %q contains %q", err, s)
			}
		}
	}
	logs := e.logs.String() + wrong.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "OfflineIssue") {
		t.Fatal("the debug log is empty: the scan would prove nothing")
	}
	if strings.Contains(logs, "0000000000000000") {
		t.Fatal("a log line contains the HashIV")
	}
	// newEnv's cleanup scans both logs for the stage keys and the plaintext.
}

// A re-upload after a lost answer is adopted whatever words ECPay uses for
// "already there" (§12: code and message unpublished), checked by GetIssue.
func TestDuplicateUploadWordingsAreAdopted(t *testing.T) {
	for _, w := range ecpaytest.DuplicateWordings {
		t.Run(w, func(t *testing.T) {
			e := newEnv(t)
			e.srv.SetDuplicateWording(w)
			inv := e.sale("DUPW")
			e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "OfflineIssue"}, 1)
			e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindTransient)
			if err := e.c.Upload(e.ctx, inv); err != nil {
				t.Fatalf("re-upload: %v", err)
			}
			if n := e.srv.Count(string(inv.Number)); n != 1 {
				t.Fatalf("%d copies", n)
			}
			if !strings.Contains(e.logs.String(), "adopted") {
				t.Fatal("not adopted through GetIssue")
			}
		})
	}
}

// A void retried after its answer was lost meets ECPay's 5070453
// "該發票已被作廢過" and is done.
func TestLostVoidAnswerIsDone(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("LOSTV")
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "OfflineInvalid"}, 1)
	e.checkErr(e.c.Void(e.ctx, inv, voidOf(inv)), posagent.KindTransient)
	if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatalf("retried void: %v", err)
	}
	reqs := e.srv.Requests()
	if last := reqs[len(reqs)-1]; last.Endpoint != "OfflineInvalid" || last.RtnCode != 5070453 {
		t.Fatalf("the retry did not meet ECPay's already-voided answer: %+v", last)
	}
}
