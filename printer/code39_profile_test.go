package printer

import (
	"testing"

	"github.com/posagent/posagent"
)

// A profile's Code 39 can be switched to raster for a printer without GS k,
// and to native only where the printer takes GS w 1.
func TestWithCode39(t *testing.T) {
	for _, tc := range []struct {
		profile string
		mode    Code39Mode
		want    Code39Mode // "" for an error
	}{
		{"58mm", "", Code39Raster},
		{"58mm", Code39Raster, Code39Raster},
		{"58mm", Code39Native, ""}, // no GS w 1: the barcode would be 607 dots wide
		{"58mm-page", "", Code39Native},
		{"58mm-page", Code39Raster, Code39Raster},
		{"80mm", Code39Raster, Code39Raster},
		{"58mm", "bars", ""},
	} {
		p, err := LookupProfile(tc.profile)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.WithCode39(tc.mode)
		if tc.want == "" {
			if !posagent.IsKind(err, posagent.KindConfig) {
				t.Errorf("%s with %q: %v, want a config error", tc.profile, tc.mode, err)
			}
			continue
		}
		if err != nil || got.Code39 != tc.want {
			t.Errorf("%s with %q: %q, %v; want %q", tc.profile, tc.mode, got.Code39, err, tc.want)
		}
	}
}
