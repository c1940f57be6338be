package amegotest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
)

// post sends a raw signed form, as Amego's docs describe it.
func post(t *testing.T, s *amegotest.Server, endpoint, data string, edit func(url.Values)) (code int64, msg string, out json.RawMessage) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	form := url.Values{"invoice": {amegotest.DemoSeller}, "data": {data}, "time": {ts}, "sign": {amego.Sign(data, ts, amego.TestAppKey)}}
	if edit != nil {
		edit(form)
	}
	resp, err := http.PostForm(s.URL()+"/json/"+endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Code json.RawMessage `json:"code"`
		Msg  string          `json:"msg"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	code, err = strconv.ParseInt(strings.Trim(string(env.Code), `"`), 10, 64)
	if err != nil {
		t.Fatalf("code %s", env.Code)
	}
	return code, env.Msg, env.Data
}

func TestEnvelopeRules(t *testing.T) {
	s := amegotest.New(amegotest.Options{})
	defer s.Close()
	ok := `{"Year":2026,"Period":0}`
	tests := []struct {
		name     string
		endpoint string
		data     string
		edit     func(url.Values)
		want     int64
	}{
		{"fine", "track_status", ok, nil, 0},
		{"no seller", "track_status", ok, func(f url.Values) { f.Set("invoice", "") }, 11},
		{"other seller", "track_status", ok, func(f url.Values) { f.Set("invoice", "53212539") }, 12},
		{"late", "track_status", ok, func(f url.Values) {
			ts := strconv.FormatInt(time.Now().Add(-2*time.Minute).Unix(), 10)
			f.Set("time", ts)
			f.Set("sign", amego.Sign(ok, ts, amego.TestAppKey))
		}, 15},
		{"early", "track_status", ok, func(f url.Values) {
			ts := strconv.FormatInt(time.Now().Add(90*time.Second).Unix(), 10)
			f.Set("time", ts)
			f.Set("sign", amego.Sign(ok, ts, amego.TestAppKey))
		}, 15},
		{"bad sign", "track_status", ok, func(f url.Values) { f.Set("sign", strings.Repeat("0", 32)) }, 16},
		{"signed other bytes", "track_status", ok, func(f url.Values) { f.Set("data", `{"Year":2026, "Period":0}`) }, 16},
		{"empty data", "track_status", "", nil, 17},
		{"not json", "track_status", "{", nil, 20},
		{"object where an array is due", "f0501", `{"CancelInvoiceNumber":"ZZ10000000"}`, nil, 23},
	}
	for _, tt := range tests {
		if code, msg, _ := post(t, s, tt.endpoint, tt.data, tt.edit); code != tt.want {
			t.Errorf("%s: code %d %s, want %d", tt.name, code, msg, tt.want)
		}
	}
	// /json/time is an unsigned GET without a code.
	resp, err := http.Get(s.URL() + "/json/time")
	if err != nil {
		t.Fatal(err)
	}
	var tm map[string]any
	json.NewDecoder(resp.Body).Decode(&tm)
	resp.Body.Close()
	if _, has := tm["code"]; has || tm["timestamp"] == nil || tm["text"] == nil {
		t.Fatalf("time answer %v", tm)
	}
}

// record is a valid consumer invoice for number n of the leased track.
func record(n string, edit func(map[string]any)) string {
	now := time.Now().In(posagent.Taipei)
	r := map[string]any{
		"order_id": "O-" + n, "InvoiceNumber": n, "InvoiceDate": now.Format("20060102"), "InvoiceTime": now.Format("15:04:05"),
		"RandomNumber": "4321", "PrintMark": "Y", "BuyerIdentifier": "0000000000", "BuyerName": "消費者",
		"ProductItem": []map[string]any{{"Description": "咖啡", "Quantity": 1, "UnitPrice": 105, "Amount": 105, "TaxType": 1}},
		"SalesAmount": 105, "FreeTaxSalesAmount": 0, "ZeroTaxSalesAmount": 0, "TaxType": 1, "TaxRate": "0.05",
		"TaxAmount": 0, "TotalAmount": 105,
	}
	if edit != nil {
		edit(r)
	}
	b, _ := json.Marshal([]any{r})
	return string(b)
}

