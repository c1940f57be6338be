package qr_test

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// This file is an independent oracle for the version and item rule: it
// enumerates every legal split by brute force, written apart from the
// package's planner.

// safeName is the name the codes must carry: ':' as '：', and in Big5 mode '？'
// for each rune that does not survive a Big5 round trip.
func safeName(name string, enc qr.Encoding) string {
	name = strings.ReplaceAll(name, ":", "：")
	if enc != qr.Big5 {
		return name
	}
	var b strings.Builder
	for _, r := range name {
		e, err := traditionalchinese.Big5.NewEncoder().String(string(r))
		if err == nil {
			if d, err := traditionalchinese.Big5.NewDecoder().String(e); err == nil && d == string(r) {
				b.WriteRune(r)
				continue
			}
		}
		b.WriteRune('？')
	}
	return b.String()
}

// tripleLens are the items' name:qty:price lengths in symbol bytes (Base64
// mode: in UTF-8, before Base64).
func tripleLens(t testing.TB, items []posagent.Item, enc qr.Encoding) []int {
	lens := make([]int, len(items))
	for i, it := range items {
		s := safeName(it.Name, enc) + ":" + it.Quantity.String() + ":" + it.UnitPrice.String()
		if enc == qr.Big5 {
			b, err := traditionalchinese.Big5.NewEncoder().String(s)
			require.NoError(t, err)
			lens[i] = len(b)
		} else {
			lens[i] = len(s)
		}
	}
	return lens
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// fitsSomeSplit reports whether the first n items fit a pair of symbols of the
// given capacity with any split the MOF allows.
func fitsSomeSplit(area string, total int, lens []int, n int, enc qr.Encoding, capacity int) bool {
	pre := 77 + 1 + len(area) + 1 + len(strconv.Itoa(n)) + 1 + len(strconv.Itoa(total)) + 2
	if n == 0 {
		return pre <= capacity
	}
	if enc == qr.Base64 {
		b := base64.StdEncoding.EncodedLen(sum(lens[:n]) + n - 1)
		for c := 0; c <= b; c += 4 {
			if pre+1+c <= capacity && 2+b-c <= capacity {
				return true
			}
		}
		return false
	}
	for k := 0; k <= n; k++ {
		left, right := pre+k+sum(lens[:k]), 2
		if k < n {
			left++
			right += sum(lens[k:n]) + n - k - 1
		}
		if left <= capacity && right <= capacity {
			return true
		}
	}
	return false
}

// checkCodes asserts everything the printer and the MOF rules need of codes
// made from inv with opt.
func checkCodes(t testing.TB, inv posagent.Invoice, opt qr.Options, c qr.Codes) {
	t.Helper()
	maxV := opt.MaxVersion
	if maxV == 0 {
		maxV = qr.DefaultMaxVersion
	}
	area := opt.SellerArea
	if area == "" {
		area = qr.DefaultSellerArea
	}
	lb, rb := c.LeftBytes(), c.RightBytes()
	require.GreaterOrEqual(t, c.Version, qr.MinVersion)
	require.LessOrEqual(t, c.Version, maxV)
	require.LessOrEqual(t, len(lb), qr.Capacity(c.Version), "left too long for version %d", c.Version)
	require.LessOrEqual(t, len(rb), qr.Capacity(c.Version), "right too long for version %d", c.Version)
	require.True(t, strings.HasPrefix(c.Right, "**"))

	// The printer draws both at c.Version with go-qrcode.
	for _, b := range [][]byte{lb, rb} {
		_, err := qrcode.NewWithForcedVersion(string(b), c.Version, qrcode.Low)
		require.NoError(t, err, "go-qrcode refuses %d bytes at version %d", len(b), c.Version)
	}

	lens := tripleLens(t, inv.Items, opt.Encoding)
	n := c.ItemsRecorded
	require.LessOrEqual(t, n, len(inv.Items))
	require.True(t, fitsSomeSplit(area, len(inv.Items), lens, n, opt.Encoding, qr.Capacity(c.Version)))
	if c.Version > qr.MinVersion {
		require.False(t, fitsSomeSplit(area, len(inv.Items), lens, n, opt.Encoding, qr.Capacity(c.Version-1)),
			"%d items also fit version %d: the version is not the smallest", n, c.Version-1)
	}
	if n < len(inv.Items) {
		require.False(t, fitsSomeSplit(area, len(inv.Items), lens, n+1, opt.Encoding, qr.Capacity(maxV)),
			"%d items fit version %d, but only %d were recorded", n+1, maxV, n)
	}

	trimmed := bytes.TrimRight(rb, " ")
	lv, rv := qr.SmallestVersion(len(lb)), qr.SmallestVersion(len(rb))
	if opt.PadRight {
		require.Equal(t, max(lv, qr.SmallestVersion(len(trimmed))), rv, "padded right is at version %d, left at %d", rv, lv)
	} else {
		require.Equal(t, len(trimmed), len(rb), "right padded without PadRight")
	}
}
