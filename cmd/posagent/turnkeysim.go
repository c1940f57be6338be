package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/mig"
	"github.com/posagent/posagent/providers/turnkey/turnkeytest"
)

const turnkeySimUsage = "turnkey-sim --db ADMIN_DSN [--root DIR] [--config-out FILE] [--answer-delay 3s]"

// runTurnkeySim runs the Turnkey stand-in until Ctrl-C: Turnkey's folders
// under --root, its tables in the MySQL/MariaDB database of --db (created if
// missing), and a ready agent config in --config-out that files through it.
// It is the Turnkey demo: `posagent run --config` that file, sell, and watch
// the files go from SRC to BAK and the rows from P to G to C.
func runTurnkeySim(ctx context.Context, std stdio, args []string) error {
	fs := newFlags("turnkey-sim", std, turnkeySimUsage)
	db := fs.String("db", "", "MySQL/MariaDB DSN with rights to create tables and a read-only user, e.g. root@tcp(127.0.0.1:3306)/turnkey_demo")
	root := fs.String("root", "var/turnkey", "Turnkey's work directory (UpCast, Unpack)")
	out := fs.String("config-out", "var/turnkey.toml", "where to write the agent's config for this stand-in")
	sendDelay := fs.Duration("send-delay", time.Second, "how long a message stays P (taken) before G (sent)")
	answerDelay := fs.Duration("answer-delay", 3*time.Second, "how long a message stays G before the platform's C or E")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required: a MySQL/MariaDB DSN, e.g. root@tcp(127.0.0.1:3306)/turnkey_demo")
	}
	if !mig.HaveXmllint() {
		fmt.Fprintln(std.err, "warning: xmllint not found (Debian package libxml2-utils): files are checked against Turnkey's local rules only, not the XSDs")
	}
	if err := createDatabase(ctx, *db); err != nil {
		return err
	}
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(std.err, nil))
	stand, err := turnkeytest.New(ctx, turnkeytest.Options{Root: absRoot, AdminDSN: *db, SendDelay: *sendDelay,
		AnswerDelay: *answerDelay, Interval: 200 * time.Millisecond, Logger: log})
	if err != nil {
		return err
	}
	defer stand.Close()
	dir := filepath.Dir(*out)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	token, err := config.NewToken()
	if err != nil {
		return err
	}
	store, _ := filepath.Abs(filepath.Join(dir, "turnkey-demo.db"))
	doc := fmt.Sprintf(`# posagent on the Turnkey stand-in (written by posagent turnkey-sim).
[terminal]
seller_tax_id = "24634102"
seller_name = "好日子雜貨店"
seller_address = "臺北市中正區重慶南路一段2號"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"   # the MOF's published test key: demo only
[provider]
name = "turnkey"
[provider.turnkey]
b2s_root = %q
b2p_root = %q
unpack_root = %q
temp_dir = %q
# The stand-in's throw-away read-only user; a real Turnkey's DSN belongs in ${TURNKEY_DB_DSN}.
dsn = %q
[printer]
device = "none"
[store]
path = %q
[api]
address = "127.0.0.1:8766"
token = %q
[sync]
backoff_base = "1s"
backoff_cap = "5s"
`, stand.B2SRoot(), stand.B2PRoot(), stand.UnpackRoot(), filepath.Join(absRoot, "tmp"), stand.DSN(), store, token)
	if err := os.WriteFile(*out, []byte(doc), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "Turnkey stand-in running: folders under %s, tables in %s\n", absRoot, dbName(*db))
	fmt.Fprintf(std.out, "agent config written to %s (mode 0600). In another shell:\n", *out)
	fmt.Fprintf(std.out, "  posagent run --config %s\n", *out)
	fmt.Fprintf(std.out, "  POSAGENT_CONFIG=%s posagent booklets add AB11223300-AB11223349 --period PERIOD\n", *out)
	fmt.Fprintf(std.out, "  POSAGENT_CONFIG=%s posagent sell testdata/sales/coffee.json\n", *out)
	fmt.Fprintln(std.out, "Ctrl-C stops the stand-in.")
	<-ctx.Done()
	return nil
}

func dbName(dsn string) string {
	if c, err := mysql.ParseDSN(dsn); err == nil {
		return c.DBName
	}
	return "?"
}

// createDatabase creates the DSN's database if it does not exist.
func createDatabase(ctx context.Context, dsn string) error {
	c, err := mysql.ParseDSN(dsn)
	if err != nil || c.DBName == "" {
		return usagef("--db is not a MySQL DSN naming a database")
	}
	name := c.DBName
	c.DBName = ""
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"`"); err != nil {
		return fmt.Errorf("create database %s: %v", name, err)
	}
	return nil
}
