package ecpaytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

type answer struct {
	HTTP      int
	TransCode int
	TransMsg  string
	Data      map[string]any
}

// post sends one raw request, as a client with its own bugs would.
func post(t *testing.T, s *ecpaytest.Server, endpoint string, merchant string, ts time.Time, data any) answer {
	t.Helper()
	c, _ := ecpay.NewCipher(ecpaytest.StageHashKey, ecpaytest.StageHashIV)
	enc := ""
	switch d := data.(type) {
	case string:
		enc = d
	default:
		var err error
		if enc, err = c.EncryptJSON(d); err != nil {
			t.Fatal(err)
		}
	}
	body, _ := json.Marshal(map[string]any{"MerchantID": merchant, "RqHeader": map[string]any{"Timestamp": ts.Unix(), "Revision": "1.0.0"}, "Data": enc})
	resp, err := s.HTTPClient().Post(s.URL()+"/B2CInvoice/"+endpoint, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{HTTP: resp.StatusCode}
	if resp.StatusCode != 200 {
		return a
	}
	var env struct {
		TransCode int
		TransMsg  string
		Data      string
		RpHeader  struct{ Timestamp int64 }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	a.TransCode, a.TransMsg = env.TransCode, env.TransMsg
	if env.RpHeader.Timestamp == 0 {
		t.Fatal("answer without RpHeader.Timestamp")
	}
	if env.Data != "" {
		plain, err := c.Decrypt(env.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(plain, &a.Data); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func (a answer) rtn() int {
	if a.Data == nil {
		return -1
	}
	f, _ := a.Data["RtnCode"].(float64)
	return int(f)
}

func setup(t *testing.T) (*ecpaytest.Server, posagent.Booklet) {
	t.Helper()
	s := ecpaytest.New(ecpaytest.Options{TLS: true})
	t.Cleanup(s.Close)
	c, err := ecpay.New(s.Config("POS01"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.LeaseBooklets(context.Background(), posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), MachineID: "POS01", Booklets: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s, bs[0]
}

func issueData(b posagent.Booklet, i int, relate string) map[string]any {
	return map[string]any{
		"MerchantID": ecpaytest.StageMerchantID, "MachineID": "POS01", "InvoiceNo": string(b.Number(i)),
		"InvoiceDate":  time.Now().Add(-time.Minute).In(posagent.Taipei).Format("2006-01-02 15:04:05"),
		"RelateNumber": relate, "TaxType": "1", "SalesAmount": 100, "InvType": "07", "RandomNumber": "4821",
		"Print": "1", "Donation": "0", "CarrierType": "", "CarrierNum": "", "vat": "1", "SpecialTaxType": "0",
		"Items": []any{map[string]any{"ItemSeq": 1, "ItemName": "咖啡", "ItemCount": 2, "ItemWord": "杯", "ItemPrice": 50, "ItemTaxType": "1", "ItemAmount": 100}},
	}
}

func TestOfflineIssueFieldChecks(t *testing.T) {
	s, b := setup(t)
	tests := []struct {
		name string
		edit func(m map[string]any)
		code int
	}{
		{"valid", func(m map[string]any) {}, 1},
		{"missing RelateNumber", func(m map[string]any) { delete(m, "RelateNumber") }, 4000001},
		{"RelateNumber 31", func(m map[string]any) { m["RelateNumber"] = strings.Repeat("A", 31) }, 4000001},
		{"RelateNumber dash", func(m map[string]any) { m["RelateNumber"] = "S-1" }, 4000001},
		{"SalesAmount as string", func(m map[string]any) { m["SalesAmount"] = "100" }, 4000001},
		{"sum mismatch", func(m map[string]any) { m["SalesAmount"] = 101 }, 5000022},
		{"zero rated without ClearanceMark", func(m map[string]any) { m["TaxType"] = "2"; m["ZeroTaxRateReason"] = "71" }, 5000007},
		{"zero rated without reason", func(m map[string]any) { m["TaxType"] = "2"; m["ClearanceMark"] = "1" }, 4000001},
		{"carrier and print", func(m map[string]any) { m["CarrierType"] = "3"; m["CarrierNum"] = "/ABC+123" }, 5000015},
		{"bad barcode", func(m map[string]any) { m["Print"] = "0"; m["CarrierType"] = "3"; m["CarrierNum"] = "/abc" }, 4000001},
		{"tax id, no print, no carrier", func(m map[string]any) { m["CustomerIdentifier"] = "53212539"; m["Print"] = "0" }, 5000028},
		{"bad tax id", func(m map[string]any) { m["CustomerIdentifier"] = "12345678" }, 4000001},
		{"love code", func(m map[string]any) { m["Print"] = "0"; m["Donation"] = "1"; m["LoveCode"] = "12" }, 2020001},
		{"donated and printed", func(m map[string]any) { m["Donation"] = "1"; m["LoveCode"] = "168001" }, 4000001},
		{"unknown field", func(m map[string]any) { m["InvoiceCancelDate"] = "x" }, 4000001},
		{"unknown item field", func(m map[string]any) { m["Items"].([]any)[0].(map[string]any)["Price"] = 1 }, 4000001},
		{"ItemName 101", func(m map[string]any) {
			m["Items"].([]any)[0].(map[string]any)["ItemName"] = strings.Repeat("咖", 101)
		}, 4000001},
		{"ItemWord missing", func(m map[string]any) { delete(m["Items"].([]any)[0].(map[string]any), "ItemWord") }, 4000001},
		{"8 decimals", func(m map[string]any) { m["Items"].([]any)[0].(map[string]any)["ItemPrice"] = 50.000000001 }, 4000001},
		{"no items", func(m map[string]any) { m["Items"] = []any{} }, 4000001},
		// ECPay's published sizes: ItemCount 8.2, ItemPrice 10.7, ItemAmount 12.7.
		{"ItemCount 3 decimals", func(m map[string]any) {
			it := m["Items"].([]any)[0].(map[string]any)
			it["ItemCount"], it["ItemPrice"] = 0.125, 800
		}, 4000001},
		{"ItemCount 9 digits", func(m map[string]any) { m["Items"].([]any)[0].(map[string]any)["ItemCount"] = 100000000 }, 4000001},
		{"ItemPrice 11 digits", func(m map[string]any) { m["Items"].([]any)[0].(map[string]any)["ItemPrice"] = 10000000000 }, 4000001},
		{"ItemAmount 13 digits", func(m map[string]any) { m["Items"].([]any)[0].(map[string]any)["ItemAmount"] = 1000000000000 }, 4000001},
		{"mixed without item tax type", func(m map[string]any) {
			m["TaxType"] = "9"
			delete(m["Items"].([]any)[0].(map[string]any), "ItemTaxType")
		}, 4000001},
		{"special with 07", func(m map[string]any) { m["TaxType"] = "4"; m["SpecialTaxType"] = "1" }, 4000001},
		{"number outside lease", func(m map[string]any) { m["InvoiceNo"] = "ZZ10009999" }, 4000005},
		{"unknown machine", func(m map[string]any) { m["MachineID"] = "POS99" }, 4000003},
		{"future date", func(m map[string]any) {
			m["InvoiceDate"] = time.Now().Add(time.Hour).In(posagent.Taipei).Format("2006-01-02 15:04:05")
		}, 4000006},
		{"member carrier without e-mail or phone", func(m map[string]any) { m["Print"] = "0"; m["CarrierType"] = "1" }, 4000007},
		{"date format", func(m map[string]any) { m["InvoiceDate"] = "2026/01/02 10:00:00" }, 4000001},
		{"random code", func(m map[string]any) { m["RandomNumber"] = "12a4" }, 4000001},
		{"inner MerchantID", func(m map[string]any) { m["MerchantID"] = "3085340" }, 4000001},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := issueData(b, i, fmt.Sprintf("R%03d", i))
			tt.edit(m)
			a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), m)
			if a.HTTP != 200 || a.TransCode != 1 || a.rtn() != tt.code {
				t.Fatalf("answer %+v, want RtnCode %d", a, tt.code)
			}
		})
	}
	if n := len(s.Invoices()); n != 1 {
		t.Fatalf("%d invoices accepted, want only the valid one", n)
	}
	// Uniqueness: the same RelateNumber (any case) and the same number are refused.
	dup := issueData(b, 40, "r000")
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), dup); a.rtn() != 5070357 || !strings.Contains(a.Data["RtnMsg"].(string), "重覆") {
		t.Fatalf("duplicate RelateNumber: %+v", a)
	}
	dup = issueData(b, 0, "R999")
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), dup); a.rtn() != 4000002 || !strings.Contains(a.Data["RtnMsg"].(string), "重覆") {
		t.Fatalf("duplicate number: %+v", a)
	}
}

