package qr_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"github.com/stretchr/testify/require"
	"rsc.io/qr/coding"

	"github.com/posagent/posagent/qr"
)

// randomSymbolText mixes runs of digits, upper-case letters and spaces
// (numeric and alphanumeric mode), lower-case letters, Base64 and Chinese
// (byte mode), as the QR texts do, in runs of random length.
func randomSymbolText(r *rand.Rand, n int) []byte {
	alphabets := []string{"0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:", "abcdef0123456789", "abcxyz+/=", " ", "*"}
	chinese := []string{"乾電池", "口罩", "牛奶", "：", "咖啡"}
	var b []byte
	for len(b) < n {
		run := 1 + r.IntN(1+r.IntN(40))
		if r.IntN(6) == 0 {
			for range run / 3 {
				b = append(b, chinese[r.IntN(len(chinese))]...)
			}
			continue
		}
		a := alphabets[r.IntN(len(alphabets))]
		for range run {
			b = append(b, a[r.IntN(len(a))])
		}
	}
	return b[:n]
}

// goQRCodeVersion is the version skip2/go-qrcode, the emulator's encoder,
// draws data at, level L.
func goQRCodeVersion(t testing.TB, data []byte) int {
	t.Helper()
	q, err := qrcode.New(string(data), qrcode.Low)
	require.NoError(t, err)
	return q.VersionNumber
}

// The two models bound the encoder the emulator uses: over random texts of
// every length a symbol of the proof can have (and beyond), go-qrcode's
// version lies between Mixed and Bytes, and the Mixed model is not loose.
func TestPredictBoundsGoQRCode(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2026))
	const texts = 3000
	onMixed, apart := 0, 0
	for i := range texts {
		n := 1 + r.IntN(400)
		if i%10 == 0 {
			n = 1 + r.IntN(qr.Capacity(qr.MaxQRVersion))
		}
		data := randomSymbolText(r, n)
		p := qr.Predict(data)
		got := goQRCodeVersion(t, data)
		require.Equal(t, qr.SmallestVersion(len(data)), p.Bytes)
		require.LessOrEqual(t, p.Mixed, got, "%q: mixed model above go-qrcode", data)
		require.LessOrEqual(t, got, p.Bytes, "%q: go-qrcode above the byte model", data)
		if p.Certain() {
			require.Equal(t, p.Bytes, got, "%q: both models agree, go-qrcode not", data)
		}
		if got == p.Mixed {
			onMixed++
		}
		if !p.Certain() {
			apart++
		}
	}
	t.Logf("go-qrcode on the mixed model's version for %d of %d texts; the models differ on %d", onMixed, texts, apart)
	// go-qrcode's merging is greedy, so it may lose to the optimum now and
	// then; most of the time it finds it.
	require.Greater(t, onMixed, texts*8/10)
	require.Greater(t, apart, texts/4, "the texts do not exercise mixed segments")
}

// The mixed model reproduces the capacities of ISO/IEC 18004 table 7 at
// level L for pure numeric and pure alphanumeric data, at the edges of the
// three ranges of character count widths.
func TestVersionMixedCapacities(t *testing.T) {
	for _, tc := range []struct {
		numeric, alnum, version int
	}{
		{41, 25, 1}, {77, 47, 2}, {255, 154, 5}, {322, 195, 6}, {370, 224, 7},
		{461, 279, 8}, {552, 335, 9}, {652, 395, 10}, {7089, 4296, 40},
	} {
		for _, c := range []struct {
			unit string
			n    int
		}{{"7", tc.numeric}, {"Z", tc.alnum}} {
			require.Equal(t, tc.version, qr.VersionMixed([]byte(strings.Repeat(c.unit, c.n))), "%d × %q", c.n, c.unit)
			next := tc.version + 1
			if next > qr.MaxQRVersion {
				next = 0
			}
			require.Equal(t, next, qr.VersionMixed([]byte(strings.Repeat(c.unit, c.n+1))), "%d × %q", c.n+1, c.unit)
		}
	}
	// One-mode data, which go-qrcode encodes as one segment, optimally: the
	// two agree at every length, across the count width changes at 10 and 27.
	for n := 1; n <= 7089; n += 37 {
		digits := []byte(strings.Repeat("7", n))
		require.Equal(t, goQRCodeVersion(t, digits), qr.VersionMixed(digits), "%d digits", n)
		if n <= 4296 {
			alnum := []byte(strings.Repeat("Z", n))
			require.Equal(t, goQRCodeVersion(t, alnum), qr.VersionMixed(alnum), "%d alphanumerics", n)
		}
	}
	// Byte data: the byte model exactly.
	for v := 1; v <= qr.MaxQRVersion; v++ {
		data := []byte(strings.Repeat("a", qr.Capacity(v)))
		require.Equal(t, qr.Prediction{Bytes: v, Mixed: v}, qr.Predict(data), "version %d", v)
	}
	require.Equal(t, 1, qr.VersionMixed(nil))
	require.Equal(t, 0, qr.VersionMixed(make([]byte, qr.Capacity(qr.MaxQRVersion)+1)))
}

// The MOF worked example's left text: its 51-digit run packs into a numeric
// segment, so an optimising printer draws the 111 bytes at version 5 where a
// byte-mode one draws version 6. This is the bug the page-mode profile had.
func TestPredictMOFExample(t *testing.T) {
	c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, qr.DefaultOptions())
	require.NoError(t, err)
	require.Len(t, c.LeftBytes(), 111)
	require.Equal(t, qr.Prediction{Bytes: 6, Mixed: 5}, qr.Predict(c.LeftBytes()))
	require.Equal(t, 5, goQRCodeVersion(t, c.LeftBytes()))
	require.False(t, qr.Predict(c.LeftBytes()).Certain())
	require.False(t, c.NativeSafe())
}

