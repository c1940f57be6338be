package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/emulator"
	"github.com/posagent/posagent/printer/printersim"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/queue"
	"github.com/stretchr/testify/require"
	"image"
	"image/draw"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests with a printer: the simulator on a pseudo-terminal, reached by
// the real serial device.

type printE2E struct {
	*e2e
	sim *printersim.Sim
}

// startPrintE2E is startE2E with the printer simulator; render draws a PNG of
// every job (for the QR round trip).
func startPrintE2E(t testing.TB, o e2eOptions, render bool) *printE2E {
	t.Helper()
	p := &printE2E{}
	o.makePrinter = func(t testing.TB, dir string, log *slog.Logger, kit agent.ProofKit) agent.Printer {
		sopt := printersim.Options{Dir: filepath.Join(dir, "receipts"), Baud: 4_000_000, Logger: log}
		if render {
			sopt.Render = renderPNG
		} else {
			sopt.NoPNG = true
		}
		sim, err := printersim.Start(sopt)
		require.NoError(t, err)
		t.Cleanup(func() { sim.Close() })
		// The wire's speed is not what is tested here: the fastest line the
		// device allows.
		dev, err := printer.NewDevice(printer.DeviceConfig{Address: "serial:" + sim.Path(), Baud: 4_000_000,
			BufferSize: kit.Profile.BufferSize, Logger: log})
		require.NoError(t, err)
		t.Cleanup(func() { dev.Close() })
		p.sim = sim
		return agent.DevicePrinter{D: dev}
	}
	p.e2e = startE2E(t, o)
	return p
}

func renderPNG(job []byte, w io.Writer) error {
	res, err := emulator.Render(job, emulator.Options{Width: 384})
	if err != nil {
		return err
	}
	return res.WritePNG(w)
}

// decodeReceiptQRs reads the two QR codes of a printed proof, left first.
func decodeReceiptQRs(t testing.TB, path string) (left, right string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true, gozxing.DecodeHintType_CHARACTER_SET: "UTF-8"}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	if res, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints); err == nil && len(res) == 2 {
		sort.Slice(res, func(i, j int) bool { return res[i].GetResultPoints()[0].GetX() < res[j].GetResultPoints()[0].GetX() })
		return res[0].GetText(), res[1].GetText()
	}
	// Fall back to each half of the paper on its own.
	b := img.Bounds()
	half := func(r image.Rectangle) string {
		out := image.NewGray(image.Rect(0, 0, r.Dx()+40, r.Dy()+40))
		draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(out, r.Sub(r.Min).Add(image.Pt(20, 20)), img, r.Min, draw.Src)
		bmp, err := gozxing.NewBinaryBitmapFromImage(out)
		require.NoError(t, err)
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		require.NoError(t, err, "no QR code in %s", path)
		return res.GetText()
	}
	mid := b.Min.X + b.Dx()/2
	return half(image.Rect(b.Min.X, b.Min.Y, mid, b.Max.Y)), half(image.Rect(mid, b.Min.Y, b.Max.X, b.Max.Y))
}

// decodeReceiptBarcode reads the proof's Code 39 barcode.
func decodeReceiptBarcode(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := oned.NewCode39Reader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	require.NoError(t, err, "no Code 39 barcode in %s", path)
	return res.GetText()
}

