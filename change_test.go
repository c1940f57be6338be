package posagent_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

func issued(t *testing.T) posagent.Invoice {
	t.Helper()
	inv, err := posagent.DecodeInvoice([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestVoidValidate(t *testing.T) {
	at := time.Date(2025, 9, 15, 10, 0, 0, 0, posagent.Taipei)
	ok := posagent.Void{Number: "AB11223344", VoidedAt: at, Reason: "客戶退貨"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		v     posagent.Void
		field string
	}{
		{posagent.Void{Number: "AB1", VoidedAt: at, Reason: "x"}, "number"},
		{posagent.Void{Number: "AB11223344", Reason: "x"}, "voided_at"},
		{posagent.Void{Number: "AB11223344", VoidedAt: at}, "reason"},
		{posagent.Void{Number: "AB11223344", VoidedAt: at, Reason: strings.Repeat("因", 21)}, "reason"},
	} {
		if got := posagent.ErrorField(tt.v.Validate()); got != tt.field {
			t.Errorf("%+v: field %q, want %q", tt.v, got, tt.field)
		}
	}
}

func TestAllowanceValidate(t *testing.T) {
	inv := issued(t)
	later := inv.IssuedAt.Add(24 * time.Hour)
	good := posagent.Allowance{
		Number: "AL0001", InvoiceNumber: inv.Number, IssuedAt: later,
		Items: []posagent.Item{item("口罩", "1", "210")}, Total: 210, TaxAmount: posagent.AllowanceTax(inv, 210),
	}
	if err := good.Validate(inv, inv.Total); err != nil {
		t.Fatal(err)
	}
	if got := good.TaxAmount; got != 10 {
		t.Errorf("AllowanceTax(210) = %d, want 10", got)
	}
	mod := func(f func(*posagent.Allowance)) posagent.Allowance {
		a := good
		a.Items = append([]posagent.Item(nil), good.Items...)
		f(&a)
		return a
	}
	for _, tt := range []struct {
		name      string
		a         posagent.Allowance
		remaining int64
		field     string
	}{
		{"more than left", good, 200, "total"},
		{"total not the sum", mod(func(a *posagent.Allowance) { a.Total = 100 }), 340, "total"},
		{"no number", mod(func(a *posagent.Allowance) { a.Number = "" }), 340, "number"},
		{"number too long", mod(func(a *posagent.Allowance) { a.Number = strings.Repeat("A", 17) }), 340, "number"},
		{"other invoice", mod(func(a *posagent.Allowance) { a.InvoiceNumber = "AB00000000" }), 340, "invoice_number"},
		{"before invoice", mod(func(a *posagent.Allowance) { a.IssuedAt = inv.IssuedAt.Add(-time.Hour) }), 340, "issued_at"},
		{"no lines", mod(func(a *posagent.Allowance) { a.Items = nil }), 340, "items"},
		{"negative line", mod(func(a *posagent.Allowance) { a.Items[0] = item("x", "1", "-5"); a.Total = -5 }), 340, "items[0].amount"},
		{"bad line", mod(func(a *posagent.Allowance) { a.Items[0].Name = "" }), 340, "items[0].name"},
		{"tax above total", mod(func(a *posagent.Allowance) { a.TaxAmount = 211 }), 340, "tax_amount"},
	} {
		err := tt.a.Validate(inv, tt.remaining)
		if got := posagent.ErrorField(err); got != tt.field || !posagent.IsKind(err, posagent.KindInvalid) {
			t.Errorf("%s: %v (field %q), want invalid %q", tt.name, err, got, tt.field)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	base := posagent.Invalid("items[0].name", "is required")
	wrapped := fmt.Errorf("sell: %w", base)
	if got := posagent.ErrorKind(wrapped); got != posagent.KindInvalid {
		t.Errorf("kind through wrapping = %q", got)
	}
	if got := posagent.ErrorField(wrapped); got != "items[0].name" {
		t.Errorf("field through wrapping = %q", got)
	}
	if got := wrapped.Error(); got != "sell: items[0].name: is required" {
		t.Errorf("message = %q", got)
	}
	if got := posagent.ErrorKind(errors.New("disk on fire")); got != posagent.KindInternal {
		t.Errorf("plain error kind = %q", got)
	}
	if got := posagent.ErrorKind(nil); got != "" {
		t.Errorf("nil kind = %q", got)
	}
	cause := errors.New("connection reset")
	e := &posagent.Error{Kind: posagent.KindTransient, Message: "upload AB11223344", Err: cause}
	if !errors.Is(e, cause) || e.Error() != "upload AB11223344: connection reset" {
		t.Errorf("unwrap/message: %v", e)
	}
}
