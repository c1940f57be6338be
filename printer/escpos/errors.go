package escpos

import "fmt"

func errInvalidText(offset int, c byte) error {
	return fmt.Errorf("escpos: text byte %#02x at offset %d is not printable ASCII or a whole classic Big5 pair", c, offset)
}
