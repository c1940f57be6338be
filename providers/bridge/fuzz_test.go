package bridge_test

import (
	"encoding/json"
	"testing"

	"github.com/posagent/posagent/providers/bridge"
)

// FuzzDecodeAnswer: the answer decoder never panics, and what it accepts is
// an answer that encodes back to JSON it accepts again, unchanged.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"message":"ok"}`, `{"provider_number":"W-1","booklets":[{"track":"ZZ","first":100,"last":149}]}`,
		`{"retry_after":30}`, `{"retry_after":-1}`, `{"x":1}`, `{}{}`, `[]`, `null`, `{"message":"\u0000長"}`, "  \n",
		`{"documents":[{"key":"invoice:24634102:11506:AB12345600","found":true,"amount":111,"acceptance":"accepted","detail":"C"}]}`,
		`{"documents":[{"key":"k","found":false,"voided":true,"acceptance":"maybe"}]}`, `{"documents":[{"found":true}]}`,
		`{"documents":[{"key":"k","amount":-1}]}`, `{"documents":[{"key":"k","amount":4294967296}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := bridge.DecodeAnswer(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bridge.DecodeAnswer(again)
		if err != nil {
			t.Fatalf("re-decode %s: %v", again, err)
		}
		if len(a.Booklets) != len(b.Booklets) || a.Message != b.Message || a.ProviderNumber != b.ProviderNumber || a.RetryAfter != b.RetryAfter ||
			len(a.Documents) != len(b.Documents) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}
