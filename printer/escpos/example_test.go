package escpos_test

import (
	"fmt"

	"github.com/posagent/posagent/printer/escpos"
)

func ExampleBuilder() {
	var b escpos.Builder
	b.Initialize()
	b.CodeTable(0)
	b.KanjiOn()
	b.Align(escpos.AlignCenter)
	b.Size(2, 2)
	b.Line("電子發票證明聯")
	b.Size(1, 1)
	b.Line("牛奶 🥛 25")
	_ = b.QR([]byte("1234"), 4, escpos.QRLevelL)
	b.FeedAndCut(escpos.CutPartial, 0)
	fmt.Printf("replaced: %q\n", b.Replaced())
	fmt.Print(escpos.Listing(b.Bytes()))
	// Output:
	// replaced: ['🥛']
	// 000000  ESC @
	// 000002  ESC t        0
	// 000005  FS &
	// 000007  ESC a        1
	// 00000a  GS !         17
	// 00000d  TEXT         "電子發票證明聯"
	// 00001b  LF
	// 00001c  GS !         0
	// 00001f  TEXT         "牛奶 ？ 25"
	// 000029  LF
	// 00002a  GS ( k 165   50 0
	// 000033  GS ( k 167   4
	// 00003b  GS ( k 169   48
	// 000043  GS ( k 180   4 bytes "1234"
	// 00004f  GS ( k 181   48
	// 000057  GS V         66 0
}
