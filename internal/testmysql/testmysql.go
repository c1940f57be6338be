// Package testmysql gives tests a fresh MySQL database of their own.
//
// Tests read the server from POSAGENT_TEST_MYSQL_DSN. Without it they skip,
// saying so; with POSAGENT_REQUIRE_MYSQL=1 (as .ci/run sets) a missing or
// unreachable server fails the test instead, so CI cannot pass by skipping.
package testmysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DSN creates an empty database for this test and returns a DSN pointing at it.
// The database is dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("POSAGENT_TEST_MYSQL_DSN")
	required := os.Getenv("POSAGENT_REQUIRE_MYSQL") == "1"
	if base == "" {
		if required {
			t.Fatal("POSAGENT_REQUIRE_MYSQL=1 but POSAGENT_TEST_MYSQL_DSN is not set")
		}
		t.Skip("SKIPPING MySQL test: set POSAGENT_TEST_MYSQL_DSN (e.g. root@tcp(127.0.0.1:3306)/test) to run it")
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("POSAGENT_TEST_MYSQL_DSN is not a MySQL DSN")
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open MySQL: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if required {
			t.Fatalf("MySQL at POSAGENT_TEST_MYSQL_DSN is not reachable: %v", err)
		}
		t.Skipf("SKIPPING MySQL test: server not reachable: %v", err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "posagent_test_" + hex.EncodeToString(suffix)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP DATABASE " + name)
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}
