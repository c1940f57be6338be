package qr_test

import (
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/qr"
)

// The capacity table agrees with the QR library the printer uses: a byte-mode
// text of exactly Capacity(v) bytes fits version v at level L, one more does not.
func TestCapacityMatchesGoQRCode(t *testing.T) {
	for v := 1; v <= qr.MaxQRVersion; v++ {
		n := qr.Capacity(v)
		_, err := qrcode.NewWithForcedVersion(strings.Repeat("a", n), v, qrcode.Low)
		require.NoError(t, err, "version %d, %d bytes", v, n)
		_, err = qrcode.NewWithForcedVersion(strings.Repeat("a", n+1), v, qrcode.Low)
		require.Error(t, err, "version %d, %d bytes", v, n+1)
	}
	require.Zero(t, qr.Capacity(0))
	require.Zero(t, qr.Capacity(41))
}

func TestSmallestVersion(t *testing.T) {
	for _, tc := range []struct{ n, v int }{
		{1, 1}, {17, 1}, {18, 2}, {106, 5}, {107, 6}, {134, 6}, {135, 7}, {230, 9}, {231, 10}, {2953, 40}, {2954, 0},
	} {
		require.Equal(t, tc.v, qr.SmallestVersion(tc.n), "%d bytes", tc.n)
	}
}
