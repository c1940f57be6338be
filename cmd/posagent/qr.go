package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// qrKeyEnv holds the QR AES key when --key is not given, so that the key need
// not appear in the shell history or the process list.
const qrKeyEnv = "POSAGENT_QR_KEY"

const qrUsage = `usage:
  posagent qr key SEED
      print the QR AES key the MOF key tool derives from a seed password
  posagent qr encode --key HEX [--encoding utf8|big5|base64] [--max-version N] [--pad-right] [--seller-area TEXT] FILE|-
      print the barcode text, the left QR text and the right QR text of an
      issued invoice (JSON); the key may come from $POSAGENT_QR_KEY instead
  posagent qr decode [--key HEX] LEFT [RIGHT]
      print the fields of a pair of QR texts as JSON; with --key, whether the
      verification field matches (exit 1 when it does not)`

func runQR(ctx context.Context, std stdio, args []string) error {
	if len(args) == 0 {
		return usagef("a subcommand is required\n%s", qrUsage)
	}
	switch args[0] {
	case "key":
		return runQRKey(std, args[1:])
	case "encode":
		return runQREncode(std, args[1:])
	case "decode":
		return runQRDecode(std, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(std.out, qrUsage)
		return nil
	}
	return usagef("unknown subcommand %q\n%s", args[0], qrUsage)
}

func runQRKey(std stdio, args []string) error {
	fs := newFlags("qr key", std, "qr key SEED")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("key takes one seed password")
	}
	seed := pos[0]
	// The MOF tool reads the seed in the JVM's charset; only printable ASCII
	// derives the same key for certain. The seed is a secret: never echo it.
	if seed == "" {
		return errors.New("the seed password is empty")
	}
	for i := 0; i < len(seed); i++ {
		if seed[i] < 0x20 || seed[i] > 0x7E {
			return errors.New("the seed password must be printable ASCII: the MOF tool's handling of other characters is unknown")
		}
	}
	fmt.Fprintln(std.out, qr.DeriveKey(seed).Hex())
	return nil
}

// keyFrom parses a key given on the command line or in the environment,
// naming where it came from and never echoing it.
func keyFrom(source, hex string) (qr.Key, error) {
	// A key read from a file into the environment often keeps its newline.
	k, err := qr.ParseKey(strings.TrimSpace(hex))
	if err != nil {
		var pe *posagent.Error
		if errors.As(err, &pe) {
			return qr.Key{}, fmt.Errorf("%s: %s", source, pe.Message)
		}
		return qr.Key{}, fmt.Errorf("%s: not a QR key", source)
	}
	return k, nil
}

func runQREncode(std stdio, args []string) error {
	fs := newFlags("qr encode", std, "qr encode --key HEX [--encoding utf8|big5|base64] [--max-version N] [--pad-right] [--seller-area TEXT] FILE|-")
	keyHex := fs.String("key", "", "QR AES key, 32 hex characters (default $"+qrKeyEnv+")")
	encoding := fs.String("encoding", "utf8", "item text encoding: utf8, big5 or base64")
	maxVersion := fs.Int("max-version", qr.DefaultMaxVersion, "largest QR version the printer prints legibly (6 to 40)")
	padRight := fs.Bool("pad-right", false, "pad the right text with spaces to the left's QR version")
	sellerArea := fs.String("seller-area", "", "field 9: 10 printable ASCII characters (default **********)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("encode takes one invoice file, or - for standard input")
	}
	source := "--key"
	if *keyHex == "" {
		*keyHex, source = os.Getenv(qrKeyEnv), qrKeyEnv
	}
	if *keyHex == "" {
		return usagef("a QR key is required: --key HEX or $%s", qrKeyEnv)
	}
	key, err := keyFrom(source, *keyHex)
	if err != nil {
		return err
	}
	enc, err := qr.ParseEncoding(*encoding)
	if err != nil {
		return usagef("--encoding %q: use utf8, big5 or base64", *encoding)
	}
	opt := qr.Options{Encoding: enc, MaxVersion: *maxVersion, PadRight: *padRight, SellerArea: *sellerArea}

	in, err := openInput(std, pos[0])
	if err != nil {
		return err
	}
	defer in.Close()
	inv, err := posagent.ReadInvoice(in)
	if err != nil {
		return fmt.Errorf("invoice %s: %w", pos[0], err)
	}
	if err := inv.ValidateIssued(); err != nil {
		return fmt.Errorf("invoice %s: %w", pos[0], err)
	}
	codes, err := qr.Encode(inv, key, opt)
	if err != nil {
		return fmt.Errorf("invoice %s: %w", pos[0], err)
	}
	fmt.Fprintln(std.out, codes.Barcode)
	fmt.Fprintln(std.out, codes.Left)
	fmt.Fprintln(std.out, codes.Right)
	if codes.ItemsRecorded < len(inv.Items) {
		fmt.Fprintf(std.err, "posagent qr encode: note: the codes record %d of %d items; more do not fit QR version %d (--max-version)\n",
			codes.ItemsRecorded, len(inv.Items), opt.MaxVersion)
	}
	return nil
}

// decoded is the JSON of qr decode: the fields, the barcode they imply and,
// with --key, whether the verification field matches.
type decoded struct {
	qr.Fields
	Period   string `json:"period"`
	Barcode  string `json:"barcode"`
	Verified *bool  `json:"verified,omitempty"`
}

func runQRDecode(std stdio, args []string) error {
	fs := newFlags("qr decode", std, "qr decode [--key HEX] LEFT [RIGHT]")
	keyHex := fs.String("key", "", "check the verification field with this QR AES key (32 hex characters)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("decode takes the left QR text and, if there is one, the right")
	}
	var key qr.Key
	if *keyHex != "" {
		if key, err = keyFrom("--key", *keyHex); err != nil {
			return err
		}
	}
	left, right := pos[0], ""
	if len(pos) == 2 {
		right = pos[1]
	}
	var fields qr.Fields
	if utf8.ValidString(left) && utf8.ValidString(right) {
		fields, err = qr.Decode(left, right)
	} else {
		fields, err = qr.DecodeBytes([]byte(left), []byte(right)) // raw Big5 bytes
	}
	if err != nil {
		return fmt.Errorf("malformed code: %w", err)
	}
	out := decoded{Fields: fields, Period: fields.Period().Code(), Barcode: fields.Barcode()}
	var mismatch error
	if *keyHex != "" {
		mismatch = fields.Verify(key)
		ok := mismatch == nil
		out.Verified = &ok
	}
	if err := writeJSON(std.out, out); err != nil {
		return err
	}
	if mismatch != nil {
		fmt.Fprintf(std.err, "posagent qr decode: %v\n", mismatch)
		return exitError{1}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
