package qr_test

import (
	"encoding/json"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// FuzzDecode: Decode never panics; what it rejects is a KindInvalid error
// naming a field; what it accepts, laid out again, decodes to the same fields.
func FuzzDecode(f *testing.F) {
	for _, seed := range [][2]string{
		{mofB5Left, mofRight},
		{mofU8Left, mofRight},
		{mofB64Left, mofB64Rgt},
		{mofU8Left, mofRight + ":remark"},
		{mofHead + ":**********:0:0:1", "**"},
		{mofHead + ":**********:1:1:1:乾電池:1:105:", ""},
		{headWith(21, "0000014A") + ":**********:1:2:2:", "**5Lm+6Zu75rGgOjE6MTA1"},
		{mofHead[:60], ""},
		{"", "**"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, left, right string) {
		_, _ = qr.DecodeBytes([]byte(left), []byte(right))
		fields, err := qr.Decode(left, right)
		if err != nil {
			if posagent.ErrorKind(err) != posagent.KindInvalid || posagent.ErrorField(err) == "" {
				t.Fatalf("error without kind invalid and a field: %v", err)
			}
			return
		}
		l2, r2 := qr.Relayout(fields)
		again, err := qr.Decode(l2, r2)
		if err != nil {
			t.Fatalf("decoded fields do not re-encode: %v\nleft  %q\nright %q", err, l2, r2)
		}
		a, _ := json.Marshal(fields)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("re-encoded fields differ:\n%s\n%s", a, b)
		}
	})
}
