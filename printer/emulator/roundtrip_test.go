package emulator_test

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/emulator"
	"github.com/posagent/posagent/qr"
)

// receiptsDir holds the print layout's golden cases: <case>.json and
// <case>.<profile>.bin.
const receiptsDir = "../../testdata/receipts"

// testKey is the shared test QR AES key (MOF vector a) the goldens use.
const testKey = "F1A618ED8685B1A3B81E6CB6884617F4"

// MOF minimums at 203 dpi (8 dots/mm): coded area ≥ 1.5 cm, quiet zone
// ≥ 0.2 cm, left symbol at least version 6; title, period and number at
// least 5 mm.
const (
	minQRDots    = 120
	minQuietDots = 16
	minLeftQRVer = 6
	minTitleDots = 40
)

// knownLayoutIssues are the MOF rules the print layout's golden output
// breaks on the emulated printer, reported to the layout and not yet
// fixed. The test requires exactly these, so that a fix or a new break
// shows at once.
//
// None now: on 58mm-page the layout stores the QR texts natively only when
// every encoder model (one byte segment, or mixed numeric/alphanumeric/byte
// segments as the emulator's go-qrcode does) draws both at one version of at
// least 6, and draws them on the host otherwise (qr.Codes.NativeSafe).
var knownLayoutIssues = map[string][]string{}

// TestRoundTripGoldenReceipts renders every golden .bin as the printer
// would, then reads it back like a customer's phone: the two QR codes and
// the Code 39 must decode to exactly what qr.Encode makes of the invoice,
// and the symbols must meet the MOF's size and placement rules.
func TestRoundTripGoldenReceipts(t *testing.T) {
	bins, err := filepath.Glob(filepath.Join(receiptsDir, "*.bin"))
	require.NoError(t, err)
	sort.Strings(bins)
	require.GreaterOrEqual(t, len(bins), 10, "golden receipts in %s", receiptsDir)
	key, err := qr.ParseKey(testKey)
	require.NoError(t, err)
	for _, bin := range bins {
		base := strings.TrimSuffix(filepath.Base(bin), ".bin")
		caseName, profileName, ok := strings.Cut(base, ".")
		require.True(t, ok, "%s: want <case>.<profile>.bin", bin)
		t.Run(base, func(t *testing.T) {
			profile, err := printer.LookupProfile(profileName)
			require.NoError(t, err)
			data, err := os.ReadFile(filepath.Join(receiptsDir, caseName+".json"))
			require.NoError(t, err)
			inv, err := posagent.DecodeInvoice(data)
			require.NoError(t, err)
			stream, err := os.ReadFile(bin)
			require.NoError(t, err)

			res, err := emulator.Render(stream, emulator.Options{Width: profile.Dots})
			require.NoError(t, err)
			if *writePNG {
				savePNG(t, res, base)
			}
			require.Empty(t, res.Problems, "the printer would not print this stream as meant")
			img := res.Image
			boxes, texts := qrSymbols(t, img)
			barcode, barErr := decodeCode39(t, img)
			if !inv.Print {
				// Kept in a carrier or donated: no proof, nothing to scan.
				require.Empty(t, boxes, "QR codes on a receipt without a proof")
				require.Error(t, barErr, "a barcode on a receipt without a proof")
				return
			}

			// What the layout must have printed, computed independently:
			// the printer's profile sets the largest version and whether
			// the right text is padded (native QR picks its own version);
			// a page-mode profile draws codes no padding makes safe for
			// every encoder on the host, unpadded.
			opt := qr.DefaultOptions()
			opt.MaxVersion = profile.MaxQRVersion
			opt.PadRight = profile.QR == printer.QRPage
			codes, err := qr.Encode(inv, key, opt)
			require.NoError(t, err)
			if opt.PadRight && !codes.NativeSafe() {
				opt.PadRight = false
				codes, err = qr.Encode(inv, key, opt)
				require.NoError(t, err)
			}

			require.NoError(t, barErr, "Code 39")
			require.Equal(t, codes.Barcode, barcode)
			require.Len(t, boxes, 2, "two QR symbols")
			left, right := boxes[0], boxes[1]
			if left.Min.X > right.Min.X {
				left, right = right, left
				texts[0], texts[1] = texts[1], texts[0]
			}
			require.Equal(t, codes.Left, texts[0], "left QR")
			require.Equal(t, codes.Right, texts[1], "right QR")

			var violations []string
			violate := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
			if left.Size() != right.Size() {
				violate("QR sizes differ: left %d, right %d dots", left.Dx(), right.Dx())
			}
			if left.Min.Y != right.Min.Y {
				violate("QR tops not aligned: left at y=%d, right at y=%d", left.Min.Y, right.Min.Y)
			}
			for i, b := range []image.Rectangle{left, right} {
				side := [2]string{"left", "right"}[i]
				if b.Dx() < minQRDots {
					violate("%s QR coded area %d dots < %d (15 mm)", side, b.Dx(), minQRDots)
				}
				if !b.Inset(-minQuietDots).In(img.Bounds()) || countBlack(img, b) != countBlack(img, b.Inset(-minQuietDots)) {
					violate("%s QR quiet zone < %d dots", side, minQuietDots)
				}
			}
			module := finderModule(img, left)
			version := (left.Dx()/module - 17) / 4
			require.Equal(t, left.Dx(), (17+4*version)*module, "left symbol: whole modules")
			if version < minLeftQRVer {
				violate("left QR version %d < %d (%d dots at %d dots/module)", version, minLeftQRVer, left.Dx(), module)
			}
			rows := proofRows(img, left.Min.Y)
			require.Len(t, rows, 3, "title, period and number rows")
			// Latin capitals and digits fill 3/4 of a Font A cell (18 of
			// 24 dots): the number row's cell is its ink height × 4/3.
			for i, h := range []int{rows[0].Dy(), rows[1].Dy(), rows[2].Dy() * 4 / 3} {
				if h < minTitleDots {
					violate("%s row %d dots < %d (5 mm)", [3]string{"title", "period", "number"}[i], h, minTitleDots)
				}
			}
			require.Equal(t, knownLayoutIssues[base], violations,
				"MOF rules broken by the printed proof (knownLayoutIssues lists those reported and not yet fixed)")
		})
	}
}

