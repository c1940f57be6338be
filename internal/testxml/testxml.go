// Package testxml lets tests validate MIG messages against the XSDs with
// xmllint (Debian package libxml2-utils). Without xmllint a test skips,
// saying so loudly; in CI (CI=true, as .ci/run sets) it fails instead, so CI
// cannot pass by skipping the XSD checks.
package testxml

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/posagent/posagent/providers/mig"
)

// Require skips or fails the test when xmllint is not installed.
func Require(t testing.TB) {
	t.Helper()
	if mig.HaveXmllint() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but xmllint is not installed: .ci/run must install libxml2-utils")
	}
	t.Skip("SKIPPING XSD validation: xmllint not found; install Debian package libxml2-utils to run it")
}

// Valid fails the test unless data is valid against the XSD of msgType.
func Valid(t testing.TB, msgType string, data []byte) {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mig.ValidateXSD(ctx, msgType, data); err != nil {
		t.Fatalf("%s not XSD-valid: %v\n%s", msgType, err, data)
	}
}
