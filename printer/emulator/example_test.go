package emulator_test

import (
	"fmt"
	"os"

	"github.com/posagent/posagent/printer/emulator"
)

func ExampleRender() {
	stream := []byte("\x1b@\x1c&\x1ba\x01" + // initialise, Kanji mode, centre
		"\x1d!\x11\xb9\x71\xa4\x6c\xb5\x6f\xb2\xbc\n" + // 電子發票 at double size
		"\x1d!\x00AB-12345678\n" +
		"\x1b\x7f" + // not a command
		"\x1dv0\x00\x30\x00\x10\x00") // a raster whose data never comes
	res, err := emulator.Render(stream, emulator.Options{Width: 384})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Image.Bounds().Dx(), "×", res.Image.Bounds().Dy(), "dots")
	for _, p := range res.Problems {
		fmt.Println(p)
	}
	f, err := os.CreateTemp("", "receipt-*.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := res.WritePNG(f); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 384 × 78 dots
	// offset 34 (0x0022): unknown command ESC 0x7F
	// offset 36 (0x0024): GS v 0: 48×16 bytes of raster need 768 data bytes, the stream has 0 left
}
