package qr_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// Runes for random item names: ASCII, colons (which the codes must replace),
// '*' (as the right code's mark), CJK in Big5, and runes Big5 lacks.
var nameRunes = []rune("abcXYZ019 -.*/:：乾電池口罩牛奶咖啡茶長滷肉飯鹹酥雞珍珠奶茶😀ฏé€")

func randomName(r *rand.Rand) string {
	n := 1 + r.IntN(12)
	if r.IntN(10) == 0 {
		n = 1 + r.IntN(100)
	}
	var b strings.Builder
	for range n {
		b.WriteRune(nameRunes[r.IntN(len(nameRunes))])
	}
	return b.String()
}

func randomDecimal(r *rand.Rand, negative bool) posagent.Decimal {
	s := fmt.Sprint(r.IntN(5000))
	if places := r.IntN(4); places > 0 {
		s += "." + fmt.Sprintf("%0*d", places, r.IntN(1_000))[:places]
	}
	if negative && r.IntN(6) == 0 {
		s = "-" + s
	}
	return posagent.MustDecimal(s)
}

func randomInvoice(r *rand.Rand) posagent.Invoice {
	zones := []*time.Location{time.UTC, posagent.Taipei, time.FixedZone("X", -11*3600)}
	inv := posagent.Invoice{
		Number:     posagent.InvoiceNumber(fmt.Sprintf("%c%c%08d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(100_000_000))),
		RandomCode: fmt.Sprintf("%04d", r.IntN(10_000)),
		IssuedAt:   time.Unix(1_330_000_000+r.Int64N(1_000_000_000), 0).In(zones[r.IntN(len(zones))]),
		Seller:     posagent.Seller{TaxID: fmt.Sprintf("%08d", r.IntN(100_000_000))},
		Total:      1 + r.Int64N(0xFFFFFFFF),
	}
	inv.SalesAmount = r.Int64N(inv.Total + 1)
	if r.IntN(2) == 0 {
		inv.Buyer.TaxID = fmt.Sprintf("%08d", r.IntN(100_000_000))
	}
	n := r.IntN(8)
	if r.IntN(5) == 0 {
		n = r.IntN(120)
	}
	for range n {
		q := randomDecimal(r, false)
		if q.IsZero() {
			q = posagent.MustDecimal("1")
		}
		inv.Items = append(inv.Items, posagent.Item{Name: randomName(r), Quantity: q, UnitPrice: randomDecimal(r, true)})
	}
	return inv
}

func randomOptions(r *rand.Rand) qr.Options {
	opt := qr.Options{
		Encoding:   encodings[r.IntN(3)],
		MaxVersion: []int{0, 6, 7, 8, 9, 10, 12, 16, 25, 40}[r.IntN(10)],
		PadRight:   r.IntN(2) == 0,
	}
	if r.IntN(3) == 0 {
		opt.SellerArea = fmt.Sprintf("T%09d", r.IntN(1_000_000_000))
	}
	return opt
}

// Random valid invoices round-trip: encode, decode (from the texts and from
// the symbol bytes), verify with the key and not with another.
func TestPropertyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 14))
	key, other := qr.DeriveKey("round trip"), qr.DeriveKey("another shop")
	for i := range 400 {
		inv, opt := randomInvoice(r), randomOptions(r)
		c, err := qr.Encode(inv, key, opt)
		require.NoError(t, err, "case %d", i)
		checkCodes(t, inv, opt, c)

		f, err := qr.Decode(c.Left, c.Right)
		require.NoError(t, err, "case %d\nleft  %q\nright %q", i, c.Left, c.Right)
		fb, err := qr.DecodeBytes(c.LeftBytes(), c.RightBytes())
		require.NoError(t, err, "case %d", i)
		require.Equal(t, f.Items, fb.Items)

		y, m, d := inv.IssuedAt.In(posagent.Taipei).Date()
		require.Equal(t, inv.Number, f.Number)
		require.True(t, f.Date.Equal(time.Date(y, m, d, 0, 0, 0, 0, posagent.Taipei)), "case %d: %v", i, f.Date)
		require.Equal(t, inv.RandomCode, f.RandomCode)
		require.Equal(t, inv.SalesAmount, f.SalesAmount)
		require.Equal(t, inv.Total, f.Total)
		buyer := inv.Buyer.TaxID
		if buyer == "" {
			buyer = posagent.ConsumerTaxID
		}
		require.Equal(t, buyer, f.BuyerTaxID)
		require.Equal(t, inv.Seller.TaxID, f.SellerTaxID)
		area := opt.SellerArea
		if area == "" {
			area = qr.DefaultSellerArea
		}
		require.Equal(t, area, f.SellerArea)
		require.Equal(t, opt.Encoding, f.Encoding)
		require.Equal(t, c.ItemsRecorded, f.ItemsRecorded)
		require.Equal(t, len(inv.Items), f.ItemsTotal)
		require.Len(t, f.Items, c.ItemsRecorded)
		for j, it := range f.Items {
			want := inv.Items[j]
			require.Equal(t, safeName(want.Name, opt.Encoding), it.Name, "case %d item %d", i, j)
			require.True(t, want.Quantity.Equal(it.Quantity), "case %d item %d quantity %s != %s", i, j, it.Quantity, want.Quantity)
			require.True(t, want.UnitPrice.Equal(it.UnitPrice), "case %d item %d price", i, j)
		}
		require.Empty(t, f.Remark)
		require.Equal(t, c.Barcode, f.Barcode())
		require.NoError(t, f.Verify(key))
		require.Error(t, f.Verify(other))
	}
}
