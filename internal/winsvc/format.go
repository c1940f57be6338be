package winsvc

import (
	"fmt"
	"log/slog"
	"strings"
)

// formatRecord renders a log record as the event log's text: the message,
// then key=value pairs (the handler's own first).
func formatRecord(r slog.Record, attrs []slog.Attr) string {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, quote(a.Value.Resolve().String()))
		return true
	}
	for _, a := range attrs {
		write(a)
	}
	r.Attrs(write)
	return b.String()
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