// With PadRight, the right is padded to the left's version under both models
// whenever some number of trailing spaces does that, with the fewest spaces
// that do; NativeSafe is true exactly then. Checked over random invoices
// against a search over every padding.
func TestPadRightBothModels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 31))
	key := qr.DeriveKey("padding")
	safe := 0
	for i := range 600 {
		inv, opt := randomInvoice(r), randomOptions(r)
		opt.PadRight = true
		c, err := qr.Encode(inv, key, opt)
		require.NoError(t, err, "case %d", i)
		left, right := c.LeftBytes(), c.RightBytes()
		bare := []byte(strings.TrimRight(string(right), " "))
		bothAt := func(data []byte, v int) bool {
			p := qr.Predict(data)
			return p.Bytes == v && p.Mixed == v
		}
		fewest := -1
		if bothAt(left, c.Version) && c.Version >= qr.MinVersion {
			for n := 0; len(bare)+n <= qr.Capacity(c.Version); n++ {
				if bothAt(append(bytes.Clone(bare), strings.Repeat(" ", n)...), c.Version) {
					fewest = n
					break
				}
			}
		}
		if fewest >= 0 {
			safe++
			require.True(t, c.NativeSafe(), "case %d: %d spaces would do", i, fewest)
			require.Len(t, right, len(bare)+fewest, "case %d: not the fewest spaces", i)
			require.Equal(t, c.Version, goQRCodeVersion(t, left), "case %d left", i)
			require.Equal(t, c.Version, goQRCodeVersion(t, right), "case %d right", i)
		} else {
			require.False(t, c.NativeSafe(), "case %d", i)
			// Still padded for a byte-mode encoder, as before.
			require.Equal(t, max(qr.VersionBytes(left), qr.VersionBytes(bare)), qr.VersionBytes(right), "case %d", i)
		}
	}
	t.Logf("%d of 600 codes safe for a printer that picks the version", safe)
	require.Greater(t, safe, 20, "too few codes a printer can be trusted with to test the padding")
	require.Less(t, safe, 580, "too few codes a printer cannot be trusted with")
}

func TestNativeSafeNeedsMinVersion(t *testing.T) {
	// Both texts at version 5 under every model: same size, but below 6.
	c := qr.Codes{Left: strings.Repeat("a", 100), Right: strings.Repeat("b", 100), Version: 5}
	require.False(t, c.NativeSafe())
	c = qr.Codes{Left: strings.Repeat("a", 120), Right: strings.Repeat("b", 120), Version: 6}
	require.True(t, c.NativeSafe())
	c.Right = strings.Repeat("b", 100) // version 5
	require.False(t, c.NativeSafe())
	c.Right = strings.Repeat("7", 120) // version 6 in byte mode, 2 as digits
	require.False(t, c.NativeSafe())
}

func BenchmarkPredict(b *testing.B) {
	c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, qr.DefaultOptions())
	require.NoError(b, err)
	data := c.LeftBytes()
	for b.Loop() {
		qr.Predict(data)
	}
}

func BenchmarkGoQRCodeVersion(b *testing.B) {
	c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, qr.DefaultOptions())
	require.NoError(b, err)
	data := c.LeftBytes()
	for b.Loop() {
		goQRCodeVersion(b, data)
	}
}

// FuzzPredict: for any bytes a symbol can hold, go-qrcode's version lies
// between the mixed and the byte model, and equals both when they agree.
func FuzzPredict(f *testing.F) {
	for _, seed := range []string{"0", "AB1122334411409149999", "**口罩:1:210:牛奶:1:25          ", "a1A 1a1A 1", "\x00\xff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Up to version 15: the proof never goes past 11, and go-qrcode takes
		// milliseconds per large symbol, which starves the fuzzer.
		if len(data) == 0 || len(data) > qr.Capacity(15) {
			return
		}
		p := qr.Predict(data)
		got := goQRCodeVersion(t, data)
		if got < p.Mixed || got > p.Bytes || (p.Certain() && got != p.Bytes) {
			t.Fatalf("%q: go-qrcode version %d, models %+v", data, got, p)
		}
	})
}

// TestFewestBits: at level L the smallest version FewestBits fits is
// VersionMixed's, for random texts and at every character-count width; and
// outside 1–40 it is 0.
func TestFewestBits(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 860))
	for range 300 {
		data := randomSymbolText(r, 1+r.IntN(600))
		want := qr.VersionMixed(data)
		got := 0
		for v := 1; v <= 40; v++ {
			if qr.FewestBits(data, v) <= 8*coding.Version(v).DataBytes(coding.L) {
				got = v
				break
			}
		}
		require.Equal(t, want, got, "%q", data)
	}
	// All digits: 10 bits per 3, after a 4-bit mode and a 10/12/14-bit count.
	digits := []byte(strings.Repeat("7", 30))
	require.Equal(t, 4+10+100, qr.FewestBits(digits, 9))
	require.Equal(t, 4+12+100, qr.FewestBits(digits, 10))
	require.Equal(t, 4+14+100, qr.FewestBits(digits, 27))
	require.Zero(t, qr.FewestBits(digits, 0))
	require.Zero(t, qr.FewestBits(digits, 41))
}
