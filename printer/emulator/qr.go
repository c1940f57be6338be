package emulator

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

var eccNames = map[qrcode.RecoveryLevel]string{qrcode.Low: "L", qrcode.Medium: "M", qrcode.High: "Q", qrcode.Highest: "H"}

// symbol handles the body of GS ( k: cn fn parameters.
func (p *printer) symbol(body []byte) {
	if len(body) < 2 {
		p.problem("GS ( k: pL pH = %d, at least 2 (cn fn) needed", len(body))
		return
	}
	cn, fn, args := body[0], body[1], body[2:]
	if cn != 0x31 {
		p.problem("GS ( k cn=%d: only QR Code (cn 49) is emulated; %d bytes skipped", cn, len(body))
		return
	}
	want := func(n int) bool {
		if len(args) != n {
			p.problem("GS ( k QR fn %d: pL pH must be %d, got %d", int(fn)+100, n+2, len(body))
			return false
		}
		return true
	}
	switch fn {
	case 0x41: // fn 165: model
		if !want(2) {
			return
		}
		switch args[0] {
		case '2':
		case '1', '3':
			p.problem("GS ( k QR model %c (model 1 / micro QR) not emulated; drawn as model 2", args[0])
		default:
			p.problem("GS ( k QR model %d: must be 49–51", args[0])
			return
		}
		p.st.qrModel = args[0]
	case 0x43: // fn 167: module size
		if !want(1) {
			return
		}
		if args[0] < 1 || args[0] > 16 {
			p.problem("GS ( k QR module size %d: must be 1–16 dots", args[0])
			return
		}
		p.st.qrModule = int(args[0])
	case 0x45: // fn 169: error correction
		if !want(1) {
			return
		}
		levels := map[byte]qrcode.RecoveryLevel{'0': qrcode.Low, '1': qrcode.Medium, '2': qrcode.High, '3': qrcode.Highest}
		l, ok := levels[args[0]]
		if !ok {
			p.problem("GS ( k QR error correction %d: must be 48–51", args[0])
			return
		}
		p.st.qrECC = l
	case 0x50: // fn 180: store
		if len(args) < 2 || args[0] != '0' {
			p.problem("GS ( k QR store: expected m = 48 and at least one data byte")
			return
		}
		if len(args)-1 > 7089 {
			p.problem("GS ( k QR store: %d data bytes, at most 7089", len(args)-1)
			return
		}
		p.st.qrData = append(p.st.qrData[:0], args[1:]...)
	case 0x51: // fn 181: print
		if !want(1) {
			return
		}
		p.printQR()
	case 0x52: // fn 182: transmit size information (an answer, no ink)
	default:
		p.problem("GS ( k QR fn %d not emulated", int(fn)+100)
	}
}

// qrBits returns the symbol the printer draws for the stored data: the
// smallest version that holds it at the selected error correction, modes
// chosen from the data, no quiet zone (that is the host's job, escpos.md §4).
func (p *printer) qrBits() ([][]bool, error) {
	c := &p.qrCache
	data := string(p.st.qrData)
	if c.valid && c.data == data && c.ecc == p.st.qrECC {
		return c.bits, c.err
	}
	c.data, c.ecc, c.valid = data, p.st.qrECC, true
	c.bits, c.err = nil, nil
	q, err := qrcode.New(data, p.st.qrECC)
	if err != nil {
		c.err = fmt.Errorf("%d data bytes do not fit a version 40 symbol at error correction %s", len(data), eccNames[p.st.qrECC])
		return nil, c.err
	}
	q.DisableBorder = true
	c.bits = q.Bitmap()
	return c.bits, nil
}

func (p *printer) printQR() {
	const name = "GS ( k QR print"
	if len(p.st.qrData) == 0 {
		p.problem("%s: no data stored (fn 180 missing, or cleared by ESC @)", name)
		return
	}
	if !p.startOfLine(name) {
		return
	}
	bits, err := p.qrBits()
	if err != nil {
		p.problem("%s: %v; not printed", name, err)
		return
	}
	m := p.st.qrModule
	size := len(bits) * m
	limit := 0
	if p.page != nil {
		limit = p.st.pageArea.dx - p.page.x
	} else {
		_, limit = p.area()
	}
	if size > limit {
		p.problem("%s: version %d at %d dots/module is %d dots, wider than the %d dots left: not printed", name, (len(bits)-17)/4, m, size, limit)
		return
	}
	c := newCanvas(size, size)
	for y, row := range bits {
		for x, on := range row {
			if on {
				c.fill(x*m, y*m, (x+1)*m, (y+1)*m, true)
			}
		}
	}
	c.grow(size)
	p.placeBlock(block{c: c, w: size, h: size}, name)
}
