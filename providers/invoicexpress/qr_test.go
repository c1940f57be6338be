package invoicexpress

import (
	"fmt"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestDecodeQRVaried: AT payloads rendered as a QR service would (whole
// pixels per module, or scaled to a fixed width) decode exactly. The general
// detector alone missed about one image in a few hundred (seen in
// BenchmarkIssue); the pure-barcode read and the wider margin cover those.
func TestDecodeQRVaried(t *testing.T) {
	for i := range 60 {
		txt := fmt.Sprintf("A:508025338*B:999999990*C:PT*D:FR*E:N*F:20261204*G:FR %d/G*H:AAJFJ3VNTN-%d*I1:PT*I3:1.35*I4:0.08*I7:1.62*I8:0.37*N:0.45*O:3.42*Q:%c%c%c%c*R:0000",
			i, i, 'a'+i%26, 'A'+i%23, '0'+i%10, 'a'+(i/26)%26)
		for _, size := range []int{-6, 320} {
			png, err := qrcode.Encode(txt, qrcode.Medium, size)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := decodeQR(png); err != nil || got != txt {
				t.Fatalf("payload %d, size %d: %q, %v", i, size, got, err)
			}
		}
	}
	// The one image of the probe the general detector could not read.
	txt := "A:508025338*B:999999990*C:PT*D:FR*E:N*F:20261204*G:FR 153/G*H:AAJFJ3VNTN-153*I1:PT*I3:1.35*I4:0.08*I7:1.62*I8:0.37*N:0.45*O:3.42*Q:xxxx*R:0000"
	png, _ := qrcode.Encode(txt, qrcode.Medium, 320)
	if got, err := decodeQR(png); err != nil || got != txt {
		t.Fatalf("%q, %v", got, err)
	}
	for _, bad := range [][]byte{nil, []byte("not an image"), []byte("\x89PNG\r\n\x1a\n")} {
		if _, err := decodeQR(bad); err == nil {
			t.Fatalf("%q decoded", bad)
		}
	}
}
