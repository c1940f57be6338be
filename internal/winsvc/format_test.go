package winsvc

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFormatRecord(t *testing.T) {
	r := slog.NewRecord(time.Now(), slog.LevelWarn, "upload failed", 0)
	r.AddAttrs(slog.String("invoice", "AB12345678"), slog.String("err", "connection refused"), slog.Int("attempt", 3))
	got := formatRecord(r, []slog.Attr{slog.String("component", "sync")})
	require.Equal(t, `upload failed component=sync invoice=AB12345678 err="connection refused" attempt=3`, got)
}