func TestRecordRules(t *testing.T) {
	s := amegotest.New(amegotest.Options{})
	defer s.Close()
	p := posagent.PeriodOf(time.Now())
	if code, msg, _ := post(t, s, "track_get", fmt.Sprintf(`{"Year":%d,"Period":%d,"Book":1}`, p.Year+1911, p.EvenMonth/2-1), nil); code != 0 {
		t.Fatalf("track_get %d %s", code, msg)
	}
	seq := 10000000
	next := func() string { seq++; return fmt.Sprintf("ZZ%08d", seq) }
	tests := []struct {
		name string
		edit func(map[string]any)
		want string // "" = accepted
	}{
		{"valid", nil, ""},
		{"OrderId instead of order_id", func(r map[string]any) { r["OrderId"] = r["order_id"]; delete(r, "order_id") }, "OrderId"},
		{"no print mark", func(r map[string]any) { delete(r, "PrintMark") }, "PrintMark"},
		{"printed with a carrier", func(r map[string]any) {
			r["CarrierType"], r["CarrierId1"], r["CarrierId2"] = "3J0002", "/ABC+123", "/ABC+123"
		}, "列印發票不可設定載具"},
		{"printed and donated", func(r map[string]any) { r["NPOBAN"] = "168001" }, "列印發票不可設定捐贈碼"},
		{"donated with a carrier", func(r map[string]any) {
			r["PrintMark"], r["NPOBAN"], r["CarrierType"], r["CarrierId1"], r["CarrierId2"] = "N", "168001", "3J0002", "/ABC+123", "/ABC+123"
		}, "捐贈發票不可設定載具"},
		{"unprinted without carrier or donation", func(r map[string]any) { r["PrintMark"] = "N" }, "PrintMark"},
		{"unknown carrier type", func(r map[string]any) {
			r["PrintMark"], r["CarrierType"], r["CarrierId1"], r["CarrierId2"] = "N", "XX", "a", "a"
		}, "載具類型錯誤"},
		{"amounts do not add up", func(r map[string]any) { r["TaxAmount"] = 5 }, "TotalAmount"},
		{"lines do not add up", func(r map[string]any) {
			r["ProductItem"] = []map[string]any{{"Description": "咖啡", "Quantity": 1, "UnitPrice": 100, "Amount": 100, "TaxType": 1}}
		}, "ProductItem"},
		{"eight decimals", func(r map[string]any) {
			r["ProductItem"] = []map[string]any{{"Description": "咖啡", "Quantity": json.Number("1.00000001"), "UnitPrice": 105, "Amount": 105, "TaxType": 1}}
		}, "Quantity"},
		{"zero rated without reason", func(r map[string]any) {
			r["TaxType"], r["SalesAmount"], r["ZeroTaxSalesAmount"], r["TaxRate"] = 2, 0, 105, "0"
		}, "ZeroTaxRateReason"},
		{"bad random code", func(r map[string]any) { r["RandomNumber"] = "12a4" }, "RandomNumber"},
		{"future date", func(r map[string]any) { r["InvoiceDate"] = time.Now().AddDate(0, 0, 2).Format("20060102") }, "InvoiceDate"},
		{"bad buyer", func(r map[string]any) { r["BuyerIdentifier"] = "12345679" }, "BuyerIdentifier"},
	}
	for _, tt := range tests {
		n := next()
		code, msg, data := post(t, s, "f0401_custom", record(n, tt.edit), nil)
		switch {
		case tt.want == "" && code != 0:
			t.Errorf("%s: code %d %s", tt.name, code, msg)
		case tt.want == "" && !strings.Contains(string(data), `"qrcode_left"`):
			t.Errorf("%s: answer %s", tt.name, data)
		case tt.want != "" && (code != 99 || !strings.Contains(msg, tt.want) || !strings.Contains(msg, "第1筆")):
			t.Errorf("%s: code %d %q, want 99 with %q", tt.name, code, msg, tt.want)
		}
	}
	// Outside the leased range, and the same number twice.
	if code, msg, _ := post(t, s, "f0401_custom", record("ZZ10000100", nil), nil); code != 99 || !strings.Contains(msg, "號碼不在字軌起訖內") {
		t.Errorf("outside: %d %s", code, msg)
	}
	if code, msg, _ := post(t, s, "f0401_custom", record("ZZ10000001", func(r map[string]any) { r["order_id"] = "other" }), nil); code != 99 || !strings.Contains(msg, "已存在開立") {
		t.Errorf("twice: %d %s", code, msg)
	}
	if n := len(s.Invoices()); n != 1 {
		t.Fatalf("%d invoices kept, want 1", n)
	}
	// Voids and allowances follow their invoice.
	if code, _, _ := post(t, s, "f0501", `[{"CancelInvoiceNumber":"ZZ10000002"}]`, nil); code != 3050125 {
		t.Errorf("void before the invoice: %d", code)
	}
	allowance := func(typ int) string {
		return fmt.Sprintf(`[{"AllowanceNumber":"A1","AllowanceDate":"%s","AllowanceType":%d,"BuyerIdentifier":"0000000000","BuyerName":"消費者",
		"ProductItem":[{"OriginalInvoiceNumber":"ZZ10000001","OriginalInvoiceDate":"%s","OriginalDescription":"咖啡","Quantity":1,"UnitPrice":20,"Amount":20,"Tax":1,"TaxType":1}],
		"TaxAmount":1,"TotalAmount":20}]`, time.Now().In(posagent.Taipei).Format("20060102"), typ, time.Now().In(posagent.Taipei).Format("20060102"))
	}
	if code, _, _ := post(t, s, "g0401", allowance(1), nil); code != 4040145 {
		t.Errorf("AllowanceType 1: %d", code)
	}
	if code, msg, _ := post(t, s, "g0401", allowance(2), nil); code != 0 {
		t.Errorf("allowance: %d %s", code, msg)
	}
	if code, _, _ := post(t, s, "f0501", `[{"CancelInvoiceNumber":"ZZ10000001"}]`, nil); code != 3050141 {
		t.Errorf("void after an allowance: %d", code)
	}
	if code, _, _ := post(t, s, "f0501", `[{"CancelInvoiceNumber":"ZZ10000001","CancelReason":"一二三四五六七八九十一二三四五六七八九十一"}]`, nil); code != 3050113 {
		t.Errorf("long reason: %d", code)
	}
}
