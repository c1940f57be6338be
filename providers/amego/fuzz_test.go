package amego

import (
	"encoding/json"
	"testing"

	"github.com/posagent/posagent"
)

// FuzzDecodeAnswer: any answer body decodes to data or to an error of a known
// kind, never a panic; success carries code 0 only.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"msg":"","data":[{"invoice_number":"ZZ10000000","barcode":"11512ZZ100000004321","qrcode_left":"x","qrcode_right":"**"}]}`,
		`{"code":"0","msg":""}`, `{"code":"99","msg":"第1筆 發票號碼AA00000010 指定發票號碼 已存在開立"}`,
		`{"code":3050122,"msg":"已作廢"}`, `{"code":21}`, `{"code":null}`, `{"code":1.5}`, `{"code":"x"}`,
		`{"timestamp":1781654751}`, `<html>502</html>`, ``, `[]`, `{"code":0,"msg":5,"data":{"code":"EE","start":"00006850","end":"00006899"}}`,
	} {
		f.Add([]byte(s))
	}
	known := map[posagent.Kind]bool{posagent.KindTransient: true, posagent.KindRateLimited: true, posagent.KindClock: true,
		posagent.KindConfig: true, posagent.KindInvalid: true, posagent.KindDuplicate: true, posagent.KindConflict: true,
		posagent.KindExhausted: true, posagent.KindNotFound: true}
	f.Fuzz(func(t *testing.T, raw []byte) {
		data, err := decodeAnswer("f0401_custom", raw)
		if err != nil {
			if !known[posagent.ErrorKind(err)] {
				t.Fatalf("kind %q for %q", posagent.ErrorKind(err), raw)
			}
			_ = err.Error()
			return
		}
		var env struct {
			Code json.RawMessage `json:"code"`
		}
		if json.Unmarshal(raw, &env) != nil {
			t.Fatalf("success for a body that is not JSON: %q", raw)
		}
		var codes []Codes
		_ = json.Unmarshal(data, &codes)
		for _, c := range codes {
			verificationField(c.Left)
		}
	})
}

// FuzzTrackLeft: any track_status line gives a count of numbers left within
// the range, never a panic.
func FuzzTrackLeft(f *testing.F) {
	f.Add("EE", "00006850", "00006899", "00006860")
	f.Add("ZZ", "10000000", "10000049", "")
	f.Add("ZZ", "x", "-1", "99999999")
	f.Fuzz(func(t *testing.T, code, start, end, now string) {
		tr := Track{Code: code, Start: start, End: end, Now: now}
		left := tr.Left()
		if left < 0 {
			t.Fatalf("left %d", left)
		}
		if b, err := tr.Booklet(posagent.Period{Year: 115, EvenMonth: 12}); err == nil && left > b.Count() {
			t.Fatalf("left %d of %d", left, b.Count())
		}
	})
}