func TestEnvelopeChecks(t *testing.T) {
	s, b := setup(t)
	m := issueData(b, 0, "E1")
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now().Add(-11*time.Minute), m); a.TransCode == 1 || !strings.Contains(a.TransMsg, "Timestamp") {
		t.Fatalf("late timestamp: %+v", a)
	}
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now().Add(-9*time.Minute), m); a.rtn() != 1 {
		t.Fatalf("9 minutes late is inside the window: %+v", a)
	}
	if a := post(t, s, "OfflineIssue", "3085340", time.Now(), m); a.HTTP != 500 {
		t.Fatalf("foreign MerchantID: %+v", a)
	}
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), "bm90IGNpcGhlcg=="); a.TransCode == 1 {
		t.Fatalf("garbage Data: %+v", a)
	}
	resp, err := s.HTTPClient().Post(s.URL()+"/B2CInvoice/Nope", "application/json", strings.NewReader("{}"))
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown endpoint: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestVoidRules(t *testing.T) {
	s, b := setup(t)
	today := time.Now().In(posagent.Taipei).Format("2006-01-02")
	now := time.Now().In(posagent.Taipei).Format("2006-01-02 15:04:05")
	void := map[string]any{"MerchantID": ecpaytest.StageMerchantID, "InvoiceNo": string(b.Number(0)), "InvoiceDate": today, "Reason": "退貨", "CancelDate": now}
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), void); a.rtn() != 1600003 {
		t.Fatalf("void before issue: %+v", a)
	}
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), issueData(b, 0, "V1")); a.rtn() != 1 {
		t.Fatal(a)
	}
	allow := map[string]any{"MerchantID": ecpaytest.StageMerchantID, "InvoiceNo": string(b.Number(0)), "InvoiceDate": today,
		"AllowanceNotify": "N", "AllowanceAmount": 50,
		"Items": []any{map[string]any{"ItemSeq": 1, "ItemName": "咖啡", "ItemCount": 1, "ItemWord": "杯", "ItemPrice": 50, "ItemTaxType": "1", "ItemAmount": 50}}}
	a := post(t, s, "Allowance", ecpaytest.StageMerchantID, time.Now(), allow)
	if a.rtn() != 1 || a.Data["IA_Remain_Allowance_Amt"].(float64) != 50 {
		t.Fatalf("allowance: %+v", a)
	}
	allow["AllowanceAmount"] = 60
	if a := post(t, s, "Allowance", ecpaytest.StageMerchantID, time.Now(), allow); a.rtn() != 5000022 {
		t.Fatalf("allowance sum: %+v", a)
	}
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), void); a.rtn() != 5070450 {
		t.Fatalf("void with allowance: %+v", a)
	}
	// The void time under either key (§12) is taken; two that differ are not.
	alt := map[string]any{"MerchantID": ecpaytest.StageMerchantID, "InvoiceNo": string(b.Number(0)), "InvoiceDate": today, "Reason": "退貨", "InvoiceCancelDate": now}
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), alt); a.rtn() != 5070450 {
		t.Fatalf("InvoiceCancelDate alone: %+v", a)
	}
	alt["CancelDate"] = "2020-01-01 00:00:00"
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), alt); a.rtn() != 4000001 {
		t.Fatalf("CancelDate and InvoiceCancelDate differ: %+v", a)
	}
	delete(alt, "CancelDate")
	delete(alt, "InvoiceCancelDate")
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), alt); a.rtn() != 4000001 {
		t.Fatalf("no void time: %+v", a)
	}
}

