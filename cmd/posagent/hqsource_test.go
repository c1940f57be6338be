package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testmysql"
	"github.com/posagent/posagent/providers/hq"
)

const hqSeller = "24634102"

// A DSN the driver cannot read stops the start, naming the field and not
// echoing the value.
func TestHeadOfficeBadDSNStopsTheStart(t *testing.T) {
	var logs bytes.Buffer
	_, err := connectHeadOffice(context.Background(), "pw-s3cret@@nonsense", hqSeller, "POS01", slog.New(slog.NewTextHandler(&logs, nil)))
	var pe *posagent.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "hq.dsn", pe.Field)
	require.NotContains(t, err.Error(), "pw-s3cret")
	require.NotContains(t, logs.String(), "pw-s3cret")
}

// A head office that does not answer at start is a warning: the till sells
// from what it holds, and each lease tries again.
func TestHeadOfficeUnreachableAtStartIsRetriedOnLease(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "posagent", "pw-s3cret", "tcp", "127.0.0.1:1", "posagent"
	cfg.Timeout = time.Second
	dsn := cfg.FormatDSN()
	ctx := context.Background()
	h, err := connectHeadOffice(ctx, dsn, hqSeller, "POS01", log)
	require.NoError(t, err)
	defer h.Close()
	require.Contains(t, logs.String(), "head office not reachable at start")

	p := posagent.PeriodOf(time.Date(2025, 9, 14, 12, 0, 0, 0, posagent.Taipei))
	_, err = h.LeaseBooklets(ctx, posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 1})
	require.Error(t, err)
	require.True(t, posagent.IsKind(err, posagent.KindTransient), "%v", err)
	require.NotContains(t, err.Error(), "pw-s3cret")
	require.NotContains(t, logs.String(), "pw-s3cret")
	require.NoError(t, h.Close(), "closing a pool never opened")
}

// Against a real server: the pool opens at start, leases name the terminal as
// hq.terminal says, and Close closes it.
func TestHeadOfficeLeasesAsTheConfiguredTerminal(t *testing.T) {
	dsn := testmysql.DSN(t)
	ctx := context.Background()
	admin, err := hq.Open(ctx, dsn)
	require.NoError(t, err)
	defer admin.Close()
	admin.Logger = slog.New(slog.DiscardHandler)
	p := posagent.PeriodOf(time.Date(2025, 9, 14, 12, 0, 0, 0, posagent.Taipei))
	require.NoError(t, admin.AddRange(ctx, hqSeller, posagent.Booklet{Track: "QX", First: 100, Last: 199, Period: p}))

	h, err := connectHeadOffice(ctx, dsn, hqSeller, "front-till", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	got, err := h.LeaseBooklets(ctx, posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 1})
	require.NoError(t, err)
	require.Equal(t, []posagent.Booklet{{Track: "QX", First: 100, Last: 149, Period: p, Source: "hq"}}, got)
	leases, err := admin.Leases(ctx, hqSeller, p)
	require.NoError(t, err)
	require.Len(t, leases, 1)
	require.Equal(t, "front-till", leases[0].Terminal)

	require.NoError(t, h.Close())
	// Closed, the next lease opens the pool again rather than using a closed one.
	got, err = h.LeaseBooklets(ctx, posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 1})
	require.NoError(t, err)
	require.Equal(t, 150, got[0].First)
	require.NoError(t, h.Close())
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func leaseOne(t *testing.T, period string) posagent.LeaseRequest {
	t.Helper()
	p, err := posagent.ParsePeriod(period)
	require.NoError(t, err)
	return posagent.LeaseRequest{Period: p, MachineID: "ignored", Booklets: 1}
}