// finderModule measures the module size from the top-left finder pattern:
// its top row is a run of 7 black modules.
func finderModule(img *image.Gray, sym image.Rectangle) int {
	n := 0
	for x := sym.Min.X; x < sym.Max.X && black(img, x, sym.Min.Y); x++ {
		n++
	}
	return max(1, n/7)
}

// proofRows returns the ink boxes of the title, period and number: the
// last three tall text rows (double height) in the run of tall rows at the
// top of the proof, above the symbols.
func proofRows(img *image.Gray, above int) []image.Rectangle {
	var bands []image.Rectangle
	in := false
	for y := 0; y < above; y++ {
		row := blackBox(img, image.Rect(0, y, img.Bounds().Dx(), y+1))
		switch {
		case !row.Empty() && !in:
			bands = append(bands, row)
			in = true
		case !row.Empty():
			bands[len(bands)-1] = bands[len(bands)-1].Union(row)
		default:
			in = false
		}
	}
	// The title, period and number are the first three tall (double
	// height) rows followed by a single-height one (the date); a logo or
	// the seller's name may stand above them.
	tall := func(b image.Rectangle) bool { return b.Dy() > 30 }
	for j := 0; j+3 < len(bands); j++ {
		if tall(bands[j]) && tall(bands[j+1]) && tall(bands[j+2]) && !tall(bands[j+3]) {
			return bands[j : j+3]
		}
	}
	return nil
}

// The raster Code 39 option on a profile that otherwise sends GS k (a
// 58mm-page printer without it): the bars posagent draws decode to the
// invoice's barcode from the emulator's picture, and GS k is not sent.
func TestRasterCode39OnAPageModeProfile(t *testing.T) {
	key, err := qr.ParseKey(testKey)
	require.NoError(t, err)
	for _, name := range []string{"consumer", "business"} {
		t.Run(name, func(t *testing.T) {
			base, err := printer.LookupProfile("58mm-page")
			require.NoError(t, err)
			profile, err := base.WithCode39(printer.Code39Raster)
			require.NoError(t, err)
			data, err := os.ReadFile(filepath.Join(receiptsDir, name+".json"))
			require.NoError(t, err)
			inv, err := posagent.DecodeInvoice(data)
			require.NoError(t, err)
			r, err := printer.RenderReceipt(inv, profile, printer.RenderOptions{Key: key})
			require.NoError(t, err)
			require.NotContains(t, string(r.Bytes), "\x1dk", "GS k sent by a raster profile")
			res, err := emulator.Render(r.Bytes, emulator.Options{Width: profile.Dots})
			require.NoError(t, err)
			require.Empty(t, res.Problems)
			got, err := decodeCode39(t, res.Image)
			require.NoError(t, err)
			require.Equal(t, r.Codes.Barcode, got)
		})
	}
}
