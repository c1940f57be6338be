package printer_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	goqrcode "github.com/skip2/go-qrcode"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

// TestNativeQRSameVersion reads what a page-mode receipt asks of the printer:
// either two native symbols whose stored bytes every encoder draws at one
// version of at least 6 (one byte-mode segment, the optimal mixed split and
// go-qrcode, the emulator's encoder, all agree), or no native QR at all and
// the host's raster band, and then only when no number of trailing spaces on
// the right could have made native symbols safe. It covers every golden case
// with a proof, its last item name lengthened step by step, in UTF-8 and Big5.
func TestNativeQRSameVersion(t *testing.T) {
	p, err := printer.LookupProfile("58mm-page")
	if err != nil {
		t.Fatal(err)
	}
	native, raster := 0, 0
	for _, c := range loadCases(t) {
		if !c.inv.Print {
			continue
		}
		// A longer last item name sweeps the texts across the versions.
		for k := 0; k <= 24; k++ {
			for _, enc := range []qr.Encoding{qr.UTF8, qr.Big5} {
				v := c
				v.inv.Items = slices.Clone(c.inv.Items)
				last := &v.inv.Items[len(v.inv.Items)-1]
				last.Name += strings.Repeat("號A1", k)
				v.opt.QR = &qr.Options{Encoding: enc}
				v.name = fmt.Sprintf("%s/+%d/%s", c.name, k, enc)
				if checkNativeOrRaster(t, v, p) {
					native++
				} else {
					raster++
				}
			}
		}
	}
	t.Logf("58mm-page: %d receipts with native QR codes, %d with the raster band", native, raster)
	if native == 0 || raster == 0 {
		t.Errorf("%d native and %d raster receipts: the cases no longer exercise both", native, raster)
	}
}

// checkNativeOrRaster checks one receipt and says whether it went native.
func checkNativeOrRaster(t *testing.T, c receiptCase, p printer.Profile) bool {
	t.Helper()
	r := renderCase(t, c, p)
	var payloads [][]byte
	nativeCmds, pageCmds := 0, 0
	for _, cmd := range escpos.Disassemble(r.Bytes) {
		switch {
		case cmd.Name == "GS ( k 180":
			payloads = append(payloads, cmd.Raw[8:])
		case cmd.Name == "ESC L":
			pageCmds++
		}
		if strings.HasPrefix(cmd.Name, "GS ( k") {
			nativeCmds++
		}
	}
	if len(payloads) > 0 {
		if len(payloads) != 2 {
			t.Fatalf("%s: %d native symbols, want 2", c.name, len(payloads))
		}
		var versions [2][3]int
		for i, data := range payloads {
			g, err := goqrcode.New(string(data), goqrcode.Low)
			if err != nil {
				t.Fatalf("%s: go-qrcode: %v", c.name, err)
			}
			versions[i] = [3]int{qr.VersionBytes(data), qr.VersionMixed(data), g.VersionNumber}
		}
		v := versions[0][0]
		for _, side := range versions {
			for _, got := range side {
				if got != v || v < qr.MinVersion {
					t.Fatalf("%s: native symbols at versions (byte, mixed, go-qrcode) left %v right %v: want one version ≥ %d",
						c.name, versions[0], versions[1], qr.MinVersion)
				}
			}
		}
		if r.QR != printer.QRPage || v != r.Codes.Version {
			t.Errorf("%s: native symbols at version %d, receipt says %s at version %d", c.name, v, r.QR, r.Codes.Version)
		}
		return true
	}

	if nativeCmds != 0 || pageCmds != 0 || r.QR != printer.QRRaster {
		t.Fatalf("%s: no native symbol, yet %d GS ( k and %d ESC L commands, QR mode %q", c.name, nativeCmds, pageCmds, r.QR)
	}
	bands := rasterBands(t, r.Bytes, p.Dots)
	if len(bands) == 0 {
		t.Fatalf("%s: neither native symbols nor a raster band", c.name)
	}
	if c.opt.QR == nil || c.opt.QR.Encoding != qr.Big5 {
		// The decoder reads Big5 bytes as Latin-1: compare UTF-8 texts only.
		checkQRBand(t, bands[len(bands)-1], p, r.Codes)
	}
	if strings.HasSuffix(r.Codes.Right, " ") {
		t.Errorf("%s: the raster band's right text %q is padded", c.name, r.Codes.Right)
	}
	// The fallback is needed: the left is not at one version ≥ 6 under both
	// models, or no padding brings the right there.
	left := r.Codes.LeftBytes()
	lv := qr.VersionBytes(left)
	if lv < qr.MinVersion || qr.VersionMixed(left) != lv || lv != r.Codes.Version {
		return false
	}
	right := r.Codes.RightBytes()
	for n := 0; len(right)+n <= qr.Capacity(lv); n++ {
		padded := append(bytes.Clone(right), bytes.Repeat([]byte{' '}, n)...)
		if qr.VersionBytes(padded) == lv && qr.VersionMixed(padded) == lv {
			t.Fatalf("%s: raster band, though %d spaces put the right at the left's version %d under both models", c.name, n, lv)
		}
	}
	return false
}
