package escpos

import (
	"fmt"
	"hash/fnv"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Command is one command or text run found by Disassemble.
type Command struct {
	Offset int    // of its first byte in the stream
	Name   string // "ESC @", "GS ( k 180", "GS v 0", "TEXT", "LF", …; "?" for an unknown byte
	Raw    []byte // all its bytes
	Detail string // arguments, decoded text or a digest of image data
}

// fixed-length commands: prefix → number of argument bytes.
var fixedArgs = map[string]int{
	"\x1b@": 0, "\x1b2": 0, "\x1bL": 0, "\x1bS": 0, "\x1c&": 0, "\x1c.": 0,
	"\x1bt": 1, "\x1bE": 1, "\x1b-": 1, "\x1ba": 1, "\x1b3": 1, "\x1bd": 1, "\x1bJ": 1,
	"\x1bT": 1, "\x1b!": 1, "\x1bM": 1, "\x1c!": 1, "\x1cW": 1,
	"\x1d!": 1, "\x1dh": 1, "\x1dw": 1, "\x1dH": 1, "\x1df": 1, "\x1dr": 1, "\x1da": 1, "\x1dB": 1,
	"\x10\x04": 1, "\x10\x05": 1,
	"\x1b$": 2, "\x1d$": 2, "\x1dL": 2, "\x1dW": 2,
	"\x1bW": 8,
}

var controlNames = map[byte]string{ESC: "ESC", FS: "FS", GS: "GS", DLE: "DLE"}

func commandName(prefix string) string {
	name := controlNames[prefix[0]]
	c := prefix[1]
	if c == EOT {
		return name + " EOT"
	}
	if c == 0x05 {
		return name + " ENQ"
	}
	return name + " " + string(c)
}

// Disassemble splits an ESC/POS stream into commands and text runs, tracking
// Kanji mode (FS & / FS . / ESC @) to decode text. It knows the commands this
// package writes and the common ones around them; anything else is reported
// as a one-byte "?" command so that a reader sees exactly where it is lost.
// It is for golden-file diffs and for checking which commands a stream uses.
func Disassemble(p []byte) []Command {
	var out []Command
	kanji := false
	var table byte // ESC t: the single-byte code table outside Kanji mode
	for i := 0; i < len(p); {
		start := i
		emit := func(name string, end int, detail string) {
			out = append(out, Command{Offset: start, Name: name, Raw: p[start:end], Detail: detail})
			i = end
		}
		c := p[i]
		switch c {
		case LF:
			emit("LF", i+1, "")
			continue
		case FF:
			emit("FF", i+1, "")
			continue
		case CAN:
			emit("CAN", i+1, "")
			continue
		case '\r':
			emit("CR", i+1, "")
			continue
		case ESC, FS, GS, DLE:
			if i+1 >= len(p) {
				emit("?", i+1, "truncated command")
				continue
			}
			prefix := string(p[i : i+2])
			if n, ok := fixedArgs[prefix]; ok {
				if i+2+n > len(p) {
					emit("?", len(p), "truncated "+commandName(prefix))
					continue
				}
				name := commandName(prefix)
				switch prefix {
				case "\x1c&":
					kanji = true
				case "\x1c.":
					kanji = false
				case "\x1b@":
					kanji, table = false, 0
				case "\x1bt":
					table = p[i+2]
				}
				emit(name, i+2+n, argString(p[i+2:i+2+n]))
				continue
			}
			if name, end, detail, ok := variable(p, i); ok {
				emit(name, end, detail)
				continue
			}
			emit("?", i+1, fmt.Sprintf("unknown command %02X %02X", p[i], p[i+1]))
			continue
		}
		// A text run: printable ASCII, and Big5 pairs in Kanji mode or
		// single-byte characters of the code table outside it.
		j := i
		for j < len(p) {
			b := p[j]
			if b >= 0x20 && b < 0x7F {
				j++
				continue
			}
			if b >= 0x80 && kanji && j+1 < len(p) && p[j+1] >= 0x40 {
				j += 2
				continue
			}
			if b >= 0x80 && !kanji {
				j++
				continue
			}
			break
		}
		if j == i {
			emit("?", i+1, fmt.Sprintf("byte %02X outside any command", c))
			continue
		}
		emit("TEXT", j, fmt.Sprintf("%q", decodeText(p[i:j], kanji, table)))
	}
	return out
}

// variable decodes the commands whose length depends on their data.
func variable(p []byte, i int) (name string, end int, detail string, ok bool) {
	rest := p[i:]
	switch {
	case len(rest) >= 3 && rest[0] == GS && rest[1] == 'V':
		if rest[2] == 65 || rest[2] == 66 {
			if len(rest) < 4 {
				return "?", len(p), "truncated GS V", true
			}
			return "GS V", i + 4, argString(rest[2:4]), true
		}
		return "GS V", i + 3, argString(rest[2:3]), true
	case len(rest) >= 3 && rest[0] == GS && rest[1] == 'k':
		m := rest[2]
		if m <= 6 { // form A: NUL-terminated
			for j := 3; j < len(rest); j++ {
				if rest[j] == 0 {
					return "GS k", i + j + 1, fmt.Sprintf("m=%d %q", m, rest[3:j]), true
				}
			}
			return "?", len(p), "unterminated GS k", true
		}
		if len(rest) < 4 || len(rest) < 4+int(rest[3]) {
			return "?", len(p), "truncated GS k", true
		}
		n := int(rest[3])
		return "GS k", i + 4 + n, fmt.Sprintf("m=%d %q", m, rest[4:4+n]), true
	case len(rest) >= 3 && rest[0] == GS && rest[1] == '(':
		if len(rest) < 5 {
			return "?", len(p), "truncated GS (", true
		}
		n := int(rest[3]) | int(rest[4])<<8
		if len(rest) < 5+n {
			return "?", len(p), "truncated GS (", true
		}
		body := rest[5 : 5+n]
		name = "GS ( " + string(rest[2])
		if rest[2] == 'k' && len(body) >= 2 && body[0] == '1' {
			fn := map[byte]string{'A': "165", 'C': "167", 'E': "169", 'P': "180", 'Q': "181", 'R': "182"}[body[1]]
			if fn != "" {
				name += " " + fn
			}
			if body[1] == 'P' && len(body) >= 3 {
				return name, i + 5 + n, fmt.Sprintf("%d bytes %q", len(body)-3, body[3:]), true
			}
			return name, i + 5 + n, argString(body[2:]), true
		}
		return name, i + 5 + n, argString(body), true
	case len(rest) >= 3 && rest[0] == GS && rest[1] == 'v' && rest[2] == '0':
		if len(rest) < 8 {
			return "?", len(p), "truncated GS v 0", true
		}
		x := int(rest[4]) | int(rest[5])<<8
		y := int(rest[6]) | int(rest[7])<<8
		if len(rest) < 8+x*y {
			return "?", len(p), "truncated GS v 0 data", true
		}
		h := fnv.New32a()
		h.Write(rest[8 : 8+x*y])
		return "GS v 0", i + 8 + x*y, fmt.Sprintf("m=%d %d×%d dots, %d bytes, fnv %08x", rest[3], x*8, y, x*y, h.Sum32()), true
	}
	return "", 0, "", false
}

func argString(args []byte) string {
	parts := make([]string, len(args))
	for k, a := range args {
		parts[k] = fmt.Sprint(a)
	}
	return strings.Join(parts, " ")
}

func decodeText(p []byte, kanji bool, table byte) string {
	if !kanji {
		if c, ok := CodePageByTable(table); ok {
			return DecodeCodePage(p, c)
		}
		out := make([]rune, len(p))
		for i, b := range p {
			out[i] = charmap.CodePage437.DecodeByte(b) // table 0, and the guess for others
		}
		return string(out)
	}
	s, err := traditionalchinese.Big5.NewDecoder().Bytes(p)
	if err != nil {
		return string(p)
	}
	return string(s)
}

// Listing is Disassemble as text, one command a line: offset, name, details.
func Listing(p []byte) string {
	var sb strings.Builder
	for _, c := range Disassemble(p) {
		line := fmt.Sprintf("%06x  %-12s %s", c.Offset, c.Name, c.Detail)
		sb.WriteString(strings.TrimRight(line, " "))
		sb.WriteByte('\n')
	}
	return sb.String()
}
