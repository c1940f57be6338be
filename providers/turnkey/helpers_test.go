package turnkey_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testmysql"
	"github.com/posagent/posagent/internal/testxml"
	"github.com/posagent/posagent/providers/turnkey"
	"github.com/posagent/posagent/providers/turnkey/turnkeytest"
)

var seller = posagent.Seller{TaxID: "24634102", Name: "好日子雜貨店", Address: "臺北市中正區重慶南路一段2號"}

// standIn starts a Turnkey stand-in on a fresh database of the machine's MySQL.
func standIn(t *testing.T) *turnkeytest.Server {
	t.Helper()
	testxml.Require(t)
	dsn := testmysql.DSN(t)
	s, err := turnkeytest.New(context.Background(), turnkeytest.Options{
		Root: t.TempDir(), AdminDSN: dsn, Interval: 20 * time.Millisecond,
		SendDelay: 30 * time.Millisecond, AnswerDelay: 60 * time.Millisecond, RequireXSD: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func config(t *testing.T, s *turnkeytest.Server, state string) turnkey.Config {
	t.Helper()
	if state == "" {
		state = t.TempDir()
	}
	return turnkey.Config{
		B2SRoot: s.B2SRoot(), B2PRoot: s.B2PRoot(), UnpackRoot: s.UnpackRoot(),
		TempDir: filepath.Join(filepath.Dir(s.B2SRoot()), "..", "tmp"), StateDir: state,
		DSN: s.DSN(), Seller: seller,
	}
}

func newProvider(t *testing.T, cfg turnkey.Config) *turnkey.Provider {
	t.Helper()
	cfg.TempDir = filepath.Clean(cfg.TempDir)
	p, err := turnkey.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// sale is the i-th issued consumer invoice of a run.
func sale(i int) posagent.Invoice {
	return posagent.Invoice{
		Number: posagent.MakeInvoiceNumber("AB", 11223300+i), RandomCode: fmt.Sprintf("%04d", i%10000),
		IssuedAt: time.Date(2025, 11, 3, 8, 0, 0, 0, posagent.Taipei).Add(time.Duration(i) * time.Second),
		Seller:   seller, Print: true, TaxType: posagent.TaxTaxable,
		Items:       []posagent.Item{{Name: "美式咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("65"), Amount: posagent.MustDecimal("65")}},
		SalesAmount: 62, TaxAmount: 3, Total: 65, SaleID: fmt.Sprintf("s-%d", i),
	}
}

// waitAll calls each pending call again and again, as the agent's sync loop
// does, until every one answers nil. A KindNotFound answer means "not yet";
// anything else fails the test.
func waitAll(t *testing.T, timeout time.Duration, calls map[string]func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := map[string]error{}
	for len(calls) > 0 {
		for name, call := range calls {
			err := call()
			if err == nil {
				delete(calls, name)
				continue
			}
			if !posagent.IsKind(err, posagent.KindNotFound) {
				t.Fatalf("%s: %v", name, err)
			}
			last[name] = err
		}
		if time.Now().After(deadline) {
			for name := range calls {
				t.Errorf("%s still waiting: %v", name, last[name])
				break
			}
			t.Fatalf("%d calls not done after %s", len(calls), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor calls f until it returns an error that is not KindNotFound, or nil.
func waitFor(t *testing.T, timeout time.Duration, f func() error) error {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || !posagent.IsKind(err, posagent.KindNotFound) {
			return err
		}
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists", path)
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
