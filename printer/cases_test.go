package printer_test

import (
	"encoding/json"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

// receiptsDir holds the golden cases: see its README.md.
const receiptsDir = "../testdata/receipts"

// testKey is the shared test QR AES key (MOF vector a).
const testKey = "F1A618ED8685B1A3B81E6CB6884617F4"

// caseOptions is <case>.options.json: the render options of a case.
type caseOptions struct {
	Reprint bool     `json:"reprint"`
	Details bool     `json:"details"`
	Footer  []string `json:"footer"`
	Logo    string   `json:"logo"` // a PNG next to the case
}

type receiptCase struct {
	name string
	inv  posagent.Invoice
	opt  printer.RenderOptions
}

func mustKey(t testing.TB) qr.Key {
	t.Helper()
	key, err := qr.ParseKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// loadCases reads every <case>.json of testdata/receipts with its options.
func loadCases(t testing.TB) []receiptCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(receiptsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var cases []receiptCase
	for _, file := range files {
		if strings.HasSuffix(file, ".options.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := posagent.DecodeInvoice(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		c := receiptCase{name: name, inv: inv, opt: printer.RenderOptions{Key: mustKey(t), Logger: slog.New(slog.DiscardHandler)}}
		if data, err := os.ReadFile(filepath.Join(receiptsDir, name+".options.json")); err == nil {
			var o caseOptions
			dec := json.NewDecoder(strings.NewReader(string(data)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&o); err != nil {
				t.Fatalf("%s.options.json: %v", name, err)
			}
			c.opt.Reprint, c.opt.Details, c.opt.Footer = o.Reprint, o.Details, o.Footer
			if o.Logo != "" {
				c.opt.Logo = loadLogo(t, filepath.Join(receiptsDir, o.Logo))
			}
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases in %s", len(cases), receiptsDir)
	}
	return cases
}

func loadLogo(t testing.TB, path string) *escpos.Bitmap {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return escpos.BitmapFromImage(img)
}

func profiles(t testing.TB) []printer.Profile {
	t.Helper()
	var out []printer.Profile
	for _, name := range printer.ProfileNames() {
		p, err := printer.LookupProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}
