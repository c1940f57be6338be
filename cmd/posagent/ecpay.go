package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/posagent/posagent/providers/ecpay"
)

const ecpayUsage = `ecpay encrypt|decrypt [--hash-key K --hash-iv V] [FILE|-]

  encrypt  reads the Data JSON and writes ECPay's encrypted Data (Base64)
  decrypt  reads an encrypted Data field, or a whole captured request or
           answer envelope, and writes the Data JSON

The keys may also come from ECPAY_HASH_KEY and ECPAY_HASH_IV; they are never printed.`

// maxECPayInput bounds what is read: the largest Data (200 items) is far below.
const maxECPayInput = 8 << 20

func runECPay(_ context.Context, std stdio, args []string) error {
	if len(args) == 0 {
		return usagef("usage: posagent %s", ecpayUsage)
	}
	action := args[0]
	if action != "encrypt" && action != "decrypt" {
		return usagef("unknown action %q: encrypt or decrypt", action)
	}
	fs := newFlags("ecpay "+action, std, ecpayUsage)
	// No defaults from the environment here: PrintDefaults would show them.
	key := fs.String("hash-key", "", "ECPay HashKey (16 characters; default $ECPAY_HASH_KEY)")
	iv := fs.String("hash-iv", "", "ECPay HashIV (16 characters; default $ECPAY_HASH_IV)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("at most one input file")
	}
	if *key == "" {
		*key = os.Getenv("ECPAY_HASH_KEY")
	}
	if *iv == "" {
		*iv = os.Getenv("ECPAY_HASH_IV")
	}
	if *key == "" || *iv == "" {
		return usagef("the HashKey and HashIV are required: --hash-key/--hash-iv or ECPAY_HASH_KEY/ECPAY_HASH_IV")
	}
	c, err := ecpay.NewCipher(*key, *iv)
	if err != nil {
		return usagef("%v", err)
	}
	name := "-"
	if len(pos) == 1 {
		name = pos[0]
	}
	in, err := openInput(std, name)
	if err != nil {
		return err
	}
	defer in.Close()
	data, err := io.ReadAll(io.LimitReader(in, maxECPayInput+1))
	if err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	if len(data) > maxECPayInput {
		return fmt.Errorf("input is larger than %d bytes", maxECPayInput)
	}
	data = bytes.TrimSpace(data)
	if action == "encrypt" {
		// JSON is compacted (whitespace only: escapes and key order stay as
		// written); anything else is encrypted as it is.
		var compact bytes.Buffer
		if json.Valid(data) && json.Compact(&compact, data) == nil {
			data = compact.Bytes()
		}
		fmt.Fprintln(std.out, c.Encrypt(data))
		return nil
	}
	field := string(data)
	if strings.HasPrefix(field, "{") {
		var env struct{ Data *string }
		if err := json.Unmarshal(data, &env); err != nil || env.Data == nil {
			return fmt.Errorf("the input is JSON but not an ECPay envelope with a Data field")
		}
		field = *env.Data
	}
	plain, err := c.Decrypt(field)
	if err != nil {
		return err
	}
	std.out.Write(plain)
	fmt.Fprintln(std.out)
	return nil
}