// TestSaleEndToEnd: API → store → printer simulator → ECPay stand-in. The
// printed QR codes decode to the texts the API answered and the store keeps;
// the stand-in holds exactly the invoices sold, once each (promises 1, 3, 5, 6).
func TestSaleEndToEnd(t *testing.T) {
	t.Parallel()
	e := startPrintE2E(t, e2eOptions{lowWater: 10}, true)
	var numbers []string
	for i := range 3 {
		ans := e.sell(fmt.Sprintf("e2e-%d", i), 60+i)
		require.Equal(t, true, ans["print"].(map[string]any)["printed"], "%v", ans)
		numbers = append(numbers, ans["number"].(string))

		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		jobs, err := e.sim.WaitJobs(wctx, i+1)
		cancel()
		require.NoError(t, err)
		require.Len(t, jobs, i+1, "sale %d: %d jobs", i, len(jobs))
		job := jobs[i]
		require.True(t, job.Complete)
		require.NotEmpty(t, job.PNGPath, "render error: %v", job.RenderErr)
		left, right := decodeReceiptQRs(t, job.PNGPath)
		require.Equal(t, ans["qr_left"], left)
		require.Equal(t, strings.TrimRight(ans["qr_right"].(string), " "), strings.TrimRight(right, " "))
		require.Equal(t, ans["barcode"], decodeReceiptBarcode(t, job.PNGPath))

		code, inv := e.call("GET", "/v1/invoices/"+numbers[i], "")
		require.Equal(t, 200, code)
		require.Equal(t, ans["qr_left"], inv["qr_left"])
		require.Equal(t, ans["barcode"], inv["barcode"])
		require.Equal(t, "printed", inv["print"].(map[string]any)["state"])
	}
	// The same sale again: the same invoice, no second print, no second upload.
	code, again := e.call("POST", "/v1/sales", `{"sale_id":"e2e-0","items":[{"name":"拿鐵","quantity":1,"unit":"杯","unit_price":60},{"name":"可頌","quantity":2,"unit_price":45}]}`)
	require.Equal(t, 200, code, "%v", again)
	require.Equal(t, numbers[0], again["number"])

	e.waitUploaded(10 * time.Second)
	held := e.stand.Invoices()
	var got []string
	for _, inv := range held {
		got = append(got, inv.Number)
		require.Equal(t, e2eMachine, inv.MachineID)
	}
	sort.Strings(got)
	require.Equal(t, numbers, got, "the stand-in holds exactly the invoices sold")
	require.Len(t, e.sim.Jobs(), 3)

	// Reprint: 補印, on paper, the same codes.
	code, rp := e.call("POST", "/v1/invoices/"+numbers[1]+"/reprint", "")
	require.Equal(t, 200, code)
	require.Equal(t, true, rp["reprint"])
	require.Equal(t, true, rp["printed"])

	code, inv := e.call("GET", "/v1/invoices/"+numbers[1], "")
	require.Equal(t, 200, code)
	require.Equal(t, "done", inv["upload"].(map[string]any)["state"])
	var kinds []string
	for _, ev := range inv["events"].([]any) {
		kinds = append(kinds, ev.(map[string]any)["kind"].(string)+":"+ev.(map[string]any)["detail"].(string))
	}
	require.Contains(t, kinds, "printed:original")
	require.Contains(t, kinds, "printed:補印")

	// Secrets stay out of logs, answers and metrics (promise 6).
	_, status := e.call("GET", "/v1/status", "")
	_, metrics := e.call("GET", "/metrics", "")
	statusJSON, _ := json.Marshal(status)
	invJSON, _ := json.Marshal(inv)
	for _, secret := range []string{e2eToken, e2eQRKey, ecpaytest.StageHashKey, ecpaytest.StageHashIV} {
		require.NotContains(t, e.logs.String(), secret)
		require.NotContains(t, string(statusJSON), secret)
		require.NotContains(t, string(invJSON), secret)
		require.NotContains(t, metrics["text"], secret)
	}
	require.Contains(t, metrics["text"], "posagent_sales_total 3")
}

// TestPaperOut: the printer runs out of paper; sales go on and say so in
// words; when paper is back, proofs that never reached paper print as
// originals, and one cut off mid-job prints as 補印 (promise 5).
func TestPaperOut(t *testing.T) {
	t.Parallel()
	e := startPrintE2E(t, e2eOptions{lowWater: 10}, false)
	first := e.sell("paper-0", 60)
	require.Equal(t, true, first["print"].(map[string]any)["printed"])

	// The roll ends in the middle of the next proof, and stays empty.
	e.sim.PaperOutAfterBytes(600)
	var waiting []string
	for i := 1; i <= 3; i++ {
		ans := e.sell(fmt.Sprintf("paper-%d", i), 60)
		p := ans["print"].(map[string]any)
		require.Equal(t, false, p["printed"], "%v", p)
		require.Equal(t, "印表機缺紙 / printer is out of paper", p["message"])
		require.Equal(t, true, p["will_retry"])
		waiting = append(waiting, ans["number"].(string))
	}
	_, st := e.call("GET", "/v1/status", "")
	require.Equal(t, 3.0, st["printer"].(map[string]any)["prints_pending"], "%v", st["printer"])
	require.Equal(t, false, st["printer"].(map[string]any)["ready"])
	rec, err := e.store.Invoice(context.Background(), posagent.InvoiceNumber(waiting[0]))
	require.NoError(t, err)
	require.True(t, rec.Print.OriginalSpent, "a proof cut off mid-job may be on paper")

	e.sim.SetPaperOut(false)
	require.Eventually(t, func() bool {
		st, err := e.store.Status(context.Background())
		require.NoError(t, err)
		return st.Unprinted == 0
	}, 15*time.Second, 20*time.Millisecond, "the waiting proofs did not print")

	which := func(n string) []string {
		evs, err := e.store.Events(context.Background(), posagent.InvoiceNumber(n))
		require.NoError(t, err)
		var out []string
		for _, ev := range evs {
			if ev.Kind == queue.EventPrinted {
				out = append(out, ev.Detail)
			}
		}
		return out
	}
	require.Equal(t, []string{"original"}, which(first["number"].(string)))
	require.Equal(t, []string{"補印"}, which(waiting[0]), "cut off mid-job: the retry must say 補印")
	require.Equal(t, []string{"original"}, which(waiting[1]), "never reached paper: still the original")
	require.Equal(t, []string{"original"}, which(waiting[2]))
}
