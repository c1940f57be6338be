package ecpay

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/posagent/posagent"
)

func TestTolerantDecoding(t *testing.T) {
	var v struct {
		A, B, C, D Int
		S, N, Z    Str
		L1, L2, L3 List[GovTrack]
		L4         List[GovTrack]
	}
	in := `{"A":1,"B":"2","C":"","D":"100.0","S":"x","N":12,"Z":null,
		"L1":[{"InvoiceTerm":"3","InvoiceHeader":"AB"}],
		"L2":"[{\"InvoiceTerm\":4}]","L3":"","L4":null}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	var edge struct{ A, B Int }
	if err := json.Unmarshal([]byte(`{"A":"9223372036854775807.000","B":-9223372036854775808}`), &edge); err != nil ||
		edge.A != math.MaxInt64 || edge.B != math.MinInt64 {
		t.Fatalf("int64 edges: %+v %v", edge, err)
	}
	if v.A != 1 || v.B != 2 || v.C != 0 || v.D != 100 || v.S != "x" || v.N != "12" || v.Z != "" {
		t.Fatalf("scalars %+v", v)
	}
	if len(v.L1) != 1 || v.L1[0].InvoiceTerm != 3 || len(v.L2) != 1 || v.L2[0].InvoiceTerm != 4 || v.L3 != nil || v.L4 != nil {
		t.Fatalf("lists %+v %+v %+v %+v", v.L1, v.L2, v.L3, v.L4)
	}
	// Amounts beyond int64, as a number, a decimal or an exponent, are refused,
	// never saturated or wrapped through a float.
	for _, bad := range []string{`{"A":"x"}`, `{"A":1.5}`, `{"S":true}`, `{"L1":"[1"}`, `{"L1":{}}`,
		`{"A":9223372036854775808}`, `{"A":"9223372036854775808.0"}`, `{"A":1e19}`, `{"A":"1e3"}`,
		`{"A":18446744073709551716}`, `{"A":"100."}`, `{"A":"-9223372036854775809.00"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestWholeBooklets(t *testing.T) {
	tests := []struct {
		start, end  int
		first, last int
		ok          bool
	}{
		{10000000, 10000049, 10000000, 10000049, true},
		{10000001, 10000120, 10000050, 10000099, true},
		{10000010, 10000040, 0, 0, false},
		{10000050, 10000149, 10000050, 10000149, true},
	}
	for _, tt := range tests {
		b, ok := wholeBooklets("AB", tt.start, tt.end, periodForTest)
		if ok != tt.ok || (ok && (b.First != tt.first || b.Last != tt.last)) {
			t.Errorf("wholeBooklets(%d, %d) = %+v, %v", tt.start, tt.end, b, ok)
		}
	}
}

var periodForTest = posagent.Period{Year: 115, EvenMonth: 4}
