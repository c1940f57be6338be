package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/internal/testmysql"
)

func runHQCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"hq"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestHQAddRangeAndLeases(t *testing.T) {
	dsn := testmysql.DSN(t)
	t.Setenv("POSAGENT_HQ_DSN", dsn)

	code, out, errs := runHQCmd(t, "leases", "--period", "11410", "--seller", hqSeller)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "no ranges for 24634102 in period 11410")

	code, out, errs = runHQCmd(t, "add-range", "QX12345600-QX12345699", "--period", "11410", "--seller", hqSeller)
	require.Equal(t, 0, code, errs)
	require.Equal(t, "range QX12345600-QX12345699 (2 booklets) added for 24634102, period 11410\n", out)

	// The same range again overlaps: refused, nothing added.
	code, _, errs = runHQCmd(t, "add-range", "QX12345650-QX12345749", "--period", "11410", "--seller", hqSeller)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "overlaps")

	// A lease through the terminal's source shows in the listing.
	h, err := connectHeadOffice(context.Background(), dsn, hqSeller, "POS02", discardLogger())
	require.NoError(t, err)
	defer h.Close()
	got, err := h.LeaseBooklets(context.Background(), leaseOne(t, "11410"))
	require.NoError(t, err)
	require.Len(t, got, 1)

	code, out, errs = runHQCmd(t, "leases", "--period", "11410", "--seller", hqSeller)
	require.Equal(t, 0, code, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	require.Contains(t, lines[0], "QX12345600-QX12345649  leased to POS02 at ")
	require.Equal(t, "11410  QX12345650-QX12345699  unleased", lines[1])
}

func TestHQCommandRefusesBadInput(t *testing.T) {
	t.Setenv("POSAGENT_HQ_DSN", "")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no subcommand", nil, 2, "usage"},
		{"unknown subcommand", []string{"remove", "--period", "11410", "--seller", hqSeller}, 2, "usage"},
		{"no dsn", []string{"leases", "--period", "11410", "--seller", hqSeller}, 2, "POSAGENT_HQ_DSN"},
		{"no period", []string{"leases", "--dsn", "u:pw-s3cret@tcp(127.0.0.1:1)/x", "--seller", hqSeller}, 2, "--period"},
		{"no seller", []string{"leases", "--dsn", "u:pw-s3cret@tcp(127.0.0.1:1)/x", "--period", "11410"}, 2, "--seller"},
		{"odd period", []string{"leases", "--dsn", "u:pw-s3cret@tcp(127.0.0.1:1)/x", "--period", "11409", "--seller", hqSeller}, 1, "period"},
		{"bad seller", []string{"leases", "--dsn", "u:pw-s3cret@tcp(127.0.0.1:1)/x", "--period", "11410", "--seller", "12345678"}, 1, "統一編號"},
		{"bad dsn", []string{"leases", "--dsn", "pw-s3cret@@x", "--period", "11410", "--seller", hqSeller}, 1, "hq.dsn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runHQCmd(t, tc.args...)
			require.Equal(t, tc.code, code, errs)
			require.Contains(t, errs, tc.msg)
			require.NotContains(t, errs, "pw-s3cret")
		})
	}
}
