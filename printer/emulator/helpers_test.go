package emulator_test

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/printer/emulator"
)

// -png writes every picture a test renders to testdata/out/ to look at.
var writePNG = flag.Bool("png", false, "write rendered test pictures to testdata/out/")

// stream concatenates command pieces given as strings or byte slices.
func stream(parts ...any) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case []byte:
			b.Write(v)
		case byte:
			b.WriteByte(v)
		default:
			panic("stream: unsupported part")
		}
	}
	return b.Bytes()
}

func render(t testing.TB, width int, parts ...any) *emulator.Result {
	t.Helper()
	r, err := emulator.Render(stream(parts...), emulator.Options{Width: width})
	require.NoError(t, err)
	require.Equal(t, width, r.Image.Bounds().Dx())
	if *writePNG {
		savePNG(t, r, t.Name())
	}
	return r
}

func savePNG(t testing.TB, r *emulator.Result, name string) {
	t.Helper()
	dir := filepath.Join("testdata", "out")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var buf bytes.Buffer
	require.NoError(t, r.WritePNG(&buf))
	require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(filepath.Clean("/"+name))+".png"), buf.Bytes(), 0o644))
}

// renderClean renders and requires that no problem was reported.
func renderClean(t testing.TB, width int, parts ...any) *emulator.Result {
	t.Helper()
	r := render(t, width, parts...)
	require.Empty(t, r.Problems, "problems")
	return r
}

const (
	escInit  = "\x1b@"
	kanjiOn  = "\x1c&"
	kanjiOff = "\x1c."
	qrPrint  = "\x1d(k\x03\x001Q0"
)

func qrModule(n byte) string { return "\x1d(k\x03\x001C" + string([]byte{n}) }
func qrECC(n byte) string    { return "\x1d(k\x03\x001E" + string([]byte{n}) }

func qrStore(data []byte) []byte {
	n := len(data) + 3
	return append([]byte{0x1d, '(', 'k', byte(n), byte(n >> 8), '1', 'P', '0'}, data...)
}

func u16(n int) string { return string([]byte{byte(n), byte(n >> 8)}) }

func black(img *image.Gray, x, y int) bool { return img.GrayAt(x, y).Y == 0 }

// blackBox is the bounding box of the black dots inside r (empty if none).
func blackBox(img *image.Gray, r image.Rectangle) image.Rectangle {
	r = r.Intersect(img.Bounds())
	box := image.Rectangle{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if black(img, x, y) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

func countBlack(img *image.Gray, r image.Rectangle) int {
	r = r.Intersect(img.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if black(img, x, y) {
				n++
			}
		}
	}
	return n
}

// crop copies r out of img with a white margin around it, as a scanner
// sees a symbol in its quiet zone.
func crop(img *image.Gray, r image.Rectangle, margin int) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, r.Dx()+2*margin, r.Dy()+2*margin))
	for i := range out.Pix {
		out.Pix[i] = 0xFF
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			out.SetGray(x-r.Min.X+margin, y-r.Min.Y+margin, img.GrayAt(x, y))
		}
	}
	return out
}

func decodeQR(t testing.TB, img image.Image) (string, error) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE: true,
	})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// decodeQRBytes returns the symbol's payload bytes (byte segments), for
// payloads that are not UTF-8 (Big5).
func decodeQRBytes(t testing.TB, img image.Image) ([]byte, error) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE: true,
	})
	if err != nil {
		return nil, err
	}
	if segs, ok := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte); ok {
		return bytes.Join(segs, nil), nil
	}
	return []byte(res.GetText()), nil
}

func decodeCode39(t testing.TB, img image.Image) (string, error) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := oned.NewCode39Reader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER: true,
	})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// blobs finds the boxes of black marks, joining marks closer than gap
// dots: a QR symbol (timing patterns link its finders) becomes one box,
// as does a barcode or a word.
func blobs(img *image.Gray, gap int) []image.Rectangle {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	seen := make([]bool, w*h)
	var boxes []image.Rectangle
	var queue []int
	for start := range seen {
		if seen[start] || img.Pix[(start/w)*img.Stride+start%w] != 0 {
			continue
		}
		box := image.Rect(start%w, start/w, start%w+1, start/w+1)
		seen[start] = true
		queue = append(queue[:0], start)
		for len(queue) > 0 {
			i := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			x, y := i%w, i/w
			box = box.Union(image.Rect(x, y, x+1, y+1))
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					j := ny*w + nx
					if !seen[j] && img.Pix[ny*img.Stride+nx] == 0 {
						seen[j] = true
						queue = append(queue, j)
					}
				}
			}
		}
		boxes = append(boxes, box)
	}
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(boxes); i++ {
			for j := i + 1; j < len(boxes); j++ {
				if boxes[i].Inset(-gap).Overlaps(boxes[j]) {
					boxes[i] = boxes[i].Union(boxes[j])
					boxes = append(boxes[:j], boxes[j+1:]...)
					j = i
					merged = true
				}
			}
		}
	}
	return boxes
}

// qrSymbols returns the decodable QR symbols in img, left to right, top to
// bottom, with their boxes.
func qrSymbols(t testing.TB, img *image.Gray) (boxes []image.Rectangle, texts []string) {
	t.Helper()
	for _, b := range blobs(img, 7) {
		if b.Dx() < 21 || b.Dy() < 21 || b.Dx() != b.Dy() {
			continue
		}
		text, err := decodeQR(t, crop(img, b, 16))
		if err != nil {
			continue
		}
		boxes = append(boxes, b)
		texts = append(texts, text)
	}
	return boxes, texts
}

func decodePNG(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	return img
}
