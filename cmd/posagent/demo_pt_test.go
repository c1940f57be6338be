package main

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

// scanPNG reads the one QR code of a receipt picture, as a phone would.
func scanPNG(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	require.NoError(t, err, "the QR on %s does not scan", path)
	return res.GetText()
}

// The Portuguese demo as the README walks through it: a sale online, one
// offline, back online, the receipts' QR codes scanned from the PNGs, the
// pt commands.
func TestPTDemoWalkthrough(t *testing.T) {
	t.Setenv("POSAGENT_ADDR", "")
	t.Setenv("POSAGENT_TOKEN", "")
	t.Setenv("POSAGENT_CONFIG", "")
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedWriter{}, &lockedWriter{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "--demo", "--regime", "pt", "--dir", dir, "--addr", addr},
			stdio{in: strings.NewReader(""), out: out, err: errs})
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			require.Equal(t, 0, code, "%s", errs.String())
		case <-time.After(30 * time.Second):
			t.Error("the demo did not stop")
		}
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "posagent demo (Portugal) is running") },
		60*time.Second, 10*time.Millisecond, "%s", errs.String())
	require.Contains(t, out.String(), "receipt "+filepath.Join(dir, "receipts", "0001.png"))
	cfg := filepath.Join(dir, "posagent.toml")
	pt := func(args ...string) (int, string, string) {
		t.Helper()
		return runOperator(t, "", append(args, "--config", cfg)...)
	}
	first := scanPNG(t, filepath.Join(dir, "receipts", "0001.png"))
	require.Contains(t, first, "*H:AAJFJ3VNTN-1*", "the first receipt's QR names its ATCUD")

	code, o, e := pt("sell", "../../testdata/sales/pt-cafe.json")
	require.Equal(t, 0, code, e)
	require.Contains(t, o, "not yet an invoice")
	require.Eventually(t, func() bool {
		_, o, _ := pt("pt", "show", "pt-cafe-1")
		return strings.Contains(o, "receipt    printed")
	}, 30*time.Second, 10*time.Millisecond)
	_, o, _ = pt("pt", "show", "pt-cafe-1")
	require.Contains(t, o, "ATCUD AAJFJ3VNTN-2")

	code, _, e = pt("demo", "provider", "down")
	require.Equal(t, 0, code, e)
	sale2 := filepath.Join(dir, "sale2.json")
	data, err := os.ReadFile("../../testdata/sales/pt-cafe.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(sale2, []byte(strings.ReplaceAll(string(data), "pt-cafe-1", "pt-cafe-2")), 0o600))
	code, o, e = pt("sell", sale2)
	require.Equal(t, 0, code, e)
	require.Contains(t, o, "pending")
	code, o, _ = pt("status")
	require.Contains(t, []int{0, 3}, code)
	require.Contains(t, o, "1 pending")
	code, _, e = pt("demo", "provider", "up")
	require.Equal(t, 0, code, e)
	require.Eventually(t, func() bool {
		_, o, _ := pt("pt", "show", "pt-cafe-2")
		return strings.Contains(o, "receipt    printed")
	}, 60*time.Second, 20*time.Millisecond)
	code, o, _ = pt("pt", "list")
	require.Equal(t, 0, code)
	require.Contains(t, o, "pt-cafe-2                issued")

	// The simulator writes each picture once the job is on its paper.
	third := filepath.Join(dir, "receipts", "0003.png")
	require.Eventually(t, func() bool { _, err := os.Stat(third); return err == nil }, 30*time.Second, 10*time.Millisecond)
	require.Contains(t, scanPNG(t, third), "*H:AAJFJ3VNTN-3*")

	code, o, _ = pt("pt", "reprint", "pt-cafe-1")
	require.Equal(t, 0, code)
	require.Contains(t, o, "2ª via")
	code, _, _ = pt("pt", "cancel", "pt-cafe-2")
	require.Equal(t, 2, code, "a cancel needs --message")
	code, o, e = pt("pt", "cancel", "pt-cafe-2", "--message", "Venda registada por engano")
	require.Equal(t, 0, code, e)
	require.Contains(t, o, "cancel     pending")
	code, o, e = pt("pt", "refund", "pt-cafe-1", "--refund-id", "pt-cafe-1-R", "--item", "PASTEL=1", "--item", "#0=2")
	require.Equal(t, 0, code, e)
	require.Contains(t, o, "credit_note pt-cafe-1-R")
	code, _, e = pt("pt", "refund", "pt-cafe-1", "--refund-id", "pt-cafe-1-R2", "--item", "PASTEL=3")
	require.NotEqual(t, 0, code)
	require.Contains(t, e, "items[0].quantity")
	require.Contains(t, e, "3 is more than the 2 left of PASTEL")
	code, _, e = pt("pt", "refund", "pt-cafe-1", "--refund-id", "pt-cafe-1-R2", "--item", "PASTEL")
	require.Equal(t, 2, code, e)
	code, o, e = pt("pt", "refund", "pt-cafe-1", "--refund-id", "pt-cafe-1-R2")
	require.Equal(t, 0, code, e)
	require.Contains(t, o, "credit_note pt-cafe-1-R2", "the rest: two PASTEL and the RASTREIO")
	code, o, _ = pt("pt", "taxes")
	require.Equal(t, 0, code)
	require.Contains(t, o, "IVA23")
}

func TestInitPortugal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pt.toml")
	code, o, e := runOperator(t, "", "init", "--regime", "pt", path)
	require.Equal(t, 0, code, e)
	require.Contains(t, o, "INVOICEXPRESS_API_KEY")
	t.Setenv("INVOICEXPRESS_API_KEY", "k")
	c, err := config.Load(path, nil)
	require.NoError(t, err)
	require.True(t, c.IsPortugal())
	code, _, e = runOperator(t, "", "run", "--config", path)
	require.Equal(t, 1, code)
	require.Contains(t, e, "portugal.seller.name")
	code, _, _ = runOperator(t, "", "init", "--regime", "es", filepath.Join(dir, "x.toml"))
	require.Equal(t, 2, code)
	code, _, _ = runOperator(t, "", "init", "--regime", "pt", "--provider", "amego", filepath.Join(dir, "y.toml"))
	require.Equal(t, 2, code)
}
