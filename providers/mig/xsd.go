package mig

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/posagent/posagent"
)

// The MOF's MIG 4.1 schemas, byte for byte as published (xsd/README.md).
//
//go:embed xsd/v41/*.xsd xsd/common/*.xsd
var schemas embed.FS

// Schema returns the embedded XSD of a message type.
func Schema(msgType string) ([]byte, error) {
	return schemas.ReadFile("xsd/v41/" + msgType + ".xsd")
}

// ErrNoXmllint means xmllint (Debian package libxml2-utils) is not installed.
var ErrNoXmllint = errors.New("mig: xmllint not found: install libxml2-utils to validate against the XSDs")

var (
	schemaDirOnce sync.Once
	schemaDir     string
	schemaDirErr  error
)

// writeSchemas copies the embedded XSDs to a directory xmllint can read, once
// per process, keeping the v41/ + common/ layout the includes need. E0402's
// element " BranchBan" (a stray leading space that Turnkey's Java validator
// ignores) is written without the space: libxml2 would otherwise reject every
// correct <BranchBan> (specs/mig41/README.md).
func writeSchemas() (string, error) {
	schemaDirOnce.Do(func() {
		dir, err := os.MkdirTemp("", "posagent-mig-xsd-")
		if err != nil {
			schemaDirErr = err
			return
		}
		schemaDirErr = fs.WalkDir(schemas, "xsd", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := schemas.ReadFile(path)
			if err != nil {
				return err
			}
			if filepath.Base(path) == "E0402.xsd" {
				data = bytes.ReplaceAll(data, []byte(`name=" BranchBan"`), []byte(`name="BranchBan"`))
			}
			out := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(path, "xsd/")))
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		})
		schemaDir = dir
	})
	return schemaDir, schemaDirErr
}

// HaveXmllint reports whether ValidateXSD can run.
func HaveXmllint() bool {
	_, err := exec.LookPath("xmllint")
	return err == nil
}

// ValidateXSD checks a message against the XSD of its type with xmllint. It
// returns ErrNoXmllint when xmllint is not installed, and a KindInvalid error
// carrying xmllint's complaint when the message is not valid.
func ValidateXSD(ctx context.Context, msgType string, data []byte) error {
	if _, err := Schema(msgType); err != nil {
		return fmt.Errorf("mig: no schema for message type %q", msgType)
	}
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return ErrNoXmllint
	}
	dir, err := writeSchemas()
	if err != nil {
		return fmt.Errorf("mig: write schemas: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "--noout", "--nonet", "--schema", filepath.Join(dir, "v41", msgType+".xsd"), "-")
	cmd.Stdin = bytes.NewReader(data)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &posagent.Error{Kind: posagent.KindInvalid, Message: fmt.Sprintf("%s is not valid against its XSD: %s",
				msgType, strings.TrimSpace(out.String()))}
		}
		return fmt.Errorf("mig: run xmllint: %w", err)
	}
	return nil
}

// ValidateXSDFiles checks many files of one message type with one xmllint
// run (a process per file is the cost when thousands arrive at once). The
// answer has an entry for every path: nil when valid, else a KindInvalid
// error with xmllint's complaint about that file.
func ValidateXSDFiles(ctx context.Context, msgType string, paths []string) (map[string]error, error) {
	out := make(map[string]error, len(paths))
	if len(paths) == 0 {
		return out, nil
	}
	if _, err := Schema(msgType); err != nil {
		return nil, fmt.Errorf("mig: no schema for message type %q", msgType)
	}
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return nil, ErrNoXmllint
	}
	dir, err := writeSchemas()
	if err != nil {
		return nil, fmt.Errorf("mig: write schemas: %w", err)
	}
	args := append([]string{"--noout", "--nonet", "--schema", filepath.Join(dir, "v41", msgType+".xsd")}, paths...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("mig: run xmllint: %w", err)
		}
	}
	valid := map[string]bool{}
	complaints := map[string][]string{}
	for _, line := range strings.Split(buf.String(), "\n") {
		for _, p := range paths {
			switch {
			case line == p+" validates":
				valid[p] = true
			case strings.HasPrefix(line, p+":") || line == p+" fails to validate":
				complaints[p] = append(complaints[p], line)
			}
		}
	}
	for _, p := range paths {
		if valid[p] {
			out[p] = nil
			continue
		}
		detail := strings.Join(complaints[p], "\n")
		if detail == "" {
			detail = "xmllint did not validate it"
		}
		out[p] = &posagent.Error{Kind: posagent.KindInvalid, Message: fmt.Sprintf("%s is not valid against its XSD: %s", msgType, detail)}
	}
	return out, nil
}
