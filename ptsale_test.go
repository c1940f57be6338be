package posagent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

const ptBase = `{"sale_id": "S-1", "items": [{"sku": "CAFE", "name": "Café", "quantity": 2, "unit_price": "0.81", "vat_rate": 23}]}`

func TestPTSaleRules(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, field string
		malformed             bool
	}{
		{"valid", "", "", "", false},
		{"no sale id", `"sale_id": "S-1"`, `"sale_id": ""`, "sale_id", false},
		{"sale id with a space", `"sale_id": "S-1"`, `"sale_id": "S 1"`, "sale_id", false},
		{"sale id too long", `"sale_id": "S-1"`, `"sale_id": "` + strings.Repeat("x", 65) + `"`, "sale_id", false},
		{"bad NIF", `"items"`, `"buyer": {"nif": "123456780"}, "items"`, "buyer.nif", false},
		{"name without NIF", `"items"`, `"buyer": {"name": "Ana"}, "items"`, "buyer.nif", false},
		{"final consumer NIF", `"items"`, `"buyer": {"nif": "999999990"}, "items"`, "", false},
		{"no items", `[{"sku": "CAFE", "name": "Café", "quantity": 2, "unit_price": "0.81", "vat_rate": 23}]`, `[]`, "items", false},
		{"no sku", `"sku": "CAFE"`, `"sku": " "`, "items[0].sku", false},
		{"control in name", `"name": "Café"`, `"name": "Ca\u0007fé"`, "items[0].name", false},
		{"zero quantity", `"quantity": 2`, `"quantity": 0`, "items[0].quantity", false},
		{"quantity 4 places", `"quantity": 2`, `"quantity": "1.2345"`, "items[0].quantity", false},
		{"quantity too big", `"quantity": 2`, `"quantity": 100000`, "items[0].quantity", false},
		{"negative price", `"unit_price": "0.81"`, `"unit_price": "-0.81"`, "items[0].unit_price", false},
		{"price in tenths of cents", `"unit_price": "0.81"`, `"unit_price": "0.815"`, "items[0].unit_price", false},
		{"price too big", `"unit_price": "0.81"`, `"unit_price": "1000000"`, "items[0].unit_price", false},
		{"negative rate", `"vat_rate": 23`, `"vat_rate": -23`, "items[0].vat_rate", false},
		{"rate of 100", `"vat_rate": 23`, `"vat_rate": 100`, "items[0].vat_rate", false},
		{"0 % without reason", `"vat_rate": 23`, `"vat_rate": 0`, "items[0].exemption", false},
		{"0 % with reason", `"vat_rate": 23`, `"vat_rate": 0, "exemption": "M07"`, "", false},
		{"reason on a taxed line", `"vat_rate": 23`, `"vat_rate": 23, "exemption": "M07"`, "items[0].exemption", false},
		{"reason lower case", `"vat_rate": 23`, `"vat_rate": 0, "exemption": "m07"`, "items[0].exemption", false},
		{"price as a float number is read exactly", `"unit_price": "0.81"`, `"unit_price": 0.81`, "", false},
		{"unknown key", `"sale_id"`, `"saleid": 1, "sale_id"`, "saleid", true},
		{"duplicate key", `"sale_id": "S-1"`, `"sale_id": "S-1", "sale_id": "S-2"`, "sale_id", true},
		{"string quantity word", `"quantity": 2`, `"quantity": "two"`, "items[0].quantity", false},
		{"price as bool", `"unit_price": "0.81"`, `"unit_price": true`, "items[0].unit_price", true},
		{"bad time", `"items"`, `"issued_at": "yesterday", "items"`, "issued_at", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(ptBase, tc.old, tc.new, 1)
			s, err := posagent.DecodePTSale([]byte(doc))
			if err == nil {
				err = s.Validate()
			}
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %s", doc)
			}
			if got := posagent.ErrorField(err); got != tc.field {
				t.Fatalf("field %q, want %q (%v)", got, tc.field, err)
			}
			if posagent.IsMalformed(err) != tc.malformed {
				t.Fatalf("malformed = %v, want %v (%v)", posagent.IsMalformed(err), tc.malformed, err)
			}
		})
	}
}

func TestPTSaleTotals(t *testing.T) {
	s, err := posagent.DecodePTSale([]byte(`{"sale_id": "T", "issued_at": "2026-12-04T10:00:00Z", "items": [
		{"sku": "A", "name": "a", "quantity": 3, "unit_price": "0.65", "vat_rate": 23},
		{"sku": "B", "name": "b", "quantity": "0.335", "unit_price": "12.99", "vat_rate": 6},
		{"sku": "C", "name": "c", "quantity": 1, "unit_price": "12.50", "vat_rate": 0, "exemption": "M07"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// 1.95 + 0.45 VAT; 4.35 (4.35165) + 0.26 VAT; 12.50.
	for i, want := range []string{"2.4", "4.61", "12.5"} {
		if got := s.Items[i].Gross(); !got.Equal(posagent.MustDecimal(want)) {
			t.Errorf("item %d gross %s, want %s", i, got, want)
		}
	}
	if got := s.Total(); got.Cents() != "19.51" {
		t.Errorf("total %s, want 19.51", got.Cents())
	}
	if !s.IssuedAt.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("issued_at %v", s.IssuedAt)
	}
}

func TestPTCancelMessage(t *testing.T) {
	for msg, ok := range map[string]bool{"Erro no preço": true, "": false, "  ": false, strings.Repeat("x", 201): false, "a\nb": false} {
		if err := posagent.CheckPTCancelMessage(msg); (err == nil) != ok {
			t.Errorf("%q: %v", msg, err)
		} else if err != nil && posagent.ErrorField(err) != "message" {
			t.Errorf("%q: field %q", msg, posagent.ErrorField(err))
		}
	}
}

func FuzzDecodePTSale(f *testing.F) {
	f.Add([]byte(ptBase))
	for _, seed := range []string{
		`{"sale_id":"x","buyer":{"nif":"501442600","name":"Empresa"},"items":[{"sku":"A","name":"a","quantity":"99999.999","unit_price":"999999.99","vat_rate":23}]}`,
		`{"sale_id":"x","items":[{"sku":"A","name":"a","quantity":1,"unit_price":"1e9999999","vat_rate":0,"exemption":"M99"}]}`,
		`{"sale_id":"x","items":[{"sku":"A","name":"a","quantity":1,"unit_price":1,"vat_rate":"23.00"}],"issued_at":"2026-12-04T10:00:00+00:00"}`,
		"{\"sale_id\":\"x\",\"items\":[{\"sku\":\"A\xff\",\"name\":\"a\",\"quantity\":1,\"unit_price\":1,\"vat_rate\":6}]}",
		`{"sale_id":"x","buyer":null,"items":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := posagent.DecodePTSale(data)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			if posagent.ErrorKind(err) != posagent.KindInvalid {
				t.Fatalf("error of kind %q: %v", posagent.ErrorKind(err), err)
			}
			return
		}
		// A valid sale is bounded: its total is within the limit and in cents.
		if s.Total().Cmp(posagent.MustDecimal("10000000")) > 0 || s.Total().Places() > 2 {
			t.Fatalf("total %s out of bounds", s.Total())
		}
		if s.Buyer != nil && s.Buyer.NIF != "" && !posagent.ValidNIF(s.Buyer.NIF) {
			t.Fatalf("invalid NIF %q accepted", s.Buyer.NIF)
		}
	})
}
