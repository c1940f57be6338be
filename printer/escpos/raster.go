package escpos

import (
	"fmt"
	"image"
	"image/color"
)

// Bitmap is a 1-bit image in the printer's raster layout: Height rows of
// Stride = ⌈Width/8⌉ bytes, bit 7 of each byte the leftmost dot, 1 black.
// GS v 0 sends these bytes unchanged.
type Bitmap struct {
	Width, Height int
	Stride        int
	Bits          []byte
}

// NewBitmap returns an all-white bitmap.
func NewBitmap(width, height int) *Bitmap {
	if width < 1 || height < 1 {
		panic(fmt.Sprintf("escpos: bitmap %d×%d", width, height))
	}
	stride := (width + 7) / 8
	return &Bitmap{Width: width, Height: height, Stride: stride, Bits: make([]byte, stride*height)}
}

// Black reports whether the dot at x, y is black; outside the bitmap is white.
func (m *Bitmap) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= m.Width || y >= m.Height {
		return false
	}
	return m.Bits[y*m.Stride+x/8]&(0x80>>(x&7)) != 0
}

// Set blackens the dot at x, y (ignored outside the bitmap).
func (m *Bitmap) Set(x, y int) {
	if x < 0 || y < 0 || x >= m.Width || y >= m.Height {
		return
	}
	m.Bits[y*m.Stride+x/8] |= 0x80 >> (x & 7)
}

// FillRow blackens dots [x0, x1) of row y.
func (m *Bitmap) FillRow(y, x0, x1 int) {
	if y < 0 || y >= m.Height {
		return
	}
	x0, x1 = max(x0, 0), min(x1, m.Width)
	row := m.Bits[y*m.Stride : (y+1)*m.Stride]
	for x := x0; x < x1; {
		if x&7 == 0 && x+8 <= x1 {
			row[x/8] = 0xFF
			x += 8
			continue
		}
		row[x/8] |= 0x80 >> (x & 7)
		x++
	}
}

// Rows returns the bitmap's rows [y0, y1) as a bitmap sharing its storage.
func (m *Bitmap) Rows(y0, y1 int) *Bitmap {
	return &Bitmap{Width: m.Width, Height: y1 - y0, Stride: m.Stride, Bits: m.Bits[y0*m.Stride : y1*m.Stride]}
}

// Image returns the bitmap as a grey image (black 0x00, white 0xFF), scaled by
// sx horizontally and sy vertically, as a printer draws GS v 0 with m = 1–3.
func (m *Bitmap) Image(sx, sy int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, m.Width*sx, m.Height*sy))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < m.Height*sy; y++ {
		for x := 0; x < m.Width*sx; x++ {
			if m.Black(x/sx, y/sy) {
				img.Pix[y*img.Stride+x] = 0
			}
		}
	}
	return img
}

// BitmapFromImage thresholds an image to 1 bit: a pixel is black when it is
// at least half opaque and darker than mid-grey. Logos should be drawn 1-bit
// at the printer's resolution; this only makes a clean black-and-white PNG
// printable, it does not dither photographs.
func BitmapFromImage(img image.Image) *Bitmap {
	r := img.Bounds()
	if r.Dx() < 1 || r.Dy() < 1 {
		return nil
	}
	m := NewBitmap(r.Dx(), r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
			if c.A < 0x8000 {
				continue
			}
			// Rec. 601 luma, integers only.
			luma := (299*uint32(c.R) + 587*uint32(c.G) + 114*uint32(c.B)) / 1000
			if luma < 0x8000 {
				m.Set(x-r.Min.X, y-r.Min.Y)
			}
		}
	}
	return m
}

// RasterMode is the m of GS v 0: how many printer dots one bitmap dot takes.
type RasterMode byte

const (
	RasterNormal       RasterMode = 0
	RasterDoubleWidth  RasterMode = 1
	RasterDoubleHeight RasterMode = 2
	RasterQuadruple    RasterMode = 3 // double width and height
)

// Scale returns the horizontal and vertical dots per bitmap dot.
func (m RasterMode) Scale() (sx, sy int) {
	return 1 + int(m&1), 1 + int(m>>1&1)
}

// Limits of GS v 0 on Epson-class printers: 1–128 bytes a row, 1–2303 rows.
const (
	MaxRasterStride = 128
	MaxRasterRows   = 2303
)

// Raster is GS v 0 m: print the bitmap. It needs an empty line buffer (start
// of a line), follows ESC a, and does not exist in page mode.
func (b *Builder) Raster(img *Bitmap, m RasterMode) error {
	switch {
	case img == nil:
		return fmt.Errorf("escpos: raster image is nil")
	case m > RasterQuadruple:
		return fmt.Errorf("escpos: raster mode %d outside 0–3", m)
	case img.Stride < 1 || img.Stride > MaxRasterStride:
		return fmt.Errorf("escpos: raster image %d bytes a row: must be 1–%d", img.Stride, MaxRasterStride)
	case img.Height < 1 || img.Height > MaxRasterRows:
		return fmt.Errorf("escpos: raster image %d rows: must be 1–%d", img.Height, MaxRasterRows)
	case len(img.Bits) != img.Stride*img.Height:
		return fmt.Errorf("escpos: raster image holds %d bytes, want %d×%d", len(img.Bits), img.Stride, img.Height)
	}
	b.buf = append(b.buf, GS, 'v', '0', byte(m),
		byte(img.Stride), byte(img.Stride>>8), byte(img.Height), byte(img.Height>>8))
	b.buf = append(b.buf, img.Bits...)
	return nil
}
