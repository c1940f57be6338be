package emulator

// canvas is a 1-bit drawing surface one byte per dot (1 = black). The paper
// grows downwards on demand up to its limit; a page-mode area is fixed.
type canvas struct {
	width, rows int
	limit       int // rows never grow past this
	pix         []byte
	clipped     bool // something was drawn at or beyond limit
	// clip is the rectangle drawing may touch (a page-mode print area);
	// the whole canvas unless set.
	clipX0, clipY0, clipX1, clipY1 int
}

func newCanvas(width, limit int) *canvas {
	return &canvas{width: width, limit: limit, clipX1: width, clipY1: limit}
}

func (c *canvas) setClip(x0, y0, x1, y1 int) {
	c.clipX0, c.clipY0 = max(x0, 0), max(y0, 0)
	c.clipX1, c.clipY1 = min(x1, c.width), min(y1, c.limit)
}

// grow makes rows [0, n) addressable, clamped to the limit.
func (c *canvas) grow(n int) {
	if n > c.limit {
		n = c.limit
	}
	if n <= c.rows {
		return
	}
	need := n * c.width
	if need > cap(c.pix) {
		newCap := 2 * cap(c.pix)
		if newCap < need {
			newCap = need
		}
		if max := c.limit * c.width; newCap > max {
			newCap = max
		}
		pix := make([]byte, need, newCap)
		copy(pix, c.pix)
		c.pix = pix
	} else {
		c.pix = c.pix[:need]
	}
	c.rows = n
}

func (c *canvas) set(x, y int, black bool) {
	if y >= c.limit {
		c.clipped = true
	}
	if x < c.clipX0 || x >= c.clipX1 || y < c.clipY0 || y >= c.clipY1 {
		return
	}
	if y >= c.rows {
		c.grow(y + 1)
	}
	if black {
		c.pix[y*c.width+x] = 1
	} else {
		c.pix[y*c.width+x] = 0
	}
}

// fill paints the rectangle [x0,x1)×[y0,y1).
func (c *canvas) fill(x0, y0, x1, y1 int, black bool) {
	if y1 > c.limit {
		c.clipped = true
	}
	x0, x1 = max(x0, c.clipX0), min(x1, c.clipX1)
	y0, y1 = max(y0, c.clipY0), min(y1, c.clipY1)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	c.grow(y1)
	v := byte(0)
	if black {
		v = 1
	}
	for y := y0; y < y1; y++ {
		row := c.pix[y*c.width+x0 : y*c.width+x1]
		for i := range row {
			row[i] = v
		}
	}
}

func (c *canvas) at(x, y int) bool {
	return x >= 0 && x < c.width && y >= 0 && y < c.rows && c.pix[y*c.width+x] != 0
}

// blit ORs the first h rows of src onto c with src's top-left at (x, y).
func (c *canvas) blit(src *canvas, x, y, h int) {
	for sy := 0; sy < min(h, src.rows); sy++ {
		row := src.pix[sy*src.width : (sy+1)*src.width]
		for sx, v := range row {
			if v != 0 {
				c.set(x+sx, y+sy, true)
			}
		}
	}
}