// A second void answers as ECPay's stage server does (§12).
func TestSecondVoidIsAlreadyVoided(t *testing.T) {
	s, b := setup(t)
	today := time.Now().In(posagent.Taipei).Format("2006-01-02")
	now := time.Now().In(posagent.Taipei).Format("2006-01-02 15:04:05")
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), issueData(b, 0, "V2")); a.rtn() != 1 {
		t.Fatal(a)
	}
	void := map[string]any{"MerchantID": ecpaytest.StageMerchantID, "InvoiceNo": string(b.Number(0)), "InvoiceDate": today,
		"Reason": "退貨", "CancelDate": now, "InvoiceCancelDate": now}
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), void); a.rtn() != 1 {
		t.Fatalf("void: %+v", a)
	}
	if a := post(t, s, "OfflineInvalid", ecpaytest.StageMerchantID, time.Now(), void); a.rtn() != 5070453 || a.Data["RtnMsg"] != "B2C作廢發票 該發票已被作廢過" {
		t.Fatalf("second void: %+v", a)
	}
}

// Rotated keys answer TransCode 110 and a merchant not enabled 115, as the
// stage server does (§12).
func TestKeysRotatedAndMerchantDisabled(t *testing.T) {
	s, b := setup(t)
	m := issueData(b, 0, "K1")
	s.RotateKeys("0123456789abcdef", "fedcba9876543210")
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), m); a.TransCode != 110 || a.TransMsg != "The parameter [Data] decrypt fail." {
		t.Fatalf("old keys: %+v", a)
	}
	s.RotateKeys(ecpaytest.StageHashKey, ecpaytest.StageHashIV)
	s.SetMerchantEnabled(false)
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), m); a.TransCode != 115 || !strings.Contains(a.TransMsg, "尚未開通") {
		t.Fatalf("disabled: %+v", a)
	}
	s.SetMerchantEnabled(true)
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), m); a.rtn() != 1 {
		t.Fatalf("enabled again: %+v", a)
	}
	if len(s.Invoices()) != 1 {
		t.Fatal("refused uploads were kept")
	}
}

func TestFaultSwitches(t *testing.T) {
	s, b := setup(t)
	s.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Endpoint: "OfflineIssue", Status: 502}, 2)
	for i := 0; i < 2; i++ {
		if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), issueData(b, 0, "F1")); a.HTTP != 502 {
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	if a := post(t, s, "OfflineIssue", ecpaytest.StageMerchantID, time.Now(), issueData(b, 0, "F1")); a.rtn() != 1 {
		t.Fatalf("after the faults: %+v", a)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Endpoint != "OfflineIssue" || last.RtnCode != 1 || last.Fault != "" {
		t.Fatalf("request log %+v", last)
	}
	if reqs[len(reqs)-2].Fault != "status" {
		t.Fatalf("request log %+v", reqs[len(reqs)-2])
	}
}
