package ecpay

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/posagent/posagent"
)

const (
	levelInfo = slog.LevelInfo
	levelWarn = slog.LevelWarn
)

func attrNumber(n posagent.InvoiceNumber) slog.Attr { return slog.String("number", string(n)) }

func itoa(n int) string { return strconv.Itoa(n) }

func pad8(n int) string { return fmt.Sprintf("%08d", n) }

// atoi8 reads an 8-digit number, trimming the whitespace ECPay leaves in them.
func atoi8(s string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) == 0 || len(s) > 8 {
		return 0, fmt.Errorf("%q is not an 8-digit number", s)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not an 8-digit number", s)
		}
	}
	return strconv.Atoi(s)
}

func trackText(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
